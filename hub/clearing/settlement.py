"""Settlement statements (pure): per CPO-eMSP pair and currency, what the CDRs of a period add up to.

A period holds the CDRs whose charging ended in it (``end_date_time``, from inclusive, to exclusive).
A credit CDR cancels (part of) an earlier CDR: its amounts and quantities count against the pair, whatever
sign the CPO wrote them with, and are also shown on their own. Amounts are exact decimals; nothing is
rounded here (a statement's reader rounds once, at the end).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

from hub.clearing.records import ClearedCdr

ZERO = Decimal(0)


@dataclass
class SettlementLine:
    cpo: str  # CC*PID of the CDRs' owner
    emsp: str  # CC*PID of the receiver
    currency: str
    cdrs: int = 0  # CDRs that are not credits
    credits: int = 0
    energy_kwh: Decimal = ZERO  # net of credits
    time_hours: Decimal = ZERO
    parking_hours: Decimal = ZERO
    total_excl_vat: Decimal = ZERO  # net of credits
    total_incl_vat: Decimal = ZERO
    credits_excl_vat: Decimal = ZERO  # what the credits took back (positive)
    credits_incl_vat: Decimal = ZERO
    failed_checks: int = 0  # CDRs whose checks failed
    failed_checks_excl_vat: Decimal = ZERO  # the amount under them (net, as counted above)
    cdr_ids: list[str] = field(default_factory=list, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            f.name: (
                str(getattr(self, f.name))
                if isinstance(getattr(self, f.name), Decimal)
                else getattr(self, f.name)
            )
            for f in fields(self)
            if f.name != "cdr_ids"
        }


def settle(records: Iterable[ClearedCdr]) -> list[SettlementLine]:
    """The statement lines, one per (CPO, eMSP, currency), sorted by those."""
    lines: dict[tuple[str, str, str], SettlementLine] = {}
    for record in records:
        figures = record.figures()
        key = (record.owner_key, record.receiver_key, figures.currency)
        line = lines.setdefault(key, SettlementLine(*key))
        sign = Decimal(-1) if figures.credit else Decimal(1)
        excl, incl = abs(figures.total_excl_vat), abs(figures.total_incl_vat)
        if figures.credit:
            line.credits += 1
            line.credits_excl_vat += excl
            line.credits_incl_vat += incl
        else:
            line.cdrs += 1
        line.energy_kwh += sign * abs(figures.energy_kwh)
        line.time_hours += sign * abs(figures.time_hours)
        line.parking_hours += sign * abs(figures.parking_hours)
        line.total_excl_vat += sign * excl
        line.total_incl_vat += sign * incl
        if record.verdict_status == "failed":
            line.failed_checks += 1
            line.failed_checks_excl_vat += sign * excl
        line.cdr_ids.append(record.key)
    return [lines[key] for key in sorted(lines)]


def to_csv(lines: Iterable[SettlementLine]) -> str:
    out = io.StringIO()
    names = [f.name for f in fields(SettlementLine) if f.name != "cdr_ids"]
    writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    for line in lines:
        writer.writerow(line.to_json())
    return out.getvalue()
