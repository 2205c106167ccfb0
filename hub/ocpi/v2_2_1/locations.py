"""OCPI 2.2.1 locations module: Location → EVSE → Connector and their classes (digest §8).

Field lengths follow the corrected 2.2.1 text (digest §19 item 24): ``Location.address`` is
string(255) and ``Location.state`` string(45).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from hub.ocpi.base import OcpiModel
from hub.ocpi.types import CiString2, CiString3, CiString36, OcpiDateTime, Url, ci_string, string
from hub.ocpi.v2_2_1.common import (
    AdditionalGeoLocation,
    BusinessDetails,
    DisplayText,
    EnergyMix,
    GeoLocation,
    HourMinute,
    Image,
    StrictBool,
    StrictInt,
    String3,
    TokenType,
    rule_broken,
)

# --- Enums (digest §8.5) ---


class Capability(StrEnum):
    """OCPI 2.2.1, mod_locations, 'Capability enum'."""

    CHARGING_PROFILE_CAPABLE = "CHARGING_PROFILE_CAPABLE"
    CHARGING_PREFERENCES_CAPABLE = "CHARGING_PREFERENCES_CAPABLE"
    CHIP_CARD_SUPPORT = "CHIP_CARD_SUPPORT"
    CONTACTLESS_CARD_SUPPORT = "CONTACTLESS_CARD_SUPPORT"
    CREDIT_CARD_PAYABLE = "CREDIT_CARD_PAYABLE"
    DEBIT_CARD_PAYABLE = "DEBIT_CARD_PAYABLE"
    PED_TERMINAL = "PED_TERMINAL"
    REMOTE_START_STOP_CAPABLE = "REMOTE_START_STOP_CAPABLE"
    RESERVABLE = "RESERVABLE"
    RFID_READER = "RFID_READER"
    START_SESSION_CONNECTOR_REQUIRED = "START_SESSION_CONNECTOR_REQUIRED"
    TOKEN_GROUP_CAPABLE = "TOKEN_GROUP_CAPABLE"  # noqa: S105 (an enum value, not a secret)
    UNLOCK_CAPABLE = "UNLOCK_CAPABLE"


class ConnectorFormat(StrEnum):
    """OCPI 2.2.1, mod_locations, 'ConnectorFormat enum'."""

    SOCKET = "SOCKET"
    CABLE = "CABLE"


class ConnectorType(StrEnum):
    """OCPI 2.2.1, mod_locations, 'ConnectorType enum' (note the lower-case IEC 60309 values)."""

    CHADEMO = "CHADEMO"
    CHAOJI = "CHAOJI"
    DOMESTIC_A = "DOMESTIC_A"
    DOMESTIC_B = "DOMESTIC_B"
    DOMESTIC_C = "DOMESTIC_C"
    DOMESTIC_D = "DOMESTIC_D"
    DOMESTIC_E = "DOMESTIC_E"
    DOMESTIC_F = "DOMESTIC_F"
    DOMESTIC_G = "DOMESTIC_G"
    DOMESTIC_H = "DOMESTIC_H"
    DOMESTIC_I = "DOMESTIC_I"
    DOMESTIC_J = "DOMESTIC_J"
    DOMESTIC_K = "DOMESTIC_K"
    DOMESTIC_L = "DOMESTIC_L"
    DOMESTIC_M = "DOMESTIC_M"
    DOMESTIC_N = "DOMESTIC_N"
    DOMESTIC_O = "DOMESTIC_O"
    GBT_AC = "GBT_AC"
    GBT_DC = "GBT_DC"
    IEC_60309_2_single_16 = "IEC_60309_2_single_16"
    IEC_60309_2_three_16 = "IEC_60309_2_three_16"
    IEC_60309_2_three_32 = "IEC_60309_2_three_32"
    IEC_60309_2_three_64 = "IEC_60309_2_three_64"
    IEC_62196_T1 = "IEC_62196_T1"
    IEC_62196_T1_COMBO = "IEC_62196_T1_COMBO"
    IEC_62196_T2 = "IEC_62196_T2"
    IEC_62196_T2_COMBO = "IEC_62196_T2_COMBO"
    IEC_62196_T3A = "IEC_62196_T3A"
    IEC_62196_T3C = "IEC_62196_T3C"
    NEMA_5_20 = "NEMA_5_20"
    NEMA_6_30 = "NEMA_6_30"
    NEMA_6_50 = "NEMA_6_50"
    NEMA_10_30 = "NEMA_10_30"
    NEMA_10_50 = "NEMA_10_50"
    NEMA_14_30 = "NEMA_14_30"
    NEMA_14_50 = "NEMA_14_50"
    PANTOGRAPH_BOTTOM_UP = "PANTOGRAPH_BOTTOM_UP"
    PANTOGRAPH_TOP_DOWN = "PANTOGRAPH_TOP_DOWN"
    TESLA_R = "TESLA_R"
    TESLA_S = "TESLA_S"


class Facility(StrEnum):
    """OCPI 2.2.1, mod_locations, 'Facility enum'."""

    HOTEL = "HOTEL"
    RESTAURANT = "RESTAURANT"
    CAFE = "CAFE"
    MALL = "MALL"
    SUPERMARKET = "SUPERMARKET"
    SPORT = "SPORT"
    RECREATION_AREA = "RECREATION_AREA"
    NATURE = "NATURE"
    MUSEUM = "MUSEUM"
    BIKE_SHARING = "BIKE_SHARING"
    BUS_STOP = "BUS_STOP"
    TAXI_STAND = "TAXI_STAND"
    TRAM_STOP = "TRAM_STOP"
    METRO_STATION = "METRO_STATION"
    TRAIN_STATION = "TRAIN_STATION"
    AIRPORT = "AIRPORT"
    PARKING_LOT = "PARKING_LOT"
    CARPOOL_PARKING = "CARPOOL_PARKING"
    FUEL_STATION = "FUEL_STATION"
    WIFI = "WIFI"


class ParkingRestriction(StrEnum):
    """OCPI 2.2.1, mod_locations, 'ParkingRestriction enum'."""

    EV_ONLY = "EV_ONLY"
    PLUGGED = "PLUGGED"
    DISABLED = "DISABLED"
    CUSTOMERS = "CUSTOMERS"
    MOTORCYCLES = "MOTORCYCLES"


class ParkingType(StrEnum):
    """OCPI 2.2.1, mod_locations, 'ParkingType enum'."""

    ALONG_MOTORWAY = "ALONG_MOTORWAY"
    PARKING_GARAGE = "PARKING_GARAGE"
    PARKING_LOT = "PARKING_LOT"
    ON_DRIVEWAY = "ON_DRIVEWAY"
    ON_STREET = "ON_STREET"
    UNDERGROUND_GARAGE = "UNDERGROUND_GARAGE"


class PowerType(StrEnum):
    """OCPI 2.2.1, mod_locations, 'PowerType enum'."""

    AC_1_PHASE = "AC_1_PHASE"
    AC_2_PHASE = "AC_2_PHASE"
    AC_2_PHASE_SPLIT = "AC_2_PHASE_SPLIT"
    AC_3_PHASE = "AC_3_PHASE"
    DC = "DC"


class Status(StrEnum):
    """OCPI 2.2.1, mod_locations, 'Status enum' (of an EVSE)."""

    AVAILABLE = "AVAILABLE"
    BLOCKED = "BLOCKED"
    CHARGING = "CHARGING"
    INOPERATIVE = "INOPERATIVE"
    OUTOFORDER = "OUTOFORDER"
    PLANNED = "PLANNED"
    REMOVED = "REMOVED"
    RESERVED = "RESERVED"
    UNKNOWN = "UNKNOWN"


# --- Classes (digest §8.4; the shared ones live in common.py) ---


class ExceptionalPeriod(OcpiModel):
    """OCPI 2.2.1, mod_locations, 'ExceptionalPeriod class'."""

    period_begin: OcpiDateTime
    period_end: OcpiDateTime


class RegularHours(OcpiModel):
    """OCPI 2.2.1, mod_locations, 'RegularHours class'."""

    weekday: Annotated[StrictInt, Field(ge=1, le=7)]
    period_begin: HourMinute
    period_end: HourMinute

    @model_validator(mode="after")
    def _end_after_begin(self) -> RegularHours:
        # Both are zero-padded HH:MM, so text order is time order.
        if self.period_end <= self.period_begin:
            raise rule_broken(f"must be later than period_begin ({self.period_begin})", "period_end")
        return self


class Hours(OcpiModel):
    """OCPI 2.2.1, mod_locations, 'Hours class'."""

    twentyfourseven: StrictBool
    regular_hours: list[RegularHours] | None = None
    exceptional_openings: list[ExceptionalPeriod] | None = None
    exceptional_closings: list[ExceptionalPeriod] | None = None

    @model_validator(mode="after")
    def _regular_hours_match_twentyfourseven(self) -> Hours:
        if self.twentyfourseven and self.regular_hours:
            raise rule_broken("must be empty when twentyfourseven is true", "regular_hours")
        if not self.twentyfourseven and not self.regular_hours:
            raise rule_broken("needs at least one entry when twentyfourseven is false", "regular_hours")
        return self


class PublishTokenType(OcpiModel):
    """OCPI 2.2.1, mod_locations, 'PublishTokenType class'."""

    uid: CiString36 | None = None
    type: TokenType | None = None
    visual_number: Annotated[str, string(64)] | None = None
    issuer: Annotated[str, string(64)] | None = None
    group_id: CiString36 | None = None

    @model_validator(mode="after")
    def _enough_to_identify(self) -> PublishTokenType:
        if self.uid is None and self.visual_number is None and self.group_id is None:
            raise rule_broken("at least one of uid, visual_number or group_id is required", "uid")
        if self.uid is not None and self.type is None:
            raise rule_broken("is required when uid is set", "type")
        if self.visual_number is not None and self.issuer is None:
            raise rule_broken("is required when visual_number is set", "issuer")
        return self


class StatusSchedule(OcpiModel):
    """OCPI 2.2.1, mod_locations, 'StatusSchedule class'."""

    period_begin: OcpiDateTime
    period_end: OcpiDateTime | None = None
    status: Status


# --- Objects (digest §8.3) ---


class Connector(OcpiModel):
    """OCPI 2.2.1, mod_locations, 'Connector object'."""

    id: CiString36
    standard: ConnectorType
    format: ConnectorFormat
    power_type: PowerType
    max_voltage: StrictInt
    max_amperage: StrictInt
    max_electric_power: StrictInt | None = None
    tariff_ids: list[CiString36] | None = None
    terms_and_conditions: Url | None = None
    last_updated: OcpiDateTime


class EVSE(OcpiModel):
    """OCPI 2.2.1, mod_locations, 'EVSE object'."""

    uid: CiString36
    evse_id: Annotated[str, ci_string(48)] | None = None
    status: Status
    status_schedule: list[StatusSchedule] | None = None
    capabilities: list[Capability] | None = None
    connectors: Annotated[list[Connector], Field(min_length=1)]
    floor_level: Annotated[str, string(4)] | None = None
    coordinates: GeoLocation | None = None
    physical_reference: Annotated[str, string(16)] | None = None
    directions: list[DisplayText] | None = None
    parking_restrictions: list[ParkingRestriction] | None = None
    images: list[Image] | None = None
    last_updated: OcpiDateTime


class Location(OcpiModel):
    """OCPI 2.2.1, mod_locations, 'Location object'."""

    country_code: CiString2
    party_id: CiString3
    id: CiString36
    publish: StrictBool
    publish_allowed_to: list[PublishTokenType] | None = None
    name: Annotated[str, string(255)] | None = None
    address: Annotated[str, string(255)]
    city: Annotated[str, string(45)]
    postal_code: Annotated[str, string(10)] | None = None
    state: Annotated[str, string(45)] | None = None
    country: String3
    coordinates: GeoLocation
    related_locations: list[AdditionalGeoLocation] | None = None
    parking_type: ParkingType | None = None
    evses: list[EVSE] | None = None
    directions: list[DisplayText] | None = None
    operator: BusinessDetails | None = None
    suboperator: BusinessDetails | None = None
    owner: BusinessDetails | None = None
    facilities: list[Facility] | None = None
    time_zone: Annotated[str, string(255)]
    opening_times: Hours | None = None
    charging_when_closed: StrictBool | None = None
    images: list[Image] | None = None
    energy_mix: EnergyMix | None = None
    last_updated: OcpiDateTime

    @model_validator(mode="after")
    def _publish_allowed_to_only_when_unpublished(self) -> Location:
        if self.publish and self.publish_allowed_to:
            raise rule_broken("may only be set when publish is false", "publish_allowed_to")
        return self
