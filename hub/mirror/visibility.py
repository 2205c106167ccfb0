"""Who may see a mirrored object (digest §8.1 publish rules, §19 item 37).

Pure: the caller passes the documents the decision needs. The answer is the record's
``audience``: None when every connected party may see the object, else the party keys
(``CC*PID``, upper-cased) that may.

* Locations with ``publish`` true: everyone. Otherwise: the owning CPO, and the eMSPs owning a
  token that matches an entry of ``publish_allowed_to`` (all fields set in the entry must match).
* Sessions and CDRs: the owning CPO and the eMSP of the ``cdr_token``.
* Tariffs and Tokens: everyone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hub.mirror.records import MirroredModule

# PublishTokenType fields, and whether they compare without regard to case (CiString, enum) or
# exactly (string).
_PUBLISH_FIELDS = {"uid": True, "type": True, "visual_number": False, "issuer": False, "group_id": True}


def party_key(country_code: str, party_id: str) -> str:
    return f"{country_code.upper()}*{party_id.upper()}"


def audience(
    module: str, document: Mapping[str, Any], *, tokens: Iterable[Mapping[str, Any]] = ()
) -> list[str] | None:
    """The party keys that may see ``document``, owner first; None: everyone may.

    ``tokens``: mirrored Token documents to match a Location's ``publish_allowed_to`` against
    (only read for unpublished Locations; tokens that match no entry are ignored).
    """
    owner = party_key(document["country_code"], document["party_id"])
    match MirroredModule(module):
        case MirroredModule.LOCATIONS:
            # Anything but an explicit publish=true stays private: a missing flag must not leak.
            if document.get("publish") is True:
                return None
            entries = document.get("publish_allowed_to") or []
            allowed = {
                party_key(token["country_code"], token["party_id"])
                for token in tokens
                if any(token_matches(entry, token) for entry in entries)
            }
            return _owner_first(owner, allowed)
        case MirroredModule.SESSIONS | MirroredModule.CDRS:
            cdr_token = document.get("cdr_token") or {}
            if "country_code" in cdr_token and "party_id" in cdr_token:
                return _owner_first(owner, {party_key(cdr_token["country_code"], cdr_token["party_id"])})
            return [owner]
        case MirroredModule.TARIFFS | MirroredModule.TOKENS:
            return None


def token_matches(entry: Mapping[str, Any], token: Mapping[str, Any]) -> bool:
    """Whether ``token`` matches a PublishTokenType: every field set in the entry is equal."""
    compared = False
    for field, ignore_case in _PUBLISH_FIELDS.items():
        wanted = entry.get(field)
        if wanted is None:
            continue
        have = token.get(field)
        if have is None:
            return False
        if ignore_case:
            wanted, have = str(wanted).upper(), str(have).upper()
        if wanted != have:
            return False
        compared = True
    # An entry with no field set (invalid OCPI) matches nobody.
    return compared


def _owner_first(owner: str, others: Iterable[str]) -> list[str]:
    return [owner, *sorted(set(others) - {owner})]
