"""The Location template: what the operator knows about a station's site, read from a JSON file.

Pure. OCPP tells the hub nothing about the site (no address, no coordinates, no connector types; guide
§3.2), so ``stations add`` takes a file with the OCPI Location fields the operator knows, plus two
keys of the hub's own:

* ``connector``: the OCPI Connector fields every connector gets (``standard``, ``format``,
  ``power_type``, ``max_voltage``, ``max_amperage``, …);
* ``evses`` (optional): per OCPP EVSE number (1.6: connectorId), OCPI EVSE fields to publish
  (``evse_id``, ``physical_reference``, …) and ``connectors`` overriding ``connector`` per
  connector number.

The hub fills in what is its to give: ``country_code``, ``party_id``, ``id``, ``evses`` and every
``last_updated``. ``publish`` defaults to true.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from hub.ocpi.base import describe
from hub.ocpi.types import format_datetime
from hub.ocpi.v2_2_1.locations import Location, Status

_SET_BY_HUB = ("id", "country_code", "party_id", "last_updated")
_HUB_KEYS = ("connector", "evses")
# OCPI ids are CiString(36); an EVSE uid is ``{location_id}*{evse}``, so the Location id keeps room
# for up to three digits of EVSE number. Ids travel in URL paths: no slashes, no spaces.
LOCATION_ID = re.compile(r"^[A-Za-z0-9._\-]{1,32}$")
# OCPP 2.0.1 allows identities up to 48 characters; a colon cannot be an HTTP Basic user name.
STATION_ID = re.compile(r"^[A-Za-z0-9._*\-]{1,48}$")


class TemplateError(ValueError):
    """The Location template cannot make a valid OCPI Location; the message says why."""


def evse_uid(location_id: str, evse: int) -> str:
    """The OCPI EVSE uid of a station's EVSE (1.6: connector) number: ``CS001*2``.

    Deterministic, so every hub process and every restart names it alike; unique in the CPO because
    Location ids are.
    """
    return f"{location_id}*{evse}"


def evse_fields(template: Mapping[str, Any], evse: int) -> dict[str, Any]:
    """The operator's extra OCPI EVSE fields for this EVSE number (its ``connectors`` left out)."""
    fields = dict(_evse_entry(template, evse))
    fields.pop("connectors", None)
    return fields


def connector_fields(template: Mapping[str, Any], evse: int, connector: int) -> dict[str, Any]:
    """The OCPI Connector fields of one connector: the template's ``connector``, overridden per EVSE."""
    overrides = _evse_entry(template, evse).get("connectors") or {}
    return {**(template.get("connector") or {}), **(overrides.get(str(connector)) or {})}


def location_document(
    template: Mapping[str, Any],
    *,
    country_code: str,
    party_id: str,
    location_id: str,
    evses: list[dict[str, Any]],
    last_updated: datetime,
) -> dict[str, Any]:
    """The OCPI Location: the template's Location fields, the ids, and the EVSEs given."""
    fields = {k: v for k, v in template.items() if k not in _HUB_KEYS and k not in _SET_BY_HUB}
    document: dict[str, Any] = {"country_code": country_code, "party_id": party_id, "id": location_id}
    document["publish"] = True
    document.update(fields)
    if evses:
        document["evses"] = evses
    document["last_updated"] = format_datetime(last_updated)
    return document


def check_template(
    template: Any, *, country_code: str, party_id: str, location_id: str, now: datetime
) -> dict[str, Any]:
    """The template, if it makes a valid OCPI Location with each EVSE it names (at least EVSE 1);
    ``TemplateError`` naming the problem otherwise."""
    if not isinstance(template, dict):
        raise TemplateError("the Location file must hold one JSON object")
    if not LOCATION_ID.match(location_id):
        raise TemplateError(
            f"location id {location_id!r}: 1 to 32 characters of letters, digits, '.', '_' or '-'"
        )
    present = [key for key in _SET_BY_HUB if key in template]
    if present:
        raise TemplateError(f"{', '.join(present)}: set by the hub; leave them out of the Location file")
    if not isinstance(template.get("connector"), dict):
        raise TemplateError(
            "connector: an object with the OCPI Connector fields every connector gets "
            "(standard, format, power_type, max_voltage, max_amperage) is required"
        )
    entries = template.get("evses") or {}
    if not isinstance(entries, dict) or not all(
        key.isdigit() and int(key) >= 1 and isinstance(value, dict) for key, value in entries.items()
    ):
        raise TemplateError('evses: an object keyed by OCPP EVSE number ("1", "2", …) of objects')
    numbers = sorted({1, *(int(key) for key in entries)})
    if numbers[-1] > 999:
        raise TemplateError("evses: EVSE numbers go up to 999")
    stamp = format_datetime(now)
    sample = [
        {
            **evse_fields(template, evse),
            "uid": evse_uid(location_id, evse),
            "status": Status.AVAILABLE.value,
            "connectors": [{**connector_fields(template, evse, 1), "id": "1", "last_updated": stamp}],
            "last_updated": stamp,
        }
        for evse in numbers
    ]
    document = location_document(
        template,
        country_code=country_code,
        party_id=party_id,
        location_id=location_id,
        evses=sample,
        last_updated=now,
    )
    try:
        Location.model_validate(document)
    except ValidationError as error:
        raise TemplateError(f"the Location it makes is not valid OCPI: {describe(error)}") from None
    return template


def _evse_entry(template: Mapping[str, Any], evse: int) -> Mapping[str, Any]:
    entry = (template.get("evses") or {}).get(str(evse))
    return entry if isinstance(entry, Mapping) else {}
