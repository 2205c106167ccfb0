"""OCPI 2.2.1 charging profiles module (digest §15).

Rates (``limit``, ``min_charging_rate``) accept at most one decimal, as the spec states.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from hub.ocpi.base import OcpiModel
from hub.ocpi.types import Number, OcpiDateTime, Url
from hub.ocpi.v2_2_1.common import StrictInt

# A number with at most one digit after the decimal point, e.g. 8.1.
Rate = Annotated[Number, Field(decimal_places=1)]

# --- Enums (digest §15.3) ---


class ChargingRateUnit(StrEnum):
    """OCPI 2.2.1, mod_charging_profiles, 'ChargingRateUnit enum'."""

    W = "W"
    A = "A"


class ChargingProfileResponseType(StrEnum):
    """OCPI 2.2.1, mod_charging_profiles, 'ChargingProfileResponseType enum'."""

    ACCEPTED = "ACCEPTED"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    TOO_OFTEN = "TOO_OFTEN"
    UNKNOWN_SESSION = "UNKNOWN_SESSION"


class ChargingProfileResultType(StrEnum):
    """OCPI 2.2.1, mod_charging_profiles, 'ChargingProfileResultType enum'."""

    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"


# --- Classes (digest §15.2) ---


class ChargingProfilePeriod(OcpiModel):
    """OCPI 2.2.1, mod_charging_profiles, 'ChargingProfilePeriod class'."""

    start_period: StrictInt
    limit: Rate


class ChargingProfile(OcpiModel):
    """OCPI 2.2.1, mod_charging_profiles, 'ChargingProfile class'."""

    start_date_time: OcpiDateTime | None = None
    duration: StrictInt | None = None
    charging_rate_unit: ChargingRateUnit
    min_charging_rate: Rate | None = None
    charging_profile_period: list[ChargingProfilePeriod] | None = None


# --- Objects (digest §15.2) ---


class ActiveChargingProfile(OcpiModel):
    """OCPI 2.2.1, mod_charging_profiles, 'ActiveChargingProfile object'."""

    start_date_time: OcpiDateTime
    charging_profile: ChargingProfile


class SetChargingProfile(OcpiModel):
    """OCPI 2.2.1, mod_charging_profiles, 'SetChargingProfile object'."""

    charging_profile: ChargingProfile
    response_url: Url


class ChargingProfileResponse(OcpiModel):
    """OCPI 2.2.1, mod_charging_profiles, 'ChargingProfileResponse object'."""

    result: ChargingProfileResponseType
    timeout: StrictInt


class ActiveChargingProfileResult(OcpiModel):
    """OCPI 2.2.1, mod_charging_profiles, 'ActiveChargingProfileResult object'."""

    result: ChargingProfileResultType
    profile: ActiveChargingProfile | None = None


class ChargingProfileResult(OcpiModel):
    """OCPI 2.2.1, mod_charging_profiles, 'ChargingProfileResult object'."""

    result: ChargingProfileResultType


class ClearProfileResult(OcpiModel):
    """OCPI 2.2.1, mod_charging_profiles, 'ClearProfileResult object'."""

    result: ChargingProfileResultType
