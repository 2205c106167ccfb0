"""Recompute what a CDR should cost, from its charging periods and the tariffs it names.

The rules, from mod_tariffs and mod_cdrs (digest §10.6, §12.3):

* Each period is priced with its ``tariff_id``'s tariff, or, without one, with the CDR's only
  tariff. The CDR's own ``tariffs`` come first (they are the tariffs as valid at the session's
  start, which is what the driver agreed to); tariffs the caller passes fill in the ids the CDR
  does not carry.
* Per dimension (ENERGY, TIME, PARKING_TIME, FLAT) the first element in list order that has a
  component of that dimension and whose restrictions hold at the period's start is used, and in
  it the first component of that dimension (``hub.clearing.restrictions``). No such element: the
  dimension is free in that period.
* ENERGY is priced per kWh, TIME per hour charging, PARKING_TIME per hour parked, all from the
  period's dimensions. FLAT is charged once per session, from the first period in which a FLAT
  component is active, and once more for a reservation if a reservation element has one.
* ``step_size`` is applied once per session to totals, never per period: to the energy total
  (rounded up to whole steps of Wh), and to the time total or, when parking was billed too, to
  the parking total only (whole steps of seconds). The step_size is the one of the last period's
  component that billed the dimension, and what the rounding adds is billed at that component's
  price and VAT. Only billed quantities count: energy in a period where energy is free is not part
  of the total that gets rounded (the spec's free-parking-after-20:00 example). An exact multiple
  of the step stays as it is. Hours travel with four decimals (0.36 s), so the time total is read
  as whole seconds (nearest) before it is rounded up to the step.
* Reservation periods (a RESERVATION_TIME dimension) are priced with RESERVATION elements only,
  their TIME component per hour reserved, with their own step_size. When no period after the
  reservation was used (no energy, charging or parking), the reservation expired: its components
  are then looked up in RESERVATION_EXPIRES elements first, then in RESERVATION elements, so an
  expiry fee adds to the reservation time unless the expiry element prices time itself.
* VAT is per component: incl. = excl. x (1 + vat / 100); no ``vat`` means no VAT applies.
* The min_price and max_price of the tariff of the first charging period (the tariff the
  session started with) bound the total, excluding and including VAT independently. A limit
  without ``incl_vat`` moves the total including VAT by the same amount as the one excluding it.

Nothing here rounds: see ``hub.clearing.money`` for how amounts are compared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hub.clearing.cost import Cost, CostLine, Note, PeriodCost, Quantities
from hub.clearing.money import ZERO, Amount, total, with_vat
from hub.clearing.periods import (
    SECONDS_PER_HOUR,
    WH_PER_KWH,
    Period,
    as_cdr,
    read_periods,
    seconds_between,
    session_start,
)
from hub.clearing.restrictions import Moment, element_applies
from hub.ocpi.v2_2_1.cdrs import CDR
from hub.ocpi.v2_2_1.common import Price
from hub.ocpi.v2_2_1.tariffs import (
    PriceComponent,
    ReservationRestrictionType,
    Tariff,
    TariffDimensionType,
)

Dimension = TariffDimensionType
TariffLike = Tariff | Mapping[str, Any]


class PricingError(Exception):
    """The CDR cannot be priced: the reason is in the message."""


class TariffNotFound(PricingError):
    pass


class AmbiguousTariff(PricingError):
    pass


class MixedCurrencies(PricingError):
    pass


class TariffBook:
    """The tariffs a CDR can be priced with, found by id without regard to case (CiString)."""

    def __init__(self, own: Sequence[Tariff], given: Sequence[Tariff]) -> None:
        self._own = _unique(own)
        self._given = _unique(given)
        self._by_id = {tariff.id.upper(): tariff for tariff in [*self._given, *self._own]}

    def for_period(self, tariff_id: str | None) -> Tariff:
        if tariff_id is not None:
            found = self._by_id.get(tariff_id.upper())
            if found is None:
                raise TariffNotFound(f"a charging period names tariff {tariff_id}, which is not known")
            return found
        candidates = self._own or self._given
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise TariffNotFound("the CDR carries no tariff and none was given")
        ids = ", ".join(tariff.id for tariff in candidates)
        raise AmbiguousTariff(f"a charging period names no tariff, and there are several: {ids}")


def _unique(tariffs: Sequence[Tariff]) -> list[Tariff]:
    seen: dict[str, Tariff] = {}
    for tariff in tariffs:
        seen.setdefault(tariff.id.upper(), tariff)
    return list(seen.values())


def as_tariff(tariff: TariffLike) -> Tariff:
    return tariff if isinstance(tariff, Tariff) else Tariff.model_validate(tariff)


def recompute_cost(
    cdr: CDR | Mapping[str, Any],
    *,
    tariffs: Iterable[TariffLike] | None = None,
    time_zone: str | tzinfo = UTC,
) -> Cost:
    """The cost of ``cdr`` as its tariffs price its charging periods.

    ``time_zone`` is the location's (Location.time_zone, an IANA name): tariff restrictions are
    in local time and a CDR does not say which zone that is. Raises ``PricingError`` when a
    period's tariff is unknown or cannot be told, or the tariffs mix currencies.
    """
    record = as_cdr(cdr)
    book = TariffBook(record.tariffs or [], [as_tariff(tariff) for tariff in tariffs or []])
    zone = ZoneInfo(time_zone) if isinstance(time_zone, str) else time_zone
    periods = read_periods(record)
    return _Pricing(record, periods, book, zone).run()


@dataclass
class _StepGroup:
    """A quantity step_size rounds once per session, and the line that last billed it."""

    quantity: Decimal = ZERO
    last: tuple[int, int] | None = None  # (period position, line position)


@dataclass
class _Pricing:
    """One recomputation: walks the periods in time order, then applies step_size and the limits."""

    cdr: CDR
    periods: list[Period]
    book: TariffBook
    zone: tzinfo
    lines: list[list[CostLine]] = field(default_factory=list)
    tariffs: list[Tariff] = field(default_factory=list)
    flat_charged: set[bool] = field(default_factory=set)  # by "is a reservation"
    energy: _StepGroup = field(default_factory=_StepGroup)
    time: _StepGroup = field(default_factory=_StepGroup)
    parking: _StepGroup = field(default_factory=_StepGroup)
    reserved: _StepGroup = field(default_factory=_StepGroup)

    def run(self) -> Cost:
        started = session_start(self.cdr, self.periods)
        expired = any(p.reservation for p in self.periods) and not any(
            p.used for p in self.periods if not p.reservation
        )
        energy_before = ZERO
        for position, period in enumerate(self.periods):
            tariff = self.book.for_period(period.tariff_id)
            if all(known is not tariff for known in self.tariffs):
                self.tariffs.append(tariff)
            since = self.cdr.start_date_time if period.reservation else started
            moment = Moment(
                local_time=period.start.astimezone(self.zone),
                energy_kwh=energy_before,
                duration_seconds=seconds_between(since, period.start),
                min_current=period.min_current,
                max_current=period.max_current,
                min_power=period.min_power,
                max_power=period.max_power,
            )
            self.lines.append(self._price_period(position, period, tariff, moment, expired=expired))
            if not period.reservation:
                energy_before += period.energy_kwh
        self._apply_step_sizes()
        return self._result(started)

    def _price_period(
        self, position: int, period: Period, tariff: Tariff, moment: Moment, *, expired: bool
    ) -> list[CostLine]:
        if period.reservation:
            kinds: tuple[ReservationRestrictionType | None, ...] = (
                (ReservationRestrictionType.RESERVATION_EXPIRES, ReservationRestrictionType.RESERVATION)
                if expired
                else (ReservationRestrictionType.RESERVATION,)
            )
            wanted = [(Dimension.TIME, period.reservation_hours, self.reserved)]
        else:
            kinds = (None,)
            wanted = [
                (Dimension.ENERGY, period.energy_kwh, self.energy),
                (Dimension.TIME, period.time_hours, self.time),
                (Dimension.PARKING_TIME, period.parking_hours, self.parking),
            ]
        lines: list[CostLine] = []
        if period.reservation not in self.flat_charged:
            found = _component(tariff, Dimension.FLAT, moment, kinds)
            if found is not None:
                lines.append(_line(tariff, *found, Decimal(1), reservation=period.reservation))
                self.flat_charged.add(period.reservation)
        for dimension, quantity, group in wanted:
            if quantity == 0:
                continue
            found = _component(tariff, dimension, moment, kinds)
            if found is None:
                continue
            lines.append(_line(tariff, *found, quantity, reservation=period.reservation))
            group.quantity += quantity
            group.last = (position, len(lines) - 1)
        return lines

    def _apply_step_sizes(self) -> None:
        self._round(self.energy, _round_energy)
        # TIME and PARKING_TIME are rounded once, together: the parking total when parking was
        # billed, else the charging time total (mod_cdrs, 'step_size').
        self._round(self.parking if self.parking.quantity > 0 else self.time, _round_hours)
        self._round(self.reserved, _round_hours)

    def _round(self, group: _StepGroup, rounding: Callable[[Decimal, int], Decimal]) -> None:
        if group.last is None or group.quantity <= 0:
            return
        position, index = group.last
        line = self.lines[position][index]
        if line.step_size <= 0:
            return
        extra = rounding(group.quantity, line.step_size) - group.quantity
        if extra == 0:
            return
        quantity = line.quantity + extra
        self.lines[position][index] = replace(
            line, quantity=quantity, step_extra=extra, amount=_amount(quantity, line.price, line.vat)
        )

    def _result(self, started: datetime) -> Cost:
        currencies = sorted({tariff.currency.upper() for tariff in self.tariffs})
        if len(currencies) > 1:
            raise MixedCurrencies(f"the tariffs are in different currencies: {', '.join(currencies)}")
        lines = [line for period_lines in self.lines for line in period_lines]

        def summed(dimension: Dimension, *, reservation: bool = False) -> Amount:
            return total(
                [
                    line.amount
                    for line in lines
                    if line.dimension is dimension and line.reservation is reservation
                ]
            )

        def billed(dimension: Dimension, *, reservation: bool = False) -> Decimal:
            return sum(
                (
                    line.quantity
                    for line in lines
                    if line.dimension is dimension and line.reservation is reservation
                ),
                ZERO,
            )

        energy = summed(Dimension.ENERGY)
        time = summed(Dimension.TIME)
        parking = summed(Dimension.PARKING_TIME)
        fixed = summed(Dimension.FLAT)
        reservation = summed(Dimension.FLAT, reservation=True) + summed(Dimension.TIME, reservation=True)
        subtotal = energy + time + parking + fixed + reservation
        limited, reason = _apply_limits(subtotal, self._limiting_tariff())
        measured = self.periods
        return Cost(
            currency=currencies[0] if currencies else self.cdr.currency,
            tariff_ids=tuple(tariff.id for tariff in self.tariffs),
            energy=energy,
            time=time,
            parking=parking,
            fixed=fixed,
            reservation=reservation,
            adjustment=limited - subtotal,
            adjustment_reason=reason,
            quantities=Quantities(
                energy_kwh=sum((p.energy_kwh for p in measured), ZERO),
                time_hours=sum((p.time_hours for p in measured), ZERO),
                parking_hours=sum((p.parking_hours for p in measured), ZERO),
                reservation_hours=sum((p.reservation_hours for p in measured), ZERO),
                billed_energy_kwh=billed(Dimension.ENERGY),
                billed_time_hours=billed(Dimension.TIME),
                billed_parking_hours=billed(Dimension.PARKING_TIME),
                billed_reservation_hours=billed(Dimension.TIME, reservation=True),
            ),
            periods=tuple(
                PeriodCost(
                    index=period.index,
                    start=period.start,
                    end=period.end,
                    tariff_id=period.tariff_id,
                    lines=tuple(period_lines),
                )
                for period, period_lines in zip(self.periods, self.lines, strict=True)
            ),
            notes=tuple(_validity_notes(self.tariffs, started)),
        )

    def _limiting_tariff(self) -> Tariff | None:
        for period in self.periods:
            if not period.reservation:
                return self.book.for_period(period.tariff_id)
        return self.tariffs[0] if self.tariffs else None


def _component(
    tariff: Tariff,
    dimension: Dimension,
    moment: Moment,
    kinds: tuple[ReservationRestrictionType | None, ...],
) -> tuple[int, PriceComponent] | None:
    for kind in kinds:
        for index, element in enumerate(tariff.elements):
            if not element_applies(element, moment, reservation=kind):
                continue
            for component in element.price_components:
                if component.type is dimension:
                    return index, component
    return None


def _amount(quantity: Decimal, price: Decimal, vat: Decimal | None) -> Amount:
    excl_vat = quantity * price
    return Amount(excl_vat, with_vat(excl_vat, vat))


def _line(
    tariff: Tariff, element: int, component: PriceComponent, quantity: Decimal, *, reservation: bool
) -> CostLine:
    return CostLine(
        dimension=component.type,
        reservation=reservation,
        quantity=quantity,
        price=component.price,
        vat=component.vat,
        step_size=component.step_size,
        tariff_id=tariff.id,
        element=element,
        amount=_amount(quantity, component.price, component.vat),
    )


def _round_up(value: Decimal, step: int) -> Decimal:
    return (value / step).to_integral_value(rounding=ROUND_CEILING) * step


def _round_energy(kwh: Decimal, step_wh: int) -> Decimal:
    return _round_up(kwh * WH_PER_KWH, step_wh) / WH_PER_KWH


def _round_hours(hours: Decimal, step_seconds: int) -> Decimal:
    seconds = (hours * SECONDS_PER_HOUR).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return _round_up(seconds, step_seconds) / SECONDS_PER_HOUR


def _apply_limits(subtotal: Amount, tariff: Tariff | None) -> tuple[Amount, str | None]:
    if tariff is None:
        return subtotal, None
    limited, reason = subtotal, None
    if tariff.min_price is not None:
        raised = _bound(limited, tariff.min_price, max)
        if raised != limited:
            limited, reason = raised, "min_price"
    if tariff.max_price is not None:
        lowered = _bound(limited, tariff.max_price, min)
        if lowered != limited:
            limited, reason = lowered, "max_price"
    return limited, reason


def _bound(amount: Amount, limit: Price, pick: Callable[[Decimal, Decimal], Decimal]) -> Amount:
    excl_vat = pick(amount.excl_vat, limit.excl_vat)
    if limit.incl_vat is None:
        return Amount(excl_vat, amount.incl_vat + (excl_vat - amount.excl_vat))
    incl_vat = pick(amount.incl_vat, limit.incl_vat)
    return Amount(excl_vat, incl_vat)


def _validity_notes(tariffs: list[Tariff], started: datetime) -> list[Note]:
    notes = []
    for tariff in tariffs:
        if tariff.start_date_time is not None and started < tariff.start_date_time:
            notes.append(
                Note("tariff_not_valid", f"tariff {tariff.id} only became valid after the session started")
            )
        if tariff.end_date_time is not None and started >= tariff.end_date_time:
            notes.append(
                Note("tariff_not_valid", f"tariff {tariff.id} was no longer valid when the session started")
            )
    return notes
