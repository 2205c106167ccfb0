"""Check a CDR before the hub clears it: is it consistent, priced as its tariff says, and signed?

The answer is a ``Verdict``: ``ok``, ``warnings`` or ``failed``, with one ``Finding`` per reason.
A failed CDR should not be settled without a person looking at it; warnings are worth reading.
The verdict is plain JSON (``to_json``) so it can be stored with the CDR, and ``describe`` writes
it as text for an operator.

Findings, and why each has its severity:

    error    cdr_invalid                 the document breaks the OCPI CDR schema
    error    end_before_start            end_date_time is before start_date_time
    error    period_outside_session      a charging period starts outside [start, end]
    error    total_energy_mismatch       total_energy is not the sum of the periods' ENERGY:
                                         energy is what eMSPs bill their drivers by
    error    total_cost_mismatch         total_cost (excl. or incl. VAT) is off from the
                                         recomputed cost by more than one minor unit (0.01 EUR)
    error    currency_mismatch           the CDR's currency is not its tariff's
    error    credit_without_reference    a credit CDR without credit_reference_id
    error    credit_references_itself    a credit CDR that credits itself
    error    credit_not_negative         a credit CDR whose total_cost is positive (a credit
                                         negates the amounts of the CDR it credits)
    error    signature_invalid           an OCMF signature does not match its payload
    error    signature_wrong_key         an OCMF record comes with a key that cannot have made
                                         or may not make its signature: the readings are unproven
    warning  total_time_mismatch         total_time is not the session's length: the charging
                                         periods' durations, first (non-reservation) start to end
    warning  total_parking_time_mismatch total_parking_time is not the periods' PARKING_TIME
    warning  total_*_cost_mismatch       a per-dimension cost is off from the recomputed one:
                                         CPOs spread min/max price adjustments and rounding over
                                         the dimensions in different ways; total_cost is what
                                         is billed, and that one is an error
    warning  periods_out_of_order        periods are not sent in time order (they are priced
                                         sorted)
    warning  times_unknown               start or end is the spec's 1970-1-1 "unknown" sentinel
    warning  unknown_token / unknown_location   the caller says the hub does not know them
    warning  tariff_missing / tariff_ambiguous / tariff_currencies   no recomputation possible
    warning  tariff_not_valid            the tariff was not valid when the session started
    warning  credit_reference_without_credit
    warning  signature_no_key / signature_unreadable   the signed data cannot be verified;
                                         leaving signed_data out altogether is allowed, so
                                         unverifiable data is no worse than none
    warning  signed_energy_mismatch      the signed begin and end readings differ from
                                         total_energy by more than 0.01 kWh
    info     signature_valid, signed_data_not_verified (an encoding other than OCMF)

A credit CDR's total_cost is compared with the recomputed cost negated; its per-dimension costs,
which the spec leaves as they were, are accepted in either sign.

Quantities are compared with a tolerance of 0.001 (kWh or hours: 1 Wh, 3.6 s) plus half of the
fourth decimal per period, since each period's volume is rounded to four decimals on the wire.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from hub.clearing.cost import Cost
from hub.clearing.money import Amount, money_difference, round_money, same_money
from hub.clearing.ocmf import SignatureOutcome, check_signed_data, is_ocmf, signed_energy_kwh
from hub.clearing.periods import (
    SECONDS_PER_HOUR,
    Period,
    as_cdr,
    read_periods,
    seconds_between,
)
from hub.clearing.pricing import AmbiguousTariff, MixedCurrencies, TariffLike, TariffNotFound, recompute_cost
from hub.ocpi.base import error_path
from hub.ocpi.types import format_datetime
from hub.ocpi.v2_2_1.cdrs import CDR, SignedData
from hub.ocpi.v2_2_1.common import Price

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_QUANTITY_TOLERANCE = Decimal("0.001")
_PER_PERIOD_TOLERANCE = Decimal("0.00005")
_SIGNED_ENERGY_TOLERANCE = Decimal("0.01")


class Status(StrEnum):
    OK = "ok"
    WARNINGS = "warnings"
    FAILED = "failed"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Finding(BaseModel):
    """One reason in a verdict: a stable ``code`` for machines, a ``message`` for people."""

    model_config = ConfigDict(frozen=True)

    code: str
    severity: Severity
    message: str


class Verdict(BaseModel):
    """The outcome of checking one CDR. ``cost`` is the recomputation, when there was one."""

    model_config = ConfigDict(frozen=True)

    cdr: str  # country_code*party_id*id
    status: Status
    findings: list[Finding]
    cost: dict[str, Any] | None = None

    @classmethod
    def of(cls, cdr: str, findings: list[Finding], cost: Cost | None = None) -> Verdict:
        severities = {finding.severity for finding in findings}
        if Severity.ERROR in severities:
            status = Status.FAILED
        elif Severity.WARNING in severities:
            status = Status.WARNINGS
        else:
            status = Status.OK
        return cls(cdr=cdr, status=status, findings=findings, cost=None if cost is None else cost.to_json())

    def codes(self, severity: Severity | None = None) -> list[str]:
        return [f.code for f in self.findings if severity is None or f.severity is severity]

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def describe(self) -> str:
        lines = [f"CDR {self.cdr}: {self.status.value}"]
        lines.extend(f"  {f.severity.value:<7} {f.code}: {f.message}" for f in self.findings)
        return "\n".join(lines)


def check_cdr(
    cdr: CDR | Mapping[str, Any],
    *,
    tariffs: Iterable[TariffLike] | None = None,
    known_token: bool | None = None,
    known_location: bool | None = None,
    ocmf: bool = True,
    trusted_keys: Collection[str] = (),
    time_zone: str | tzinfo = UTC,
) -> Verdict:
    """Check ``cdr`` (a model or its JSON document) and say what is wrong with it, if anything.

    ``tariffs`` add to the CDR's own (see ``hub.clearing.pricing``). ``known_token`` and
    ``known_location`` are the caller's look-ups in the hub's mirror: False gives a warning, None
    means not looked up. ``ocmf`` turns signature verification of OCMF signed_data on or off;
    ``trusted_keys`` are the meter keys the caller trusts (see ``hub.clearing.ocmf``).
    ``time_zone`` is the location's, for the tariff restrictions.
    """
    try:
        record = as_cdr(cdr)
    except ValidationError as error:
        return Verdict.of(_key_of_document(cdr if isinstance(cdr, Mapping) else {}), _schema_findings(error))
    periods = read_periods(record)
    findings = [
        *_time_findings(record, periods),
        *_quantity_findings(record, periods),
        *_credit_findings(record),
        *_reference_findings(record, known_token=known_token, known_location=known_location),
    ]
    cost, cost_findings = _cost_findings(record, tariffs, time_zone)
    findings.extend(cost_findings)
    if ocmf and record.signed_data is not None:
        findings.extend(_signature_findings(record.signed_data, record.total_energy, trusted_keys))
    return Verdict.of(_key_of(record), findings, cost)


def _error(code: str, message: str) -> Finding:
    return Finding(code=code, severity=Severity.ERROR, message=message)


def _warning(code: str, message: str) -> Finding:
    return Finding(code=code, severity=Severity.WARNING, message=message)


def _info(code: str, message: str) -> Finding:
    return Finding(code=code, severity=Severity.INFO, message=message)


def _key_of(cdr: CDR) -> str:
    return f"{cdr.country_code}*{cdr.party_id}*{cdr.id}"


def _key_of_document(document: Mapping[str, Any]) -> str:
    parts = (document.get("country_code"), document.get("party_id"), document.get("id"))
    return "*".join(str(part) if part is not None else "?" for part in parts)


def _schema_findings(error: ValidationError) -> list[Finding]:
    findings = []
    for item in error.errors(include_url=False):
        location = tuple(item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        if location == ("credit_reference_id",) and item["type"] == "ocpi_rule":
            findings.append(_error("credit_without_reference", "a credit CDR must name the CDR it credits"))
        else:
            findings.append(_error("cdr_invalid", f"{error_path(location)}: {message}"))
    return findings


def _time_findings(cdr: CDR, periods: list[Period]) -> list[Finding]:
    findings = []
    start_known = cdr.start_date_time != _EPOCH
    end_known = cdr.end_date_time != _EPOCH
    if not (start_known and end_known):
        findings.append(_warning("times_unknown", "start_date_time or end_date_time is unknown (1970-01-01)"))
    if start_known and end_known and cdr.end_date_time < cdr.start_date_time:
        findings.append(
            _error(
                "end_before_start",
                f"end_date_time {_text(cdr.end_date_time)} is before "
                f"start_date_time {_text(cdr.start_date_time)}",
            )
        )
    sent = [period.start_date_time for period in cdr.charging_periods]
    if any(later < earlier for earlier, later in itertools.pairwise(sent)):
        findings.append(_warning("periods_out_of_order", "charging_periods are not in time order"))
    for period in periods:
        before = start_known and period.start < cdr.start_date_time
        after = end_known and period.start > cdr.end_date_time
        if before or after:
            findings.append(
                _error(
                    "period_outside_session",
                    f"charging_periods[{period.index}] starts at {_text(period.start)}, outside the session "
                    f"({_text(cdr.start_date_time)} to {_text(cdr.end_date_time)})",
                )
            )
    return findings


def _quantity_findings(cdr: CDR, periods: list[Period]) -> list[Finding]:
    findings = []
    allowed = _QUANTITY_TOLERANCE + _PER_PERIOD_TOLERANCE * len(periods)
    energy = sum((period.energy_kwh for period in periods), Decimal(0))
    if abs(cdr.total_energy - energy) > allowed:
        findings.append(
            _error(
                "total_energy_mismatch",
                f"total_energy is {cdr.total_energy} kWh, the periods add up to {energy} kWh",
            )
        )
    # total_time is the session's length, charging and parking (mod_cdrs, 'CDR object'): the sum
    # of the charging periods' durations, from the first one that is not a reservation to the end.
    charging = [period for period in periods if not period.reservation]
    if charging and _EPOCH not in (cdr.start_date_time, cdr.end_date_time):
        lasted = seconds_between(charging[0].start, cdr.end_date_time) / SECONDS_PER_HOUR
    else:
        lasted = Decimal(0) if not charging else cdr.total_time  # nothing to compare with
    if abs(cdr.total_time - lasted) > allowed:
        findings.append(
            _warning(
                "total_time_mismatch",
                f"total_time is {cdr.total_time} h, the session lasted {_hours(lasted)} h",
            )
        )
    if cdr.total_parking_time is not None:
        parking = sum((period.parking_hours for period in periods), Decimal(0))
        if abs(cdr.total_parking_time - parking) > allowed:
            findings.append(
                _warning(
                    "total_parking_time_mismatch",
                    f"total_parking_time is {cdr.total_parking_time} h, the periods add up to {parking} h",
                )
            )
    return findings


def _credit_findings(cdr: CDR) -> list[Finding]:
    if not cdr.credit:
        if cdr.credit_reference_id is not None:
            return [
                _warning(
                    "credit_reference_without_credit", "credit_reference_id is set but credit is not true"
                )
            ]
        return []
    findings = []
    if cdr.credit_reference_id is None:
        findings.append(_error("credit_without_reference", "a credit CDR must name the CDR it credits"))
    elif cdr.credit_reference_id.upper() == cdr.id.upper():
        findings.append(_error("credit_references_itself", "a credit CDR cannot credit itself"))
    if cdr.total_cost.excl_vat > 0:
        findings.append(
            _error(
                "credit_not_negative",
                "a credit CDR negates the credited amounts, "
                f"but total_cost.excl_vat is {cdr.total_cost.excl_vat}",
            )
        )
    return findings


def _reference_findings(cdr: CDR, *, known_token: bool | None, known_location: bool | None) -> list[Finding]:
    findings = []
    token = cdr.cdr_token
    if known_token is False:
        findings.append(
            _warning(
                "unknown_token",
                f"token {token.country_code}*{token.party_id} {token.uid} ({token.type.value}) is not known",
            )
        )
    if known_location is False:
        findings.append(_warning("unknown_location", f"location {cdr.cdr_location.id} is not known"))
    return findings


def _cost_findings(
    cdr: CDR, tariffs: Iterable[TariffLike] | None, time_zone: str | tzinfo
) -> tuple[Cost | None, list[Finding]]:
    try:
        cost = recompute_cost(cdr, tariffs=tariffs, time_zone=time_zone)
    except TariffNotFound as error:
        return None, [_warning("tariff_missing", f"the cost cannot be recomputed: {error}")]
    except AmbiguousTariff as error:
        return None, [_warning("tariff_ambiguous", f"the cost cannot be recomputed: {error}")]
    except MixedCurrencies as error:
        return None, [_warning("tariff_currencies", f"the cost cannot be recomputed: {error}")]
    findings = [_warning(note.code, note.message) for note in cost.notes]
    if cost.currency != cdr.currency.upper():
        findings.append(
            _error("currency_mismatch", f"the CDR is in {cdr.currency}, its tariff in {cost.currency}")
        )
        return cost, findings
    currency = cost.currency
    expected = -cost.total if cdr.credit else cost.total
    for finding in _price_differences("total_cost", cdr.total_cost, expected, currency):
        findings.append(_error("total_cost_mismatch", finding))
    dimensions = (
        ("total_energy_cost", cdr.total_energy_cost, cost.energy),
        ("total_time_cost", cdr.total_time_cost, cost.time),
        ("total_parking_cost", cdr.total_parking_cost, cost.parking),
        ("total_fixed_cost", cdr.total_fixed_cost, cost.fixed),
        ("total_reservation_cost", cdr.total_reservation_cost, cost.reservation),
    )
    for name, claimed, computed in dimensions:
        if claimed is None:
            continue
        if cdr.credit:  # only total_cost is negated in a credit; accept either sign here
            claimed = Price(excl_vat=abs(claimed.excl_vat), incl_vat=_abs(claimed.incl_vat))
        for finding in _price_differences(name, claimed, computed, currency):
            findings.append(_warning(f"{name}_mismatch", finding))
    return cost, findings


def _price_differences(name: str, claimed: Price, computed: Amount, currency: str) -> list[str]:
    pairs = [("excl_vat", claimed.excl_vat, computed.excl_vat)]
    if claimed.incl_vat is not None:
        pairs.append(("incl_vat", claimed.incl_vat, computed.incl_vat))
    differences = []
    for part, stated, recomputed in pairs:
        if same_money(stated, recomputed, currency):
            continue
        difference = money_difference(stated, recomputed, currency)
        differences.append(
            f"{name}.{part} is {round_money(stated, currency)} {currency}, the tariff gives "
            f"{round_money(recomputed, currency)} {currency} (difference {difference:+} {currency})"
        )
    return differences


def _signature_findings(
    signed: SignedData, total_energy: Decimal, trusted_keys: Collection[str]
) -> list[Finding]:
    if not is_ocmf(signed):
        return [
            _info(
                "signed_data_not_verified", f"signed data in {signed.encoding_method} is passed on unverified"
            )
        ]
    checks = check_signed_data(signed, trusted_keys=trusted_keys)
    findings = []
    for check in checks:
        code, severity = _SIGNATURE_FINDINGS[check.outcome]
        message = f"signed value {check.index + 1} ({check.nature}): {check.message}"
        findings.append(Finding(code=code, severity=severity, message=message))
    energy = signed_energy_kwh(checks)
    if energy is not None and abs(energy - total_energy) > _SIGNED_ENERGY_TOLERANCE:
        findings.append(
            _warning(
                "signed_energy_mismatch",
                f"the signed meter readings give {energy} kWh, total_energy is {total_energy} kWh",
            )
        )
    return findings


_SIGNATURE_FINDINGS = {
    SignatureOutcome.VALID: ("signature_valid", Severity.INFO),
    SignatureOutcome.INVALID_SIGNATURE: ("signature_invalid", Severity.ERROR),
    SignatureOutcome.WRONG_KEY: ("signature_wrong_key", Severity.ERROR),
    SignatureOutcome.NO_KEY: ("signature_no_key", Severity.WARNING),
    SignatureOutcome.UNREADABLE: ("signature_unreadable", Severity.WARNING),
}


def _abs(value: Decimal | None) -> Decimal | None:
    return None if value is None else abs(value)


def _text(value: datetime) -> str:
    return format_datetime(value)


def _hours(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.0001'))}"
