"""Tariffs from tests/fixtures/clearing, and CDRs built around the charging periods a test needs."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from hub.clearing.money import Amount
from tests.support import objects

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "clearing"

_DIMENSIONS = {
    "energy": "ENERGY",
    "time": "TIME",
    "parking": "PARKING_TIME",
    "reservation": "RESERVATION_TIME",
    "min_current": "MIN_CURRENT",
    "max_current": "MAX_CURRENT",
    "min_power": "MIN_POWER",
    "max_power": "MAX_POWER",
}


@cache
def _read(name: str) -> str:
    return (FIXTURES / f"{name}.json").read_text()


def tariff(name: str, **changes: Any) -> dict[str, Any]:
    """The fixture ``name`` (a fresh copy), with top-level fields replaced by ``changes``."""
    document: dict[str, Any] = json.loads(_read(name))
    document.update(copy.deepcopy(changes))
    return document


def period(start: str, *, tariff_id: str | None = None, **volumes: Decimal | int | str) -> dict[str, Any]:
    """A charging period: ``period("2025-01-15T09:00:00Z", energy="10", time="0.5", max_power=11)``."""
    return period_of(start, volumes, tariff_id=tariff_id)


def period_of(
    start: str, volumes: Mapping[str, Decimal | int | str], *, tariff_id: str | None = None
) -> dict[str, Any]:
    dimensions = [
        {"type": _DIMENSIONS[name], "volume": Decimal(str(value))} for name, value in volumes.items()
    ]
    document: dict[str, Any] = {"start_date_time": start, "dimensions": dimensions}
    if tariff_id is not None:
        document["tariff_id"] = tariff_id
    return document


def session(
    *periods: dict[str, Any],
    end: str,
    tariffs: list[dict[str, Any]] | None = None,
    start: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A CDR document with these periods; totals stay the builder's until a test sets them."""
    document = objects.cdr()
    document["start_date_time"] = start or periods[0]["start_date_time"]
    document["end_date_time"] = end
    document["charging_periods"] = list(periods)
    if tariffs is not None:
        document["tariffs"] = tariffs
    document.update(fields)
    return document


def price(excl_vat: Decimal | str, incl_vat: Decimal | str | None = None) -> dict[str, Decimal]:
    document = {"excl_vat": Decimal(str(excl_vat))}
    if incl_vat is not None:
        document["incl_vat"] = Decimal(str(incl_vat))
    return document


# Exact, but for dividing seconds into hours, which Decimal carries to 28 significant digits.
_PRECISION = Decimal("1e-20")


def same(actual: Decimal, expected: Decimal) -> bool:
    return abs(actual - expected) < _PRECISION


def assert_amount(actual: Amount, excl_vat: Decimal, incl_vat: Decimal) -> None:
    assert same(actual.excl_vat, excl_vat), f"excl_vat {actual.excl_vat} != {excl_vat}"
    assert same(actual.incl_vat, incl_vat), f"incl_vat {actual.incl_vat} != {incl_vat}"


def D(value: str | int) -> Decimal:  # reads like a literal in the arithmetic
    return Decimal(value)
