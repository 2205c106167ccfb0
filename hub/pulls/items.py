"""One object of a pulled page, checked and placed, as pure code.

An object a party serves on its Sender interface is read like the same object pushed to the hub's
Receiver interface: validated against the OCPI 2.2.1 model, addressed by the Client Owned Object URL
its own ``country_code``/``party_id``/id make (digest §1.9), and kept as the party wrote it (unknown
fields included). Its owner must be a party of the platform it was pulled from, so no platform can
place objects in another party's name.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from hub.errors import InvalidParameters
from hub.mirror.records import DEFAULT_TOKEN_TYPE
from hub.ocpi.base import OcpiModel, parse
from hub.ocpi.v2_2_1.cdrs import CDR
from hub.ocpi.v2_2_1.locations import Location
from hub.ocpi.v2_2_1.sessions import Session
from hub.ocpi.v2_2_1.tariffs import Tariff
from hub.ocpi.v2_2_1.tokens import Token
from hub.platforms import party_key
from hub.routing.requests import ObjectUrl
from hub.routing.table import PartyRef

MODELS: dict[str, type[OcpiModel]] = {
    "locations": Location,
    "tariffs": Tariff,
    "tokens": Token,
    "sessions": Session,
    "cdrs": CDR,
}
_ID_FIELD = {"tokens": "uid"}


class Rejected(Exception):
    """The object is skipped; the message names the field and the rule, or the foreign owner."""


@dataclass(frozen=True)
class Pulled:
    """A valid pulled object and where it belongs."""

    url: ObjectUrl  # /{country_code}/{party_id}/{id}, as a push would name it
    token_type: str | None  # Tokens: the ``type`` that completes the key
    tail: str  # the URL path below a module endpoint, quoted: ``/NL/CPO/LOC1``
    query_string: str  # ``type=RFID`` for Tokens, else empty
    document: dict[str, Any]  # the object as the party wrote it
    body: bytes  # its JSON, the body a push of it carries


def object_id(module: str, item: Any) -> str | None:
    """The id an item claims, whatever else is wrong with it (for the log)."""
    value = item.get(_ID_FIELD.get(module, "id")) if isinstance(item, dict) else None
    return str(value) if value is not None else None


def read_object(module: str, item: Any, owners: Collection[str]) -> Pulled:
    """Check one item of a page of ``module``; ``Rejected`` when it is not a valid object owned by
    one of ``owners`` (party keys, ``CC*PID``)."""
    if not isinstance(item, dict):
        raise Rejected("must be an object")
    try:
        parse(MODELS[module], item)
    except InvalidParameters as error:
        raise Rejected(error.message) from None
    country_code, party_id = str(item["country_code"]), str(item["party_id"])
    identifier = str(item[_ID_FIELD.get(module, "id")])
    if party_key(country_code, party_id) not in owners:
        raise Rejected(f"country_code/party_id: {country_code}*{party_id} is not a party of this platform")
    token_type = str(item.get("type") or DEFAULT_TOKEN_TYPE) if module == "tokens" else None
    return Pulled(
        url=ObjectUrl(PartyRef(country_code, party_id), (identifier,)),
        token_type=token_type,
        tail="/" + "/".join(quote(part, safe="") for part in (country_code, party_id, identifier)),
        query_string=urlencode({"type": token_type}) if token_type is not None else "",
        document=item,
        body=json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode(),
    )
