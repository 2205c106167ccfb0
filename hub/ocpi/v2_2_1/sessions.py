"""OCPI 2.2.1 sessions module: Session and ChargingPreferences (digest §9).

``evse_uid``/``connector_id`` may be ``#NA`` for a reservation without an EVSE (digest §1.12); it
is a valid CiString, so it reads like any id.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from hub.ocpi.base import OcpiModel
from hub.ocpi.types import CiString2, CiString3, CiString36, Number, OcpiDateTime, string
from hub.ocpi.v2_2_1.cdrs import AuthMethod, CdrToken, ChargingPeriod
from hub.ocpi.v2_2_1.common import Price, ProfileType, StrictBool, String3

__all__ = [
    "ChargingPreferences",
    "ChargingPreferencesResponse",
    "ProfileType",
    "Session",
    "SessionStatus",
]

# --- Enums (digest §9.4; ProfileType is shared and lives in common.py) ---


class ChargingPreferencesResponse(StrEnum):
    """OCPI 2.2.1, mod_sessions, 'ChargingPreferencesResponse enum'."""

    ACCEPTED = "ACCEPTED"
    DEPARTURE_REQUIRED = "DEPARTURE_REQUIRED"
    ENERGY_NEED_REQUIRED = "ENERGY_NEED_REQUIRED"
    NOT_POSSIBLE = "NOT_POSSIBLE"
    PROFILE_TYPE_NOT_SUPPORTED = "PROFILE_TYPE_NOT_SUPPORTED"


class SessionStatus(StrEnum):
    """OCPI 2.2.1, mod_sessions, 'SessionStatus enum' (``RESERVATION``, not the prose's "RESERVED")."""

    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    INVALID = "INVALID"
    PENDING = "PENDING"
    RESERVATION = "RESERVATION"


# --- Objects (digest §9.3) ---


class ChargingPreferences(OcpiModel):
    """OCPI 2.2.1, mod_sessions, 'ChargingPreferences object'."""

    profile_type: ProfileType
    departure_time: OcpiDateTime | None = None
    energy_need: Number | None = None
    discharge_allowed: StrictBool | None = None


class Session(OcpiModel):
    """OCPI 2.2.1, mod_sessions, 'Session object'."""

    country_code: CiString2
    party_id: CiString3
    id: CiString36
    start_date_time: OcpiDateTime
    end_date_time: OcpiDateTime | None = None
    kwh: Number
    cdr_token: CdrToken
    auth_method: AuthMethod
    authorization_reference: CiString36 | None = None
    location_id: CiString36
    evse_uid: CiString36
    connector_id: CiString36
    meter_id: Annotated[str, string(255)] | None = None
    currency: String3
    charging_periods: list[ChargingPeriod] | None = None
    total_cost: Price | None = None
    status: SessionStatus
    last_updated: OcpiDateTime
