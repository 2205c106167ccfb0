"""Properties of the recomputation that hold for any session, checked with hypothesis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.clearing.money import total
from hub.clearing.pricing import recompute_cost
from hub.ocpi.types import format_datetime
from tests.unit.clearing.builders import FIXTURES, period_of, same, session, tariff

START = datetime(2025, 1, 17, 15, 0, tzinfo=UTC)  # a Friday afternoon
FIXTURE_NAMES = sorted(path.stem for path in FIXTURES.glob("*.json"))


def decimals(maximum: str, places: int = 4) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=Decimal(0), max_value=Decimal(maximum), places=places)


prices = decimals("2", places=3)
vats = st.one_of(st.none(), decimals("30", places=1))
steps = st.integers(min_value=0, max_value=3600)


@st.composite
def single_element_tariffs(draw: st.DrawFn) -> dict[str, Any]:
    """A tariff with one unrestricted element pricing every dimension."""

    def component(kind: str) -> dict[str, Any]:
        found: dict[str, Any] = {"type": kind, "price": draw(prices), "step_size": draw(steps)}
        vat = draw(vats)
        if vat is not None:
            found["vat"] = vat
        return found

    kinds = ("FLAT", "ENERGY", "TIME", "PARKING_TIME")
    return tariff("combined", elements=[{"price_components": [component(kind) for kind in kinds]}])


volumes = st.fixed_dictionaries({"energy": decimals("80"), "time": decimals("3"), "parking": decimals("2")})


def build(samples: list[dict[str, Decimal]], minutes: list[int]) -> list[dict[str, Any]]:
    starts = [START + timedelta(minutes=sum(minutes[:index])) for index in range(len(samples))]
    return [period_of(format_datetime(when), sample) for when, sample in zip(starts, samples, strict=True)]


@settings(database=None, deadline=None)
@given(
    tariff_document=single_element_tariffs(),
    samples=st.lists(volumes, min_size=1, max_size=4),
    split_at=st.integers(min_value=0, max_value=3),
    fraction=st.decimals(min_value=Decimal(0), max_value=Decimal(1), places=2),
)
def test_splitting_a_period_inside_one_element_never_changes_the_cost(
    tariff_document: dict[str, Any], samples: list[dict[str, Decimal]], split_at: int, fraction: Decimal
) -> None:
    """step_size works on session totals, so where periods begin and end does not matter."""
    minutes = [30] * len(samples)
    end = format_datetime(START + timedelta(minutes=30 * len(samples)))
    whole = session(*build(samples, minutes), end=end, tariffs=[tariff_document])

    index = split_at % len(samples)
    first = {name: (value * fraction).quantize(Decimal("0.0001")) for name, value in samples[index].items()}
    second = {name: samples[index][name] - first[name] for name in first}
    split_samples = [*samples[:index], first, second, *samples[index + 1 :]]
    split_minutes = [*minutes[:index], 10, 20, *minutes[index + 1 :]]
    split = session(*build(split_samples, split_minutes), end=end, tariffs=[tariff_document])

    before, after = recompute_cost(whole).total, recompute_cost(split).total
    assert same(before.excl_vat, after.excl_vat)
    assert same(before.incl_vat, after.incl_vat)


measured = st.fixed_dictionaries(
    {"energy": decimals("60"), "time": decimals("2"), "parking": decimals("1")},
    optional={
        "max_power": decimals("350", places=1),
        "max_current": decimals("500", places=1),
        "reservation": decimals("1"),
    },
)


@settings(database=None, deadline=None)
@given(
    name=st.sampled_from(FIXTURE_NAMES),
    samples=st.lists(measured, min_size=1, max_size=5),
    minutes=st.lists(st.integers(min_value=0, max_value=600), min_size=5, max_size=5),
)
def test_any_fixture_tariff_gives_a_total_incl_vat_no_lower_than_excl_vat_and_lines_that_add_up(
    name: str, samples: list[dict[str, Decimal]], minutes: list[int]
) -> None:
    end = format_datetime(START + timedelta(minutes=sum(minutes) + 1))
    cdr = session(*build(samples, minutes), end=end, tariffs=[tariff(name)])
    cost = recompute_cost(cdr)
    for amount in (cost.total, cost.energy, cost.time, cost.parking, cost.fixed, cost.reservation):
        assert amount.incl_vat >= amount.excl_vat >= 0
    lines = total([line.amount for p in cost.periods for line in p.lines])
    assert (lines + cost.adjustment) == cost.total
    assert cost.quantities.billed_energy_kwh <= cost.quantities.energy_kwh + Decimal("0.5")
