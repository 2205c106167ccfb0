"""Recomputing a CDR's cost: one test per tariff structure, the expected amounts worked out by hand.

Each expected amount is written as the Decimal arithmetic a person would do on paper: quantity
times price, then times (1 + VAT). The tariffs are in tests/fixtures/clearing.
"""

from __future__ import annotations

import json

import pytest

from hub.clearing.pricing import AmbiguousTariff, MixedCurrencies, TariffNotFound, recompute_cost
from hub.ocpi.v2_2_1.cdrs import CDR
from hub.ocpi.v2_2_1.tariffs import TariffDimensionType
from tests.unit.clearing.builders import D, assert_amount, period, same, session, tariff

VAT_19 = D("1.19")
VAT_20 = D("1.20")
VAT_21 = D("1.21")
VAT_10 = D("1.10")


def test_a_flat_fee_is_charged_once_per_session_however_many_periods() -> None:
    cdr = session(
        period("2025-01-15T09:00:00Z", energy="5"),
        period("2025-01-15T09:30:00Z", energy="3", time="0.5"),
        end="2025-01-15T10:00:00Z",
        tariffs=[tariff("flat_only")],
    )
    cost = recompute_cost(cdr)
    assert_amount(cost.fixed, D("1.50"), D("1.50") * VAT_20)
    assert_amount(cost.energy, D(0), D(0))
    assert_amount(cost.total, D("1.50"), D("1.80"))
    assert [len(p.lines) for p in cost.periods] == [1, 0]


def test_energy_is_priced_per_kwh_and_billed_per_whole_wh() -> None:
    # 12.3456 kWh = 12345.6 Wh; step_size 1 Wh bills 12346 Wh.
    cdr = session(period("2025-01-15T09:00:00Z", energy="12.3456"), end="2025-01-15T11:00:00Z")
    cost = recompute_cost(cdr, tariffs=[tariff("per_kwh")])
    billed = D(12346) / 1000
    assert cost.quantities.energy_kwh == D("12.3456")
    assert cost.quantities.billed_energy_kwh == billed
    assert cost.periods[0].lines[0].step_extra == D("0.0004")
    assert_amount(cost.energy, billed * D("0.30"), billed * D("0.30") * VAT_19)
    assert cost.total == cost.energy


def test_charging_time_is_rounded_up_once_for_the_session_to_its_step() -> None:
    # 12 min + 21 min = 33 min charging; billed per 5 min, so 35 min, not 15 + 25 = 40 min.
    cdr = session(
        period("2025-01-15T09:00:00Z", time="0.2"),
        period("2025-01-15T09:12:00Z", time="0.35"),
        end="2025-01-15T09:33:00Z",
        tariffs=[tariff("per_hour")],
    )
    cost = recompute_cost(cdr)
    billed_hours = D(35) / 60
    assert same(cost.quantities.billed_time_hours, billed_hours)
    assert_amount(cost.time, billed_hours * D("2.40"), billed_hours * D("2.40") * VAT_21)
    # The rounding is billed in the last period that billed time.
    assert cost.periods[0].lines[0].step_extra == 0
    assert same(cost.periods[1].lines[0].step_extra, D(35) / 60 - D("0.55"))


def test_parking_is_billed_in_blocks_of_its_step_size() -> None:
    # Charged 20 kWh, then parked 42 min; parking is billed per 15 min, so 45 min.
    cdr = session(
        period("2025-01-15T09:00:00Z", energy="20"),
        period("2025-01-15T11:00:00Z", parking="0.7"),
        end="2025-01-15T11:42:00Z",
        tariffs=[tariff("parking_15")],
    )
    cost = recompute_cost(cdr)
    assert cost.quantities.billed_parking_hours == D("0.75")
    assert_amount(cost.parking, D("0.75") * 4, D("0.75") * 4 * VAT_21)
    assert_amount(cost.energy, 20 * D("0.29"), 20 * D("0.29") * VAT_21)
    assert_amount(cost.total, D("8.80"), D("8.80") * VAT_21)


def test_with_charging_time_and_parking_only_parking_is_rounded() -> None:
    # 1.2505 h charging (4501.8 s) stays as it is; 18 min parking is billed as 20 min.
    cdr = session(
        period("2025-01-15T09:00:00Z", energy="15.5", time="1.2505"),
        period("2025-01-15T10:15:02Z", parking="0.3"),
        end="2025-01-15T10:33:02Z",
        tariffs=[tariff("combined")],
    )
    cost = recompute_cost(cdr)
    parking_hours = D(20) / 60
    excl = D("0.75") + D("15.5") * D("0.31") + D("1.2505") * D("1.20") + parking_hours * D("3.60")
    assert cost.quantities.billed_time_hours == D("1.2505")
    assert same(cost.quantities.billed_parking_hours, parking_hours)
    assert_amount(cost.total, excl, excl * VAT_20)
    assert cost.total.rounded("EUR").excl_vat == D("8.26")  # 8.2556


def test_a_night_rate_wraps_past_midnight_in_the_locations_time_zone() -> None:
    # Amsterdam is UTC+1 in January: 20:30Z is 21:30 local (day), 21:00Z is 22:00 (night),
    # 23:30Z is 00:30 (night), 05:00Z is 06:00 (day again: end_time is exclusive).
    cdr = session(
        period("2025-01-15T20:30:00Z", energy="4"),
        period("2025-01-15T21:00:00Z", energy="10"),
        period("2025-01-15T23:30:00Z", energy="3"),
        period("2025-01-16T05:00:00Z", energy="2"),
        end="2025-01-16T05:30:00Z",
        tariffs=[tariff("night")],
    )
    local = recompute_cost(cdr, time_zone="Europe/Amsterdam")
    excl = (4 + 2) * D("0.34") + (10 + 3) * D("0.22")
    assert_amount(local.total, excl, excl * VAT_21)
    assert [p.lines[0].price for p in local.periods] == [D("0.34"), D("0.22"), D("0.22"), D("0.34")]

    # Read as UTC the same session is priced differently: 20:30 and 21:00 are day, 05:00 night.
    utc = recompute_cost(cdr)
    excl_utc = (4 + 10) * D("0.34") + (3 + 2) * D("0.22")
    assert_amount(utc.total, excl_utc, excl_utc * VAT_21)


def test_a_weekend_price_starts_on_saturday() -> None:
    # 2025-03-07 is a Friday.
    cdr = session(
        period("2025-03-07T22:00:00Z", energy="6"),
        period("2025-03-08T00:00:00Z", energy="9"),
        end="2025-03-08T01:00:00Z",
        tariffs=[tariff("weekend")],
    )
    cost = recompute_cost(cdr)
    excl = 6 * D("0.32") + 9 * D("0.25")
    assert_amount(cost.total, excl, excl * VAT_19)


@pytest.mark.parametrize(
    ("day", "price"),
    [
        ("2025-02-28", "0.33"),
        ("2025-03-01", "0.19"),  # start_date is inclusive
        ("2025-03-07", "0.19"),
        ("2025-03-08", "0.33"),  # end_date is exclusive
    ],
)
def test_a_promotion_runs_from_its_start_date_to_the_day_before_its_end_date(day: str, price: str) -> None:
    cdr = session(period(f"{day}T12:00:00Z", energy="10"), end=f"{day}T13:00:00Z", tariffs=[tariff("promo")])
    cost = recompute_cost(cdr)
    assert_amount(cost.total, 10 * D(price), 10 * D(price) * VAT_20)


def test_energy_tiers_follow_the_energy_charged_before_each_period() -> None:
    # 0 kWh before the first period (< 10), 10 before the second (min_kwh inclusive),
    # 30 before the third (max_kwh exclusive, so the default).
    cdr = session(
        period("2025-01-15T09:00:00Z", energy="10"),
        period("2025-01-15T09:20:00Z", energy="20"),
        period("2025-01-15T10:00:00Z", energy="5"),
        end="2025-01-15T10:15:00Z",
        tariffs=[tariff("tiers")],
    )
    cost = recompute_cost(cdr)
    excl = 10 * D("0.40") + 20 * D("0.30") + 5 * D("0.25")
    assert_amount(cost.total, excl, excl * VAT_21)
    assert [p.lines[0].element for p in cost.periods] == [0, 1, 2]


def test_the_first_hour_of_charging_time_is_cheaper() -> None:
    # At 11:00 the session has lasted 3600 s: max_duration is exclusive, min_duration inclusive.
    cdr = session(
        period("2025-01-15T10:00:00Z", energy="7", time="1"),
        period("2025-01-15T11:00:00Z", energy="3.5", time="0.5"),
        end="2025-01-15T11:30:00Z",
        tariffs=[tariff("first_hour")],
    )
    cost = recompute_cost(cdr)
    assert_amount(cost.time, 1 * D("1.00") + D("0.5") * D("3.00"), (D("1.00") + D("1.50")) * VAT_20)
    assert_amount(cost.energy, D("10.5") * D("0.20"), D("10.5") * D("0.20") * VAT_20)


def test_a_session_duration_counts_from_charging_not_from_a_reservation() -> None:
    # A 30 min reservation comes first; at 11:00 charging has lasted 30 min, not 1 h.
    cdr = session(
        period("2025-01-15T10:00:00Z", reservation="0.5"),
        period("2025-01-15T10:30:00Z", time="0.5"),
        period("2025-01-15T11:00:00Z", time="0.5"),
        end="2025-01-15T11:30:00Z",
        tariffs=[tariff("first_hour")],
    )
    cost = recompute_cost(cdr)
    assert_amount(cost.time, D("0.5") * 1 + D("0.5") * 1, D("1.00") * VAT_20)


def test_power_restrictions_price_fast_and_slow_charging_differently() -> None:
    cdr = session(
        period("2025-01-15T09:00:00Z", energy="2", min_power="3.7", max_power="11"),
        period("2025-01-15T09:10:00Z", energy="30", min_power="151", max_power="175"),
        period("2025-01-15T09:22:00Z", energy="8", min_power="40", max_power="60"),
        # No power measured: neither restricted element qualifies, so the default price.
        period("2025-01-15T09:35:00Z", energy="1"),
        end="2025-01-15T09:40:00Z",
        tariffs=[tariff("power")],
    )
    cost = recompute_cost(cdr)
    excl = 2 * D("0.35") + 30 * D("0.69") + (8 + 1) * D("0.49")
    assert_amount(cost.total, excl, excl * VAT_21)


def test_current_restrictions_need_the_whole_period_on_one_side_of_the_limit() -> None:
    # Period 1 stays below 16 A, period 2 stays at or above it, period 3 straddles it and so
    # matches neither element: its time is free. The step_size is then that of period 2's
    # component (600 s), the last one that billed time: 1.1 h = 3960 s is billed as 4200 s.
    cdr = session(
        period("2025-01-15T09:00:00Z", time="0.5", max_current="10"),
        period("2025-01-15T09:30:00Z", time="0.6", min_current="16", max_current="32"),
        period("2025-01-15T10:06:00Z", time="0.1", min_current="12", max_current="20"),
        end="2025-01-15T10:12:00Z",
        tariffs=[tariff("current")],
    )
    cost = recompute_cost(cdr)
    excl = D("0.5") * D("0.90") + (D(4200) / 3600 - D("0.5")) * D("1.80")
    assert_amount(cost.time, excl, excl * VAT_20)
    assert cost.periods[2].lines == ()


@pytest.mark.parametrize(
    ("kwh", "excl", "incl", "reason"),
    [
        ("2", D("1.00"), D("1.10"), "min_price"),  # 2 x 0.30 = 0.60 is raised to the minimum
        ("20", 20 * D("0.30"), 20 * D("0.30") * VAT_10, None),
    ],
)
def test_a_minimum_price_raises_a_cheap_session(
    kwh: str, excl: object, incl: object, reason: str | None
) -> None:
    cdr = session(period("2025-01-15T09:00:00Z", energy=kwh), end="2025-01-15T10:00:00Z")
    cost = recompute_cost(cdr, tariffs=[tariff("min_price")])
    assert cost.total.excl_vat == excl
    assert cost.total.incl_vat == incl
    assert cost.adjustment_reason == reason
    assert cost.energy.excl_vat == D(kwh) * D("0.30")  # the dimension keeps its own cost


def test_a_minimum_price_without_vat_moves_the_total_incl_vat_by_the_same_amount() -> None:
    cdr = session(period("2025-01-15T09:00:00Z", energy="2"), end="2025-01-15T10:00:00Z")
    cost = recompute_cost(cdr, tariffs=[tariff("min_price", min_price={"excl_vat": 1})])
    raised_by = D("1.00") - 2 * D("0.30")
    assert_amount(cost.total, D("1.00"), 2 * D("0.30") * VAT_10 + raised_by)


def test_a_maximum_price_caps_an_expensive_session() -> None:
    cdr = session(period("2025-01-15T09:00:00Z", energy="50"), end="2025-01-15T12:00:00Z")
    cost = recompute_cost(cdr, tariffs=[tariff("max_price")])
    subtotal_excl = D("0.40") + 50 * D("0.30")
    subtotal_incl = D("0.40") * VAT_20 + 50 * D("0.30") * VAT_10
    assert_amount(cost.total, D("12.00"), D("13.20"))
    assert_amount(cost.adjustment, D("12.00") - subtotal_excl, D("13.20") - subtotal_incl)
    assert cost.adjustment_reason == "max_price"


def test_maximum_prices_excl_and_incl_vat_apply_independently() -> None:
    # 38 kWh: 11.80 excl. VAT is under 12.00, but 13.02 incl. VAT is over 12.50.
    cdr = session(period("2025-01-15T09:00:00Z", energy="38"), end="2025-01-15T12:00:00Z")
    cost = recompute_cost(cdr, tariffs=[tariff("max_price", max_price={"excl_vat": 12, "incl_vat": 12.5})])
    assert_amount(cost.total, D("0.40") + 38 * D("0.30"), D("12.50"))


def test_a_used_reservation_is_billed_with_its_fee_and_time_in_steps() -> None:
    # Reserved 13 min (0.2167 h, 780 s), billed per 5 min: 15 min. Then 20 kWh charged.
    cdr = session(
        period("2025-01-15T10:00:00Z", reservation="0.2167"),
        period("2025-01-15T10:13:00Z", energy="20"),
        end="2025-01-15T11:00:00Z",
        tariffs=[tariff("reservation")],
    )
    cost = recompute_cost(cdr)
    reservation = D("1.00") + D("0.25") * D("4.00")
    assert_amount(cost.reservation, reservation, reservation * VAT_20)
    assert_amount(cost.fixed, D("0.50"), D("0.50") * VAT_20)
    assert_amount(cost.energy, 20 * D("0.28"), 20 * D("0.28") * VAT_10)
    assert cost.quantities.billed_reservation_hours == D("0.25")


def test_an_expired_reservation_adds_the_expiry_fee_to_the_reserved_time() -> None:
    cdr = session(
        period("2025-01-15T10:00:00Z", reservation="1"),
        end="2025-01-15T11:00:00Z",
        tariffs=[tariff("reservation")],
    )
    cost = recompute_cost(cdr)
    excl = D("3.00") + 1 * D("4.00")  # the expiry element's FLAT, the reservation element's TIME
    assert_amount(cost.reservation, excl, excl * VAT_20)
    assert_amount(cost.fixed, D(0), D(0))  # no charging, so no start fee
    assert cost.total == cost.reservation


@pytest.mark.parametrize(
    ("periods", "reservation_excl", "rest_excl", "rest_incl"),
    [
        # Expired after 1.5 h: the expiry element's time price replaces the reservation's.
        ([period("2025-01-15T10:00:00Z", reservation="1.5")], D("1.5") * 5, D(0), D(0)),
        # Used after 22 min (billed per 10 min: 30 min), then 20 kWh.
        (
            [
                period("2025-01-15T10:00:00Z", reservation="0.3667"),
                period("2025-01-15T10:22:00Z", energy="20"),
            ],
            D("0.5") * D("2.50"),
            D("0.45") + 20 * D("0.27"),
            D("0.45") * VAT_20 + 20 * D("0.27") * VAT_10,
        ),
    ],
)
def test_an_expiry_time_price_applies_only_to_expired_reservations(
    periods: list[dict[str, object]], reservation_excl: object, rest_excl: object, rest_incl: object
) -> None:
    cdr = session(*periods, end="2025-01-15T11:30:00Z", tariffs=[tariff("reservation_expiry_time")])
    cost = recompute_cost(cdr)
    assert cost.reservation.excl_vat == reservation_excl
    assert (cost.total - cost.reservation).excl_vat == rest_excl
    assert (cost.total - cost.reservation).incl_vat == rest_incl


def test_periods_name_their_tariff_and_step_size_rounds_the_session_total_once() -> None:
    # 4.3 kWh on REGULAR (per Wh), then 1.1 kWh on GREEN (per 500 Wh): 5.4 kWh is billed as
    # 5.5 kWh, the extra 0.1 kWh at GREEN's price. The start fee is REGULAR's, once.
    cdr = session(
        period("2025-01-15T09:00:00Z", tariff_id="REGULAR", energy="4.3"),
        period("2025-01-15T10:00:00Z", tariff_id="green", energy="1.1"),  # CiString: any case
        end="2025-01-15T10:30:00Z",
        tariffs=[tariff("regular"), tariff("green")],
    )
    cost = recompute_cost(cdr)
    excl = D("0.50") + D("4.3") * D("0.30") + (D("1.1") + D("0.1")) * D("0.36")
    assert_amount(cost.total, excl, excl * VAT_20)
    assert cost.quantities.billed_energy_kwh == D("5.5")
    assert cost.tariff_ids == ("REGULAR", "GREEN")


def test_tariffs_can_be_passed_in_by_id_when_the_cdr_carries_none() -> None:
    cdr = session(
        period("2025-01-15T09:00:00Z", tariff_id="REGULAR", energy="4.3"),
        period("2025-01-15T10:00:00Z", tariff_id="GREEN", energy="1.1"),
        end="2025-01-15T10:30:00Z",
    )
    passed = recompute_cost(cdr, tariffs=[tariff("green"), tariff("regular"), tariff("per_kwh")])
    carried = recompute_cost({**cdr, "tariffs": [tariff("regular"), tariff("green")]})
    assert passed.total == carried.total


def test_the_cdrs_own_tariff_wins_over_one_passed_in_with_the_same_id() -> None:
    cdr = session(
        period("2025-01-15T09:00:00Z", energy="10"),
        end="2025-01-15T10:00:00Z",
        tariffs=[tariff("per_kwh")],
    )
    dearer = tariff(
        "per_kwh", elements=[{"price_components": [{"type": "ENERGY", "price": 1, "step_size": 1}]}]
    )
    cost = recompute_cost(cdr, tariffs=[dearer])
    assert cost.energy.excl_vat == 10 * D("0.30")


def test_vat_is_per_component_and_absent_vat_means_none_applies() -> None:
    cdr = session(
        period("2025-01-15T09:00:00Z", energy="10"),
        period("2025-01-15T10:00:00Z", parking="0.5"),
        end="2025-01-15T10:30:00Z",
        tariffs=[tariff("vat_mix")],
    )
    cost = recompute_cost(cdr)
    assert_amount(cost.fixed, D("1.00"), D("1.00"))  # 0 % VAT
    assert_amount(cost.energy, 10 * D("0.30"), 10 * D("0.30") * VAT_21)
    assert_amount(cost.parking, D("0.5") * 2, D("0.5") * 2)  # no VAT
    assert_amount(cost.total, D("5.00"), D("1.00") + D("3.63") + D("1.00"))
    parking_line = cost.periods[1].lines[0]
    assert parking_line.vat is None
    assert cost.periods[0].lines[0].vat == 0


@pytest.mark.parametrize(
    ("kwh", "billed_kwh"),
    [
        ("5", "5"),  # exactly on a 500 Wh boundary: nothing is added
        ("5.001", "5.5"),  # one Wh past it: a whole step more
        ("4.9999", "5"),
        ("0.0001", "0.5"),
    ],
)
def test_energy_steps_round_up_to_the_next_boundary_only_when_past_it(kwh: str, billed_kwh: str) -> None:
    cdr = session(period("2025-01-15T09:00:00Z", energy=kwh), end="2025-01-15T10:00:00Z")
    cost = recompute_cost(cdr, tariffs=[tariff("blocks_500")])
    assert cost.quantities.billed_energy_kwh == D(billed_kwh)
    assert_amount(cost.total, D(billed_kwh) * D("0.40"), D(billed_kwh) * D("0.40") * VAT_20)


def test_amounts_stay_exact_and_round_half_up_only_at_the_end() -> None:
    cdr = session(period("2025-01-15T09:00:00Z", energy="1"), end="2025-01-15T10:00:00Z")
    cost = recompute_cost(cdr, tariffs=[tariff("half_cent")])
    assert cost.total.excl_vat == D("0.125")
    assert cost.total.rounded("EUR").excl_vat == D("0.13")  # half up, not half even
    assert cost.total.rounded("EUR").incl_vat == D("0.15")


def test_the_step_size_of_the_last_element_that_billed_time_rounds_the_total() -> None:
    # 16:45-17:00 before 17:00 (per 30 min), 17:00-17:20 after (per 10 min): 35 min in all,
    # billed as 40 min; the extra 5 min at the after-17:00 price.
    cdr = session(
        period("2025-01-15T16:45:00Z", time="0.25"),
        period("2025-01-15T17:00:00Z", time=D(20) / 60),
        end="2025-01-15T17:20:00Z",
        tariffs=[tariff("step_switch")],
    )
    cost = recompute_cost(cdr)
    excl = D("0.25") * D("1.50") + D(25) / 60 * D("3.00")
    assert_amount(cost.total, excl, excl)


def test_parking_that_becomes_free_is_rounded_on_the_billed_part_only() -> None:
    # 12 min charging at 19:40; parking 8 min until 20:00 (billed) and 12 min after (free).
    # Billable parking is 8 min, billed as 10 min; charging time is not rounded.
    cdr = session(
        period("2025-01-15T19:40:00Z", time="0.2"),
        period("2025-01-15T19:52:00Z", parking="0.1333"),
        period("2025-01-15T20:00:00Z", parking="0.2"),
        end="2025-01-15T20:12:00Z",
        tariffs=[tariff("step_switch")],
    )
    cost = recompute_cost(cdr)
    assert_amount(cost.time, D("0.2") * D("3.00"), D("0.60"))
    assert_amount(cost.parking, D(10) / 60 * D("0.80"), D(10) / 60 * D("0.80"))
    assert cost.periods[2].lines == ()


def test_a_zero_length_period_does_not_choose_the_step_size() -> None:
    # 35 min before 17:00 (per 30 min: billed 60 min), then a zero-length period at 17:00 whose
    # component (per 10 min, 3.00) billed nothing and so is not the "last relevant" one.
    cdr = session(
        period("2025-01-15T16:25:00Z", time="0.5833"),
        period("2025-01-15T17:00:00Z", time="0"),
        end="2025-01-15T17:00:00Z",
        tariffs=[tariff("step_switch")],
    )
    cost = recompute_cost(cdr)
    assert_amount(cost.total, 1 * D("1.50"), D("1.50"))
    assert cost.periods[1].lines == ()


def test_hours_are_read_to_the_nearest_second_before_rounding_up_to_the_step() -> None:
    # 10 min sent as 0.1667 h is 600.12 s: with 60 s steps that is 10 min, not 11.
    cdr = session(period("2025-01-15T09:00:00Z", time="0.1667"), end="2025-01-15T09:10:00Z")
    cost = recompute_cost(cdr, tariffs=[tariff("combined")])
    assert same(cost.quantities.billed_time_hours, D(10) / 60)


def test_a_free_of_charge_tariff_costs_nothing() -> None:
    cdr = session(period("2025-01-15T09:00:00Z", energy="30", time="2"), end="2025-01-15T11:00:00Z")
    cost = recompute_cost(cdr, tariffs=[tariff("free")])
    assert cost.total.excl_vat == 0
    assert cost.total.incl_vat == 0
    assert cost.periods[0].lines[0].dimension is TariffDimensionType.FLAT


def test_periods_sent_out_of_order_are_priced_in_time_order() -> None:
    ordered = session(
        period("2025-01-15T09:00:00Z", energy="10"),
        period("2025-01-15T09:20:00Z", energy="20"),
        period("2025-01-15T10:00:00Z", energy="5"),
        end="2025-01-15T10:15:00Z",
        tariffs=[tariff("tiers")],
    )
    shuffled = {**ordered, "charging_periods": list(reversed(ordered["charging_periods"]))}
    cost = recompute_cost(shuffled)
    assert cost.total == recompute_cost(ordered).total
    assert [p.index for p in cost.periods] == [2, 1, 0]  # indexes as sent


def test_a_model_and_its_json_document_cost_the_same() -> None:
    cdr = session(
        period("2025-01-15T09:00:00Z", energy="15.5", time="1.2505"),
        period("2025-01-15T10:15:02Z", parking="0.3"),
        end="2025-01-15T10:33:02Z",
        tariffs=[tariff("combined")],
    )
    model = CDR.model_validate(cdr)
    assert recompute_cost(model).total == recompute_cost(cdr).total


def test_the_breakdown_explains_every_amount_and_serialises_to_json() -> None:
    cdr = session(
        period("2025-01-15T09:00:00Z", energy="20"),
        period("2025-01-15T11:00:00Z", parking="0.7"),
        end="2025-01-15T11:42:00Z",
        tariffs=[tariff("parking_15")],
    )
    cost = recompute_cost(cdr)
    document = json.loads(json.dumps(cost.to_json()))
    assert document["total"] == {"excl_vat": 8.8, "incl_vat": 10.648}
    assert document["periods"][1]["lines"][0]["step_extra"] == 0.05
    line_sum = sum(line["excl_vat"] for p in document["periods"] for line in p["lines"])
    assert line_sum == pytest.approx(document["total"]["excl_vat"])
    text = cost.explain()
    assert "PARKING_TIME: 0.75 h (step_size added 0.05)" in text
    assert "total: 8.80 excl. VAT, 10.65 incl. VAT" in text


def test_a_period_naming_an_unknown_tariff_cannot_be_priced() -> None:
    cdr = session(
        period("2025-01-15T09:00:00Z", tariff_id="GONE", energy="1"),
        end="2025-01-15T10:00:00Z",
        tariffs=[tariff("per_kwh")],
    )
    with pytest.raises(TariffNotFound, match="GONE"):
        recompute_cost(cdr)


def test_without_tariff_ids_several_tariffs_are_ambiguous() -> None:
    cdr = session(
        period("2025-01-15T09:00:00Z", energy="1"),
        end="2025-01-15T10:00:00Z",
        tariffs=[tariff("regular"), tariff("green")],
    )
    with pytest.raises(AmbiguousTariff, match="REGULAR, GREEN"):
        recompute_cost(cdr)


def test_tariffs_in_different_currencies_cannot_price_one_cdr() -> None:
    cdr = session(
        period("2025-01-15T09:00:00Z", tariff_id="REGULAR", energy="1"),
        period("2025-01-15T09:30:00Z", tariff_id="GREEN", energy="1"),
        end="2025-01-15T10:00:00Z",
        tariffs=[tariff("regular"), tariff("green", currency="CHF")],
    )
    with pytest.raises(MixedCurrencies, match="CHF, EUR"):
        recompute_cost(cdr)


def test_a_tariff_not_yet_valid_at_the_start_is_priced_and_noted() -> None:
    cdr = session(period("2025-01-15T09:00:00Z", energy="1"), end="2025-01-15T10:00:00Z")
    cost = recompute_cost(cdr, tariffs=[tariff("per_kwh", start_date_time="2025-02-01T00:00:00Z")])
    assert cost.energy.excl_vat == D("0.30")
    assert [note.code for note in cost.notes] == ["tariff_not_valid"]
