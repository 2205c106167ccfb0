"""Amounts of money, and the one place where they are rounded.

The clearing engine computes exactly, in ``Decimal``, and never rounds an intermediate amount:
OCPI leaves price rounding to law, contract and currency (mod_tariffs, 'Tariff object', note), so
any rounding we did on the way would be a guess that a CPO's own (different) guess would then
contradict. Rounding happens only at the end, when two amounts are compared: both are rounded to
the currency's minor unit (two decimals for EUR) with ROUND_HALF_UP, and they count as the same
when they differ by no more than one minor unit (0.01 EUR). That tolerance absorbs the usual
difference between rounding each component and rounding the total, and nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)
HUNDRED = Decimal(100)

# ISO 4217 minor units where they are not 2. Currencies not listed use 2.
_MINOR_UNITS = {
    "BHD": 3,
    "CLP": 0,
    "IQD": 3,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KRW": 0,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
    "UGX": 0,
    "VND": 0,
}


def minor_units(currency: str) -> int:
    """How many decimals an amount in ``currency`` is written with (ISO 4217)."""
    return _MINOR_UNITS.get(currency.upper(), 2)


def tolerance(currency: str) -> Decimal:
    """One minor unit of ``currency``: 0.01 for EUR, 1 for JPY."""
    return Decimal(1).scaleb(-minor_units(currency))


def round_money(value: Decimal, currency: str) -> Decimal:
    """``value`` rounded half up to the minor unit of ``currency``."""
    return value.quantize(tolerance(currency), rounding=ROUND_HALF_UP)


def money_difference(claimed: Decimal, computed: Decimal, currency: str) -> Decimal:
    """``claimed - computed``, both rounded to the currency first."""
    return round_money(claimed, currency) - round_money(computed, currency)


def same_money(claimed: Decimal, computed: Decimal, currency: str) -> bool:
    """Whether two amounts agree within one minor unit once each is rounded to the currency."""
    return abs(money_difference(claimed, computed, currency)) <= tolerance(currency)


def with_vat(excl_vat: Decimal, vat: Decimal | None) -> Decimal:
    """The amount including VAT; no ``vat`` means no VAT applies (which is not the same as 0 %)."""
    if vat is None:
        return excl_vat
    return excl_vat * (1 + vat / HUNDRED)


@dataclass(frozen=True)
class Amount:
    """An amount excluding and including VAT, like OCPI's Price, but always with both parts."""

    excl_vat: Decimal = ZERO
    incl_vat: Decimal = ZERO

    def __add__(self, other: Amount) -> Amount:
        return Amount(self.excl_vat + other.excl_vat, self.incl_vat + other.incl_vat)

    def __sub__(self, other: Amount) -> Amount:
        return Amount(self.excl_vat - other.excl_vat, self.incl_vat - other.incl_vat)

    def __neg__(self) -> Amount:
        return Amount(-self.excl_vat, -self.incl_vat)

    def rounded(self, currency: str) -> Amount:
        return Amount(round_money(self.excl_vat, currency), round_money(self.incl_vat, currency))


def total(amounts: list[Amount]) -> Amount:
    return sum(amounts, Amount())
