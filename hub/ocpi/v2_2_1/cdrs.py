"""OCPI 2.2.1 CDRs module: CDR, its classes, and the signed meter data (digest §10, §11).

Two tolerances the hub decided on (digest §19 items 24, 25):

* ``CdrLocation.evse_uid``/``evse_id``/``connector_id`` may be ``#NA`` (a reservation that never
  became a session); ``#NA`` is a valid CiString, so nothing special is needed to read it.
* ``CDR.start_date_time``/``end_date_time`` accept the spec's sentinel ``1970-1-1T00:00:00Z`` for an
  unknown time, which is not DateTime syntax; it is read as the epoch and written as
  ``1970-01-01T00:00:00Z``.

``SignedValue`` fields are string(5000) (the corrected length, older text said 512).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator

from hub.ocpi.base import OcpiModel
from hub.ocpi.types import CiString2, CiString3, CiString36, Number, OcpiDateTime, ci_string, string
from hub.ocpi.v2_2_1.common import (
    GeoLocation,
    Price,
    StrictBool,
    StrictInt,
    String3,
    TokenType,
    rule_broken,
)
from hub.ocpi.v2_2_1.locations import ConnectorFormat, ConnectorType, PowerType
from hub.ocpi.v2_2_1.tariffs import Tariff

NOT_APPLICABLE = "#NA"

CiString39 = Annotated[str, ci_string(39)]

_UNKNOWN_TIME = re.compile(r"1970-0?1-0?1T00:00:00(?:\.0+)?[Zz]?")
EPOCH_TEXT = "1970-01-01T00:00:00Z"


def _read_unknown_time(value: Any) -> Any:
    if isinstance(value, str) and _UNKNOWN_TIME.fullmatch(value):
        return EPOCH_TEXT
    return value


# A CDR start/end time: an OCPI DateTime, or the "unknown" sentinel of digest §10.3.
CdrDateTime = Annotated[OcpiDateTime, BeforeValidator(_read_unknown_time)]

# --- Enums (digest §10.5) ---


class AuthMethod(StrEnum):
    """OCPI 2.2.1, mod_cdrs, 'AuthMethod enum'."""

    AUTH_REQUEST = "AUTH_REQUEST"
    COMMAND = "COMMAND"
    WHITELIST = "WHITELIST"


class CdrDimensionType(StrEnum):
    """OCPI 2.2.1, mod_cdrs, 'CdrDimensionType enum'."""

    CURRENT = "CURRENT"
    ENERGY = "ENERGY"
    ENERGY_EXPORT = "ENERGY_EXPORT"
    ENERGY_IMPORT = "ENERGY_IMPORT"
    MAX_CURRENT = "MAX_CURRENT"
    MIN_CURRENT = "MIN_CURRENT"
    MAX_POWER = "MAX_POWER"
    MIN_POWER = "MIN_POWER"
    PARKING_TIME = "PARKING_TIME"
    POWER = "POWER"
    RESERVATION_TIME = "RESERVATION_TIME"
    STATE_OF_CHARGE = "STATE_OF_CHARGE"
    TIME = "TIME"


# Marked "S" in the spec: these SHALL only be used in Sessions, never in CDRs.
SESSION_ONLY_DIMENSIONS = frozenset(
    {
        CdrDimensionType.CURRENT,
        CdrDimensionType.ENERGY_EXPORT,
        CdrDimensionType.ENERGY_IMPORT,
        CdrDimensionType.POWER,
        CdrDimensionType.STATE_OF_CHARGE,
    }
)

# --- Classes (digest §10.4, §11) ---


class CdrDimension(OcpiModel):
    """OCPI 2.2.1, mod_cdrs, 'CdrDimension class'."""

    type: CdrDimensionType
    volume: Number


class ChargingPeriod(OcpiModel):
    """OCPI 2.2.1, mod_cdrs, 'ChargingPeriod class' (also used by Session)."""

    start_date_time: OcpiDateTime
    dimensions: Annotated[list[CdrDimension], Field(min_length=1)]
    tariff_id: CiString36 | None = None


class CdrToken(OcpiModel):
    """OCPI 2.2.1, mod_cdrs, 'CdrToken class' (also used by Session)."""

    country_code: CiString2
    party_id: CiString3
    uid: CiString36
    type: TokenType
    contract_id: CiString36


class CdrLocation(OcpiModel):
    """OCPI 2.2.1, mod_cdrs, 'CdrLocation class'."""

    id: CiString36
    name: Annotated[str, string(255)] | None = None
    address: Annotated[str, string(45)]
    city: Annotated[str, string(45)]
    postal_code: Annotated[str, string(10)] | None = None
    state: Annotated[str, string(20)] | None = None
    country: String3
    coordinates: GeoLocation
    evse_uid: CiString36
    evse_id: Annotated[str, ci_string(48)]
    connector_id: CiString36
    connector_standard: ConnectorType
    connector_format: ConnectorFormat
    connector_power_type: PowerType


class SignedValue(OcpiModel):
    """OCPI 2.2.1, mod_cdrs, 'SignedValue class'."""

    nature: Annotated[str, ci_string(32)]
    plain_data: Annotated[str, string(5000)]
    signed_data: Annotated[str, string(5000)]


class SignedData(OcpiModel):
    """OCPI 2.2.1, mod_cdrs, 'SignedData class'."""

    encoding_method: CiString36
    encoding_method_version: StrictInt | None = None
    public_key: Annotated[str, string(512)] | None = None
    signed_values: Annotated[list[SignedValue], Field(min_length=1)]
    url: Annotated[str, string(512)] | None = None


# --- Object (digest §10.3) ---


class CDR(OcpiModel):
    """OCPI 2.2.1, mod_cdrs, 'CDR object'."""

    country_code: CiString2
    party_id: CiString3
    id: CiString39
    start_date_time: CdrDateTime
    end_date_time: CdrDateTime
    session_id: CiString36 | None = None
    cdr_token: CdrToken
    auth_method: AuthMethod
    authorization_reference: CiString36 | None = None
    cdr_location: CdrLocation
    meter_id: Annotated[str, string(255)] | None = None
    currency: String3
    tariffs: list[Tariff] | None = None
    charging_periods: Annotated[list[ChargingPeriod], Field(min_length=1)]
    signed_data: SignedData | None = None
    total_cost: Price
    total_fixed_cost: Price | None = None
    total_energy: Number
    total_energy_cost: Price | None = None
    total_time: Number
    total_time_cost: Price | None = None
    total_parking_time: Number | None = None
    total_parking_cost: Price | None = None
    total_reservation_cost: Price | None = None
    remark: Annotated[str, string(255)] | None = None
    invoice_reference_id: CiString39 | None = None
    credit: StrictBool | None = None
    credit_reference_id: CiString39 | None = None
    home_charging_compensation: StrictBool | None = None
    last_updated: OcpiDateTime

    @model_validator(mode="after")
    def _credit_needs_reference(self) -> CDR:
        if self.credit and self.credit_reference_id is None:
            raise rule_broken("is required when credit is true", "credit_reference_id")
        return self

    @model_validator(mode="after")
    def _no_session_only_dimensions(self) -> CDR:
        for p_index, period in enumerate(self.charging_periods):
            for d_index, dimension in enumerate(period.dimensions):
                if dimension.type in SESSION_ONLY_DIMENSIONS:
                    raise rule_broken(
                        f"{dimension.type.value} may only be used in Sessions, not in CDRs",
                        "charging_periods",
                        p_index,
                        "dimensions",
                        d_index,
                        "type",
                    )
        return self
