"""OCPI 2.2.1 tariffs module: Tariff → TariffElement → PriceComponent + TariffRestrictions (digest §12).

Tariffs have no PATCH in 2.2.1 (PUT and DELETE only), so there is no partial variant here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from hub.ocpi.base import OcpiModel
from hub.ocpi.types import CiString2, CiString3, CiString36, Number, OcpiDateTime, Url, string
from hub.ocpi.v2_2_1.common import (
    DisplayText,
    EnergyMix,
    HourMinute,
    Price,
    StrictInt,
    String3,
    rule_broken,
    text_matching,
)

# --- Enums (digest §12.5) ---


class DayOfWeek(StrEnum):
    """OCPI 2.2.1, mod_tariffs, 'DayOfWeek enum'."""

    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"


class ReservationRestrictionType(StrEnum):
    """OCPI 2.2.1, mod_tariffs, 'ReservationRestrictionType enum'."""

    RESERVATION = "RESERVATION"
    RESERVATION_EXPIRES = "RESERVATION_EXPIRES"


class TariffDimensionType(StrEnum):
    """OCPI 2.2.1, mod_tariffs, 'TariffDimensionType enum'."""

    ENERGY = "ENERGY"
    FLAT = "FLAT"
    PARKING_TIME = "PARKING_TIME"
    TIME = "TIME"


class TariffType(StrEnum):
    """OCPI 2.2.1, mod_tariffs, 'TariffType enum'."""

    AD_HOC_PAYMENT = "AD_HOC_PAYMENT"
    PROFILE_CHEAP = "PROFILE_CHEAP"
    PROFILE_FAST = "PROFILE_FAST"
    PROFILE_GREEN = "PROFILE_GREEN"
    REGULAR = "REGULAR"


# string(10), a local date ``YYYY-MM-DD``.
LocalDate = Annotated[
    str,
    string(10),
    text_matching(r"([12][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])", "2015-12-24"),
]

# --- Classes (digest §12.4) ---


class PriceComponent(OcpiModel):
    """OCPI 2.2.1, mod_tariffs, 'PriceComponent class'."""

    type: TariffDimensionType
    price: Number
    vat: Number | None = None
    # Billing block in Wh or s. The spec sets no lower bound; negatives are refused, 0 (seen in the
    # official free-of-charge example, digest §19 item 38) is tolerated.
    step_size: Annotated[StrictInt, Field(ge=0)]


class TariffRestrictions(OcpiModel):
    """OCPI 2.2.1, mod_tariffs, 'TariffRestrictions class'."""

    start_time: HourMinute | None = None
    end_time: HourMinute | None = None
    start_date: LocalDate | None = None
    end_date: LocalDate | None = None
    min_kwh: Number | None = None
    max_kwh: Number | None = None
    min_current: Number | None = None
    max_current: Number | None = None
    min_power: Number | None = None
    max_power: Number | None = None
    min_duration: StrictInt | None = None
    max_duration: StrictInt | None = None
    day_of_week: list[DayOfWeek] | None = None
    reservation: ReservationRestrictionType | None = None


_RESERVATION_DIMENSIONS = frozenset({TariffDimensionType.FLAT, TariffDimensionType.TIME})


class TariffElement(OcpiModel):
    """OCPI 2.2.1, mod_tariffs, 'TariffElement class'."""

    price_components: Annotated[list[PriceComponent], Field(min_length=1)]
    restrictions: TariffRestrictions | None = None

    @model_validator(mode="after")
    def _reservation_prices_only_flat_or_time(self) -> TariffElement:
        if self.restrictions is None or self.restrictions.reservation is None:
            return self
        for index, component in enumerate(self.price_components):
            if component.type not in _RESERVATION_DIMENSIONS:
                raise rule_broken(
                    "must be FLAT or TIME in an element with a reservation restriction",
                    "price_components",
                    index,
                    "type",
                )
        return self


# --- Object (digest §12.4) ---


class Tariff(OcpiModel):
    """OCPI 2.2.1, mod_tariffs, 'Tariff object'."""

    country_code: CiString2
    party_id: CiString3
    id: CiString36
    currency: String3
    type: TariffType | None = None
    tariff_alt_text: list[DisplayText] | None = None
    tariff_alt_url: Url | None = None
    min_price: Price | None = None
    max_price: Price | None = None
    elements: Annotated[list[TariffElement], Field(min_length=1)]
    start_date_time: OcpiDateTime | None = None
    end_date_time: OcpiDateTime | None = None
    energy_mix: EnergyMix | None = None
    last_updated: OcpiDateTime
