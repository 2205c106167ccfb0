"""Rounding and comparing amounts: half up, to the currency's minor unit, one unit of tolerance."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.clearing.money import Amount, round_money, same_money, tolerance, with_vat


@pytest.mark.parametrize(
    ("value", "currency", "rounded"),
    [
        ("0.125", "EUR", "0.13"),  # half up, where banker's rounding would give 0.12
        ("0.135", "EUR", "0.14"),
        ("-0.125", "EUR", "-0.13"),  # half away from zero for credits
        ("0.1249999", "EUR", "0.12"),
        ("1234.5", "JPY", "1235"),
        ("1.2345", "KWD", "1.235"),
    ],
)
def test_amounts_round_half_up_to_the_currencys_minor_unit(value: str, currency: str, rounded: str) -> None:
    assert round_money(Decimal(value), currency) == Decimal(rounded)


@pytest.mark.parametrize(
    ("claimed", "computed", "same"),
    [
        ("10.00", "10.004", True),
        ("10.01", "10.004", True),  # 10.01 vs 10.00: one cent
        ("10.02", "10.004", False),
        ("10.00", "10.005", True),  # 10.005 rounds to 10.01: one cent apart
        ("9.99", "10.005", False),  # two cents apart
    ],
)
def test_amounts_are_the_same_within_one_cent_once_rounded(claimed: str, computed: str, same: bool) -> None:
    assert same_money(Decimal(claimed), Decimal(computed), "EUR") is same


def test_the_tolerance_is_one_minor_unit() -> None:
    assert tolerance("EUR") == Decimal("0.01")
    assert tolerance("jpy") == Decimal(1)


def test_no_vat_is_not_zero_vat_but_costs_the_same() -> None:
    assert with_vat(Decimal("2.50"), None) == Decimal("2.50")
    assert with_vat(Decimal("2.50"), Decimal(0)) == Decimal("2.50")
    assert with_vat(Decimal("2.50"), Decimal("21")) == Decimal("2.50") * Decimal("1.21")


@settings(database=None)
@given(
    excl=st.decimals(min_value=0, max_value=10_000, places=4),
    vat=st.decimals(min_value=0, max_value=50, places=2),
)
def test_incl_vat_is_never_below_excl_vat_and_rounding_keeps_it_so(excl: Decimal, vat: Decimal) -> None:
    amount = Amount(excl, with_vat(excl, vat))
    assert amount.incl_vat >= amount.excl_vat
    rounded = amount.rounded("EUR")
    assert rounded.incl_vat >= rounded.excl_vat
