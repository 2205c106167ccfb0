"""Whether a tariff element's restrictions hold when a charging period starts.

OCPI requires a new charging period whenever another price component becomes active
(mod_cdrs, 'ChargingPeriod class'), so a restriction's state cannot change inside a period and
testing it once, at the period's start, decides the whole period. Restrictions in one element are
ANDed; each is tested on its own, against the local time at the period's start.

Where the spec leaves room, these are the readings taken here:

* ``start_time``/``end_time``: active from start (inclusive) to end (exclusive); ``end < start``
  wraps past midnight; ``end_time`` 00:00 is the end of the day; ``start == end`` is all day. Time
  of day, date and weekday are each tested against the same local moment, so a 22:00-06:00 window
  restricted to SATURDAY does not reach into Sunday morning.
* ``min_kwh``/``max_kwh``: against the energy charged in the session before the period
  (min inclusive, max exclusive).
* ``min_duration``/``max_duration``: against the session's duration at the period's start, in
  seconds, counted from the first period that is not a reservation (min inclusive, max exclusive).
* ``min_current``/``max_current`` and ``min_power``/``max_power``: the whole period must qualify.
  ``min_*`` holds when the period's lowest value (its MIN_ dimension, else its MAX_ one) reaches
  the limit; ``max_*`` when its highest value (MAX_, else MIN_) stays below it. A period that
  measured neither does not qualify, so the element's price is not used and a later element's is.
* ``reservation``: an element with this field prices reservation periods only, one without it
  charging periods only; which kind is searched is the caller's choice (see ``hub.clearing.pricing``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from hub.ocpi.v2_2_1.tariffs import DayOfWeek, ReservationRestrictionType, TariffElement, TariffRestrictions

_WEEKDAYS = tuple(DayOfWeek)  # MONDAY first, as datetime.weekday() counts
_MIDNIGHT = time(0, 0)


@dataclass(frozen=True)
class Moment:
    """Where a session stands when a charging period starts."""

    local_time: datetime  # the period's start, in the location's time zone
    energy_kwh: Decimal  # charged in the session before this period
    duration_seconds: Decimal  # session duration at this period's start
    min_current: Decimal | None = None
    max_current: Decimal | None = None
    min_power: Decimal | None = None
    max_power: Decimal | None = None


def element_applies(
    element: TariffElement, moment: Moment, *, reservation: ReservationRestrictionType | None
) -> bool:
    """Whether ``element`` prices a period of kind ``reservation`` (None: charging) at ``moment``."""
    restrictions = element.restrictions
    if restrictions is None:
        return reservation is None
    if restrictions.reservation != reservation:
        return False
    return restrictions_hold(restrictions, moment)


def restrictions_hold(restrictions: TariffRestrictions, moment: Moment) -> bool:
    """Whether all of ``restrictions`` (apart from ``reservation``) hold at ``moment``."""
    return (
        _within_time_of_day(restrictions.start_time, restrictions.end_time, moment.local_time.time())
        and _within_dates(restrictions.start_date, restrictions.end_date, moment.local_time.date())
        and _on_day(restrictions.day_of_week, moment.local_time)
        and _within(moment.energy_kwh, restrictions.min_kwh, restrictions.max_kwh)
        and _within(
            moment.duration_seconds,
            _decimal(restrictions.min_duration),
            _decimal(restrictions.max_duration),
        )
        and _measured_within(
            moment.min_current, moment.max_current, restrictions.min_current, restrictions.max_current
        )
        and _measured_within(
            moment.min_power, moment.max_power, restrictions.min_power, restrictions.max_power
        )
    )


def _hour_minute(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _within_time_of_day(start_text: str | None, end_text: str | None, now: time) -> bool:
    start = _hour_minute(start_text) if start_text is not None else _MIDNIGHT
    end = _hour_minute(end_text) if end_text is not None else _MIDNIGHT
    if end == _MIDNIGHT:  # no end, or 00:00: until the end of the day
        return now >= start
    if start == end:  # from a time of day to the same time the next day
        return True
    if start < end:
        return start <= now < end
    return now >= start or now < end  # wraps past midnight


def _within_dates(start_text: str | None, end_text: str | None, today: date) -> bool:
    if start_text is not None and today < date.fromisoformat(start_text):
        return False
    return not (end_text is not None and today >= date.fromisoformat(end_text))


def _on_day(days: list[DayOfWeek] | None, local_time: datetime) -> bool:
    return not days or _WEEKDAYS[local_time.weekday()] in days


def _decimal(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _within(value: Decimal, minimum: Decimal | None, maximum: Decimal | None) -> bool:
    if minimum is not None and value < minimum:
        return False
    return not (maximum is not None and value >= maximum)


def _measured_within(
    lowest: Decimal | None, highest: Decimal | None, minimum: Decimal | None, maximum: Decimal | None
) -> bool:
    if minimum is not None:
        low = lowest if lowest is not None else highest
        if low is None or low < minimum:
            return False
    if maximum is not None:
        high = highest if highest is not None else lowest
        if high is None or high >= maximum:
            return False
    return True
