"""OCPI 2.2.1 tokens module: Token, AuthorizationInfo and their classes (digest §13)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from hub.ocpi.base import OcpiModel
from hub.ocpi.types import CiString2, CiString3, CiString36, OcpiDateTime, string
from hub.ocpi.v2_2_1.common import DisplayText, ProfileType, StrictBool, String2, TokenType

__all__ = [
    "AllowedType",
    "AuthorizationInfo",
    "EnergyContract",
    "LocationReferences",
    "Token",
    "TokenType",
    "WhitelistType",
]

# --- Enums (digest §13.4; TokenType is shared and lives in common.py) ---


class AllowedType(StrEnum):
    """OCPI 2.2.1, mod_tokens, 'AllowedType enum'."""

    ALLOWED = "ALLOWED"
    BLOCKED = "BLOCKED"
    EXPIRED = "EXPIRED"
    NO_CREDIT = "NO_CREDIT"
    NOT_ALLOWED = "NOT_ALLOWED"


class WhitelistType(StrEnum):
    """OCPI 2.2.1, mod_tokens, 'WhitelistType enum'."""

    ALWAYS = "ALWAYS"
    ALLOWED = "ALLOWED"
    ALLOWED_OFFLINE = "ALLOWED_OFFLINE"
    NEVER = "NEVER"


# --- Classes (digest §13.3) ---


class EnergyContract(OcpiModel):
    """OCPI 2.2.1, mod_tokens, 'EnergyContract class'."""

    supplier_name: Annotated[str, string(64)]
    contract_id: Annotated[str, string(64)] | None = None


class LocationReferences(OcpiModel):
    """OCPI 2.2.1, mod_tokens, 'LocationReferences class'."""

    location_id: CiString36
    evse_uids: list[CiString36] | None = None


# --- Objects (digest §13.3) ---


class Token(OcpiModel):
    """OCPI 2.2.1, mod_tokens, 'Token object'."""

    country_code: CiString2
    party_id: CiString3
    uid: CiString36
    type: TokenType
    contract_id: CiString36
    visual_number: Annotated[str, string(64)] | None = None
    issuer: Annotated[str, string(64)]
    group_id: CiString36 | None = None
    valid: StrictBool
    whitelist: WhitelistType
    language: String2 | None = None
    default_profile_type: ProfileType | None = None
    energy_contract: EnergyContract | None = None
    last_updated: OcpiDateTime


class AuthorizationInfo(OcpiModel):
    """OCPI 2.2.1, mod_tokens, 'AuthorizationInfo object'."""

    allowed: AllowedType
    token: Token
    location: LocationReferences | None = None
    authorization_reference: CiString36 | None = None
    info: DisplayText | None = None
