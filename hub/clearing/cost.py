"""What a recomputation found: the cost of a CDR, per dimension, per period and per price component.

The breakdown is kept so a mismatch can be explained: for each charging period, which tariff
element priced which dimension, at what price and VAT, for what quantity, and how much of that
quantity ``step_size`` added. Amounts are exact; ``to_json`` writes them with OCPI's four
decimals for storage and display, and ``explain`` writes them as people read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hub.clearing.money import ZERO, Amount, round_money, total
from hub.ocpi.types import format_datetime
from hub.ocpi.v2_2_1.tariffs import TariffDimensionType

_FOUR_DECIMALS = Decimal("0.0001")
_UNITS = {
    TariffDimensionType.ENERGY: "kWh",
    TariffDimensionType.TIME: "h",
    TariffDimensionType.PARKING_TIME: "h",
    TariffDimensionType.FLAT: "x",
}


def json_number(value: Decimal) -> int | float:
    """A Decimal as a JSON number with at most four decimals (OCPI's ``number``)."""
    if value.is_zero():  # most lines of a cost are zero: what the rounding below would give
        return 0
    value = value.quantize(_FOUR_DECIMALS, rounding=ROUND_HALF_UP)
    return int(value) if value == value.to_integral_value() else float(value)


def amount_json(amount: Amount) -> dict[str, int | float]:
    return {"excl_vat": json_number(amount.excl_vat), "incl_vat": json_number(amount.incl_vat)}


@dataclass(frozen=True)
class Note:
    """Something the recomputation noticed that does not stop it, e.g. a tariff not yet valid."""

    code: str
    message: str


@dataclass(frozen=True)
class CostLine:
    """One price component applied to one period's quantity of one dimension."""

    dimension: TariffDimensionType
    reservation: bool  # priced by a reservation element (TIME is then reservation time)
    quantity: Decimal  # kWh or hours billed, including step_extra; 1 for FLAT
    price: Decimal  # per unit, excluding VAT
    vat: Decimal | None  # percent; None when no VAT applies
    step_size: int
    tariff_id: str
    element: int  # index of the tariff element in the tariff's list
    amount: Amount
    step_extra: Decimal = ZERO  # what step_size rounding added to the session total, billed here

    def to_json(self) -> dict[str, Any]:
        return {
            "dimension": self.dimension.value,
            "reservation": self.reservation,
            "quantity": json_number(self.quantity),
            "step_extra": json_number(self.step_extra),
            "price": json_number(self.price),
            "vat": None if self.vat is None else json_number(self.vat),
            "step_size": self.step_size,
            "tariff_id": self.tariff_id,
            "element": self.element,
            **amount_json(self.amount),
        }


@dataclass(frozen=True)
class PeriodCost:
    """The cost lines of one charging period."""

    index: int  # position in the CDR's charging_periods, as sent
    start: datetime
    end: datetime
    tariff_id: str | None
    lines: tuple[CostLine, ...] = ()

    @property
    def amount(self) -> Amount:
        return total([line.amount for line in self.lines])

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "start": format_datetime(self.start),
            "end": format_datetime(self.end),
            "tariff_id": self.tariff_id,
            "lines": [line.to_json() for line in self.lines],
            **amount_json(self.amount),
        }


@dataclass(frozen=True)
class Quantities:
    """Measured totals of all periods, and what was billed (priced, with step_size applied)."""

    energy_kwh: Decimal = ZERO
    time_hours: Decimal = ZERO
    parking_hours: Decimal = ZERO
    reservation_hours: Decimal = ZERO
    billed_energy_kwh: Decimal = ZERO
    billed_time_hours: Decimal = ZERO
    billed_parking_hours: Decimal = ZERO
    billed_reservation_hours: Decimal = ZERO

    def to_json(self) -> dict[str, int | float]:
        return {name: json_number(getattr(self, name)) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class Cost:
    """The recomputed cost of a CDR.

    ``fixed`` holds FLAT components of charging elements (a start fee); FLAT and TIME components of
    reservation elements are in ``reservation``, as the CDR's total_fixed_cost and
    total_reservation_cost split them. ``adjustment`` is what the tariff's min_price or max_price
    added to (or took from) the sum of the dimensions; ``total`` includes it.
    """

    currency: str
    tariff_ids: tuple[str, ...]
    energy: Amount
    time: Amount
    parking: Amount
    fixed: Amount
    reservation: Amount
    adjustment: Amount
    adjustment_reason: str | None  # "min_price" or "max_price"
    quantities: Quantities
    periods: tuple[PeriodCost, ...]
    notes: tuple[Note, ...] = field(default=())

    @property
    def subtotal(self) -> Amount:
        return self.energy + self.time + self.parking + self.fixed + self.reservation

    @property
    def total(self) -> Amount:
        return self.subtotal + self.adjustment

    def to_json(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "tariff_ids": list(self.tariff_ids),
            "total": amount_json(self.total),
            "energy": amount_json(self.energy),
            "time": amount_json(self.time),
            "parking": amount_json(self.parking),
            "fixed": amount_json(self.fixed),
            "reservation": amount_json(self.reservation),
            "adjustment": amount_json(self.adjustment),
            "adjustment_reason": self.adjustment_reason,
            "quantities": self.quantities.to_json(),
            "periods": [period.to_json() for period in self.periods],
            "notes": [{"code": note.code, "message": note.message} for note in self.notes],
        }

    def explain(self) -> str:
        """The breakdown as lines of text, amounts rounded to the currency."""
        money = self._money
        text = [f"Recomputed with tariff {', '.join(self.tariff_ids)} in {self.currency}:"]
        for period in self.periods:
            text.append(
                f"  period {period.index + 1} from {format_datetime(period.start)} "
                f"to {format_datetime(period.end)}: {money(period.amount)}"
            )
            for line in period.lines:
                kind = f"{'reservation ' if line.reservation else ''}{line.dimension.value}"
                unit = _UNITS[line.dimension]
                vat = "no VAT" if line.vat is None else f"VAT {line.vat.normalize():f}%"
                extra = f" (step_size added {line.step_extra.normalize():f})" if line.step_extra else ""
                text.append(
                    f"    {kind}: {json_number(line.quantity)} {unit}{extra} x {line.price.normalize():f} "
                    f"({vat}, element {line.element + 1}) = {money(line.amount)}"
                )
        for name in ("energy", "time", "parking", "fixed", "reservation"):
            text.append(f"  {name}: {money(getattr(self, name))}")
        if self.adjustment_reason is not None:
            text.append(f"  {self.adjustment_reason} adjustment: {money(self.adjustment)}")
        text.append(f"  total: {money(self.total)}")
        text.extend(f"  note: {note.message}" for note in self.notes)
        return "\n".join(text)

    def _money(self, amount: Amount) -> str:
        excl = round_money(amount.excl_vat, self.currency)
        incl = round_money(amount.incl_vat, self.currency)
        return f"{excl} excl. VAT, {incl} incl. VAT"
