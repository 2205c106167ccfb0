"""A CDR's charging periods as the clearing engine reads them: in time order, each with its end.

OCPI gives a period only its start: it ends when the next one starts, and the last one ends with
the session (mod_cdrs, 'ChargingPeriod class'). The quantities that are priced come from the
period's dimensions, never from the gap between two start times: a period's TIME volume is the
time the CPO says was spent charging, which need not equal its wall-clock length. The wall clock
only feeds the restrictions (time of day, session duration).

A period that carries a RESERVATION_TIME dimension is a reservation period: it is priced with the
tariff's reservation elements only, and every other period with the other elements only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from hub.clearing.money import ZERO
from hub.ocpi.v2_2_1.cdrs import CDR, CdrDimensionType

SECONDS_PER_HOUR = Decimal(3600)
WH_PER_KWH = Decimal(1000)


@dataclass(frozen=True)
class Period:
    """One charging period: when it runs, which tariff it names, and what it measured."""

    index: int  # position in the CDR's charging_periods, as sent
    start: datetime
    end: datetime
    tariff_id: str | None
    reservation: bool
    energy_kwh: Decimal = ZERO
    time_hours: Decimal = ZERO
    parking_hours: Decimal = ZERO
    reservation_hours: Decimal = ZERO
    min_current: Decimal | None = None
    max_current: Decimal | None = None
    min_power: Decimal | None = None
    max_power: Decimal | None = None

    @property
    def used(self) -> bool:
        """Whether the EV was connected in this period: energy, charging or parking time."""
        return self.energy_kwh > 0 or self.time_hours > 0 or self.parking_hours > 0


_SUMMED = {
    CdrDimensionType.ENERGY: "energy_kwh",
    CdrDimensionType.TIME: "time_hours",
    CdrDimensionType.PARKING_TIME: "parking_hours",
    CdrDimensionType.RESERVATION_TIME: "reservation_hours",
}
_MEASURED = {
    CdrDimensionType.MIN_CURRENT: "min_current",
    CdrDimensionType.MAX_CURRENT: "max_current",
    CdrDimensionType.MIN_POWER: "min_power",
    CdrDimensionType.MAX_POWER: "max_power",
}


def as_cdr(cdr: CDR | Mapping[str, Any]) -> CDR:
    """A CDR model from a model or its JSON document (validated: raises pydantic's ValidationError)."""
    return cdr if isinstance(cdr, CDR) else CDR.model_validate(cdr)


def read_periods(cdr: CDR) -> list[Period]:
    """The CDR's periods sorted by start time (ties keep the order sent), each with its end."""
    ordered = sorted(enumerate(cdr.charging_periods), key=lambda item: (item[1].start_date_time, item[0]))
    periods = []
    for position, (index, period) in enumerate(ordered):
        last = position == len(ordered) - 1
        end = cdr.end_date_time if last else ordered[position + 1][1].start_date_time
        fields: dict[str, Any] = {}
        reservation = False
        for dimension in period.dimensions:
            if dimension.type is CdrDimensionType.RESERVATION_TIME:
                reservation = True
            if dimension.type in _SUMMED:
                name = _SUMMED[dimension.type]
                fields[name] = fields.get(name, ZERO) + dimension.volume
            elif dimension.type in _MEASURED:
                fields.setdefault(_MEASURED[dimension.type], dimension.volume)
        periods.append(
            Period(
                index=index,
                start=period.start_date_time,
                end=end,
                tariff_id=period.tariff_id,
                reservation=reservation,
                **fields,
            )
        )
    return periods


def seconds_between(earlier: datetime, later: datetime) -> Decimal:
    """Exact seconds from ``earlier`` to ``later`` (negative when ``later`` is earlier)."""
    delta: timedelta = later - earlier
    return Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) / 1_000_000


def session_start(cdr: CDR, periods: list[Period]) -> datetime:
    """When charging began: the first period that is not a reservation, else the CDR's start.

    The CDR's own start_date_time is the reservation's start when one came first (mod_cdrs,
    'CDR object'), and a reservation is not part of the charging session's duration.
    """
    for period in periods:
        if not period.reservation:
            return period.start
    return cdr.start_date_time
