"""OCPP Authorize in OCPI terms (ingest guide §7): which OCPI token a station's id tag is, what the
hub's token cache decides about it, and what an eMSP's answer means to the station.

Pure: no store, no HTTP. ``hub.ocpp.authorize`` looks tokens up and asks eMSPs; this module reads
the token documents and answers it finds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from hub.ocpi.v2_2_1.tokens import AllowedType, WhitelistType
from hub.ocpp.records import OCPP16

# OCPP 2.0.1 IdTokenEnumType → OCPI TokenType (guide §7.3); a 1.6 idTag has no type and is RFID.
V201_TOKEN_TYPE: Mapping[str, str] = {
    "ISO14443": "RFID",
    "ISO15693": "RFID",
    "Central": "APP_USER",
    "Local": "AD_HOC_USER",
    "eMAID": "OTHER",
    "KeyCode": "OTHER",
    "MacAddress": "OTHER",
    "NoAuthorization": "OTHER",
}
# 1.6 parentIdTag is at most 20 characters, 2.0.1 groupIdToken.idToken at most 36.
_V16_ID_TAG_MAX = 20
_V201_ID_TOKEN_MAX = 36


class Outcome(StrEnum):
    """What the hub learnt about a token: an OCPI AllowedType, or one of the hub's own two."""

    ALLOWED = AllowedType.ALLOWED.value
    BLOCKED = AllowedType.BLOCKED.value
    EXPIRED = AllowedType.EXPIRED.value
    NO_CREDIT = AllowedType.NO_CREDIT.value
    NOT_ALLOWED = AllowedType.NOT_ALLOWED.value
    UNKNOWN = "UNKNOWN"  # neither the cache nor the token's eMSP knows the token
    UNREACHABLE = "UNREACHABLE"  # the eMSP did not answer in time and no cache rule applies


# Guide §7.2. 1.6 has no credit status, and no status for a token known nowhere.
V16_STATUS: Mapping[Outcome, str] = {
    Outcome.ALLOWED: "Accepted",
    Outcome.BLOCKED: "Blocked",
    Outcome.EXPIRED: "Expired",
    Outcome.NO_CREDIT: "Blocked",
    Outcome.NOT_ALLOWED: "Invalid",
    Outcome.UNKNOWN: "Invalid",
    Outcome.UNREACHABLE: "Invalid",
}
V201_STATUS: Mapping[Outcome, str] = {
    Outcome.ALLOWED: "Accepted",
    Outcome.BLOCKED: "Blocked",
    Outcome.EXPIRED: "Expired",
    Outcome.NO_CREDIT: "NoCredit",
    Outcome.NOT_ALLOWED: "NotAtThisLocation",
    Outcome.UNKNOWN: "Unknown",
    Outcome.UNREACHABLE: "Invalid",
}


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    # The token's ``group_id``, when the hub knows it: 1.6 parentIdTag, 2.0.1 groupIdToken.
    group_id: str | None = None


def token_type(protocol: str, ocpp_type: str | None = None) -> str:
    """The OCPI TokenType of a station's id tag (1.6) or IdToken type (2.0.1)."""
    if protocol == OCPP16 or ocpp_type is None:
        return "RFID"
    return V201_TOKEN_TYPE.get(ocpp_type, "OTHER")


def decided(outcome: Outcome, token: Mapping[str, Any] | None) -> Decision:
    group = token.get("group_id") if token is not None else None
    return Decision(outcome, group if isinstance(group, str) and group else None)


def from_cache(token: Mapping[str, Any] | None) -> Decision | None:
    """What a mirrored token decides on its own; None: ask the token's eMSP (guide §7.1).

    No token: nobody can be asked, the token is unknown. A token its eMSP marked invalid is blocked
    whatever its whitelist says. A valid ALWAYS or ALLOWED token is accepted without asking;
    ALLOWED_OFFLINE and NEVER (or a whitelist the hub does not know) are asked for.
    """
    if token is None:
        return Decision(Outcome.UNKNOWN)
    if token.get("valid") is not True:
        return decided(Outcome.BLOCKED, token)
    if token.get("whitelist") in (WhitelistType.ALWAYS, WhitelistType.ALLOWED):
        return decided(Outcome.ALLOWED, token)
    return None


def unreachable(token: Mapping[str, Any] | None) -> Decision:
    """The eMSP did not answer: only a valid ALLOWED_OFFLINE token is accepted (guide §7.1)."""
    if (
        token is not None
        and token.get("valid") is True
        and token.get("whitelist") == WhitelistType.ALLOWED_OFFLINE
    ):
        return decided(Outcome.ALLOWED, token)
    return Decision(Outcome.UNREACHABLE)


def answered(http_status: int, body: bytes, token: Mapping[str, Any] | None) -> Decision:
    """An eMSP's answer to ``POST {tokens}/{uid}/authorize``: an AuthorizationInfo envelope.

    OCPI 2004 or HTTP 404 says the eMSP does not know the token; anything else that carries no
    ``allowed`` the hub understands counts as no answer.
    """
    try:
        envelope = json.loads(body)
    except ValueError:
        envelope = None
    if not isinstance(envelope, dict):
        return Decision(Outcome.UNKNOWN) if http_status == 404 else unreachable(token)
    if http_status == 404 or envelope.get("status_code") == 2004:
        return Decision(Outcome.UNKNOWN)
    data = envelope.get("data")
    if not isinstance(data, dict) or envelope.get("status_code") != 1000:
        return unreachable(token)
    allowed = data.get("allowed")
    if not isinstance(allowed, str) or allowed not in AllowedType.__members__:
        return unreachable(token)
    answered_token = data.get("token")
    return decided(Outcome(allowed), answered_token if isinstance(answered_token, dict) else token)


def id_tag_info(decision: Decision) -> dict[str, Any]:
    """1.6 ``idTagInfo`` (snake_case: the library writes it out in camelCase)."""
    info: dict[str, Any] = {"status": V16_STATUS[decision.outcome]}
    if decision.group_id is not None and len(decision.group_id) <= _V16_ID_TAG_MAX:
        info["parent_id_tag"] = decision.group_id
    return info


def id_token_info(decision: Decision, ocpp_type: str) -> dict[str, Any]:
    """2.0.1 ``idTokenInfo``; the group token is given the station's own token type."""
    info: dict[str, Any] = {"status": V201_STATUS[decision.outcome]}
    if decision.group_id is not None and len(decision.group_id) <= _V201_ID_TOKEN_MAX:
        info["group_id_token"] = {"id_token": decision.group_id, "type": ocpp_type}
    return info
