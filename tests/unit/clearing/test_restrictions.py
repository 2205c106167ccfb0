"""Tariff restrictions, one table per restriction, read as the spec's TariffRestrictions class."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hub.clearing.restrictions import Moment, element_applies
from hub.ocpi.v2_2_1.tariffs import ReservationRestrictionType, TariffElement

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def element(**restrictions: Any) -> TariffElement:
    return TariffElement.model_validate(
        {"price_components": [{"type": "TIME", "price": 1, "step_size": 1}], "restrictions": restrictions}
    )


def at(
    local: str = "2025-01-15T12:00",  # a Wednesday
    *,
    kwh: str = "0",
    seconds: int = 0,
    measured: dict[str, str] | None = None,
) -> Moment:
    values = {name: Decimal(value) for name, value in (measured or {}).items()}
    return Moment(
        local_time=datetime.fromisoformat(local).replace(tzinfo=AMSTERDAM),
        energy_kwh=Decimal(kwh),
        duration_seconds=Decimal(seconds),
        **values,
    )


def applies(restrictions: dict[str, Any], moment: Moment) -> bool:
    return element_applies(element(**restrictions), moment, reservation=None)


@pytest.mark.parametrize(
    ("start", "end", "clock", "expected"),
    [
        ("22:00", "06:00", "21:59", False),
        ("22:00", "06:00", "22:00", True),  # start inclusive
        ("22:00", "06:00", "23:59", True),
        ("22:00", "06:00", "00:00", True),  # wraps past midnight
        ("22:00", "06:00", "05:59", True),
        ("22:00", "06:00", "06:00", False),  # end exclusive
        ("09:00", "18:00", "08:59", False),
        ("09:00", "18:00", "12:00", True),
        ("09:00", "18:00", "18:00", False),
        ("18:00", "00:00", "17:59", False),  # 00:00 is the end of the day
        ("18:00", "00:00", "23:59", True),
        ("18:00", "00:00", "00:00", False),
        ("08:00", "08:00", "03:00", True),  # start == end: the whole day
        ("17:00", None, "16:59", False),
        ("17:00", None, "23:59", True),
        (None, "17:00", "00:00", True),
        (None, "17:00", "17:00", False),
        (None, "00:00", "13:00", True),
    ],
)
def test_time_of_day(start: str | None, end: str | None, clock: str, expected: bool) -> None:
    restrictions = {key: value for key, value in (("start_time", start), ("end_time", end)) if value}
    assert applies(restrictions, at(f"2025-01-15T{clock}")) is expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [("2025-02-28", False), ("2025-03-01", True), ("2025-03-07", True), ("2025-03-08", False)],
)
def test_dates_run_from_start_date_inclusive_to_end_date_exclusive(day: str, expected: bool) -> None:
    assert applies({"start_date": "2025-03-01", "end_date": "2025-03-08"}, at(f"{day}T00:30")) is expected


def test_dates_and_times_are_local() -> None:
    # 2025-02-28T23:30Z is 2025-03-01T00:30 in Amsterdam.
    utc_evening = datetime.fromisoformat("2025-02-28T23:30:00+00:00")
    moment = Moment(
        local_time=utc_evening.astimezone(AMSTERDAM), energy_kwh=Decimal(0), duration_seconds=Decimal(0)
    )
    assert applies({"start_date": "2025-03-01"}, moment)


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("2025-01-17T23:59", False),
        ("2025-01-18T00:00", True),
        ("2025-01-19T23:59", True),
        ("2025-01-20T00:00", False),
    ],
)
def test_day_of_week(local: str, expected: bool) -> None:
    assert applies({"day_of_week": ["SATURDAY", "SUNDAY"]}, at(local)) is expected


def test_each_restriction_holds_on_its_own_so_a_night_window_stops_at_the_weekday_change() -> None:
    saturday_night = {"day_of_week": ["SATURDAY"], "start_time": "22:00", "end_time": "06:00"}
    assert applies(saturday_night, at("2025-01-18T23:00"))
    assert not applies(saturday_night, at("2025-01-19T02:00"))  # Sunday


@pytest.mark.parametrize(
    ("kwh", "expected"),
    [("9.9999", False), ("10", True), ("29.9999", True), ("30", False)],
)
def test_kwh_tiers_are_min_inclusive_and_max_exclusive(kwh: str, expected: bool) -> None:
    assert applies({"min_kwh": 10, "max_kwh": 30}, at(kwh=kwh)) is expected


@pytest.mark.parametrize(("seconds", "expected"), [(1799, False), (1800, True), (3599, True), (3600, False)])
def test_durations_are_min_inclusive_and_max_exclusive(seconds: int, expected: bool) -> None:
    assert applies({"min_duration": 1800, "max_duration": 3600}, at(seconds=seconds)) is expected


@pytest.mark.parametrize(
    ("measured", "expected"),
    [
        ({"min_power": "22", "max_power": "49.9"}, True),
        ({"min_power": "21.9", "max_power": "40"}, False),  # dipped below the minimum
        ({"min_power": "30", "max_power": "50"}, False),  # reached the maximum
        ({"max_power": "30"}, True),  # only one side measured: it stands for both
        ({"min_power": "49.99"}, True),
        ({}, False),  # nothing measured: the element does not qualify
    ],
)
def test_power_limits_need_the_whole_period_inside(measured: dict[str, str], expected: bool) -> None:
    assert applies({"min_power": 22, "max_power": 50}, at(measured=measured)) is expected


@pytest.mark.parametrize(
    ("measured", "expected"),
    [
        ({"min_current": "16", "max_current": "32"}, True),
        ({"min_current": "10", "max_current": "32"}, False),
        ({"max_current": "15.9"}, False),
        ({}, False),
    ],
)
def test_current_minimum(measured: dict[str, str], expected: bool) -> None:
    assert applies({"min_current": 16}, at(measured=measured)) is expected


def test_all_restrictions_of_an_element_must_hold() -> None:
    restrictions = {"start_time": "09:00", "end_time": "18:00", "max_kwh": 10}
    assert applies(restrictions, at("2025-01-15T10:00", kwh="5"))
    assert not applies(restrictions, at("2025-01-15T10:00", kwh="10"))
    assert not applies(restrictions, at("2025-01-15T19:00", kwh="5"))


@pytest.mark.parametrize(
    ("restriction", "searched", "expected"),
    [
        (None, None, True),
        ("RESERVATION", None, False),  # reservation elements never price charging
        (None, "RESERVATION", False),  # nor charging elements a reservation
        ("RESERVATION", "RESERVATION", True),
        ("RESERVATION_EXPIRES", "RESERVATION", False),
        ("RESERVATION_EXPIRES", "RESERVATION_EXPIRES", True),
    ],
)
def test_reservation_elements_price_reservations_only(
    restriction: str | None, searched: str | None, expected: bool
) -> None:
    restrictions = {"reservation": restriction} if restriction else {}
    kind = ReservationRestrictionType(searched) if searched else None
    unrestricted = TariffElement.model_validate(
        {"price_components": [{"type": "FLAT", "price": 1, "step_size": 1}]}
    )
    tested = element(**restrictions) if restrictions else unrestricted
    assert element_applies(tested, at(), reservation=kind) is expected
