"""OCPP 1.6 transactions as OCPI Sessions (ingest guide §5): pure, no store, no HTTP.

A ``Transaction`` is what the hub keeps of one running transaction; ``started`` makes the whole
Session (PUT), ``metered`` and ``stopped`` the changes (PATCH). Energy is counted in ``Decimal``
from the whole-meter ``Energy.Active.Import.Register`` (1.6 values are strings, in Wh unless the
``unit`` says kWh); the Session carries kWh and hours (guide §5.4, §5.5). One charging period per
session in this slice: status boundaries do not split it yet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from hub.ocpi.types import format_datetime
from hub.ocpp.template import evse_uid

REGISTER = "Energy.Active.Import.Register"
DEFAULT_CURRENCY = "EUR"
_KWH = Decimal("0.001")
_HOURS = Decimal("0.000001")


@dataclass(frozen=True)
class Transaction:
    station_id: str
    transaction_id: int
    id_tag: str
    # The CPO that owns the station, and its Location.
    country_code: str
    party_id: str
    location_id: str
    connector: int  # 1.6 connectorId: the EVSE number
    meter_start_wh: Decimal
    started_at: datetime
    # The mirrored OCPI Token of the id tag, when the hub knows it; its owner is the eMSP told.
    token: Mapping[str, Any] | None
    auth_method: str  # WHITELIST or AUTH_REQUEST
    currency: str = DEFAULT_CURRENCY
    register_wh: Decimal | None = None  # the last register reading
    last_updated: datetime | None = None

    @property
    def session_id(self) -> str:
        return session_id(self.station_id, self.transaction_id)

    @property
    def emsp(self) -> tuple[str, str] | None:
        if self.token is None:
            return None
        return str(self.token["country_code"]), str(self.token["party_id"])


def session_id(station_id: str, transaction_id: int) -> str:
    """The hub-made Session id: ``CS001-1234`` (station ids are at most 20 characters in OCPP 1.6)."""
    return f"{station_id}-{transaction_id}"[:36]


def kwh(transaction: Transaction, register_wh: Decimal) -> Decimal:
    """Energy since the start in kWh; a register below the start (meter swap) counts as nothing."""
    delta = max(register_wh - transaction.meter_start_wh, Decimal(0))
    return (delta / 1000).quantize(_KWH)


def register_wh(meter_values: Sequence[Mapping[str, Any]]) -> Decimal | None:
    """The latest whole-meter energy register in Wh from 1.6 ``meterValue`` entries (snake_case),
    preferring ``location=Outlet``; None when there is none."""
    found: Decimal | None = None
    for entry in meter_values:
        candidates: list[tuple[bool, Decimal]] = []
        for sample in entry.get("sampled_value") or []:
            if sample.get("measurand", REGISTER) != REGISTER or sample.get("phase"):
                continue
            value = _wh(sample.get("value"), sample.get("unit"))
            if value is not None:
                candidates.append((sample.get("location") == "Outlet", value))
        if candidates:
            found = max(candidates, key=lambda c: c[0])[1]
    return found


def _wh(value: Any, unit: Any) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    return number * 1000 if unit == "kWh" else number


def _number(value: Decimal) -> float | int:
    """A Decimal as a JSON number (exact for the few decimals a Session carries)."""
    return int(value) if value == value.to_integral_value() else float(value)


def _stamp(transaction: Transaction, now: datetime) -> datetime:
    """``last_updated`` for a change: never before the previous one, so no change reads stale."""
    previous = transaction.last_updated
    return now if previous is None or now > previous else previous


def _periods(transaction: Transaction, energy: Decimal, until: datetime) -> list[dict[str, Any]]:
    hours = Decimal(max((until - transaction.started_at).total_seconds(), 0)) / 3600
    return [
        {
            "start_date_time": format_datetime(transaction.started_at),
            "dimensions": [
                {"type": "ENERGY", "volume": _number(energy)},
                {"type": "TIME", "volume": _number(hours.quantize(_HOURS))},
            ],
        }
    ]


def cdr_token(token: Mapping[str, Any] | None, id_tag: str) -> dict[str, Any]:
    """The Session's ``cdr_token``; a tag no eMSP pushed is named after the hub's CPO alone."""
    if token is None:
        return {}
    return {
        "country_code": token["country_code"],
        "party_id": token["party_id"],
        "uid": token.get("uid", id_tag),
        "type": token.get("type", "RFID"),
        "contract_id": token.get("contract_id", id_tag),
    }


def started(transaction: Transaction, *, now: datetime) -> tuple[Transaction, dict[str, Any]]:
    """The whole Session at StartTransaction: ACTIVE, nothing charged yet."""
    stamp = _stamp(transaction, now)
    token = cdr_token(transaction.token, transaction.id_tag) or {
        "country_code": transaction.country_code,
        "party_id": transaction.party_id,
        "uid": transaction.id_tag,
        "type": "RFID",
        "contract_id": transaction.id_tag,
    }
    session = {
        "country_code": transaction.country_code,
        "party_id": transaction.party_id,
        "id": transaction.session_id,
        "start_date_time": format_datetime(transaction.started_at),
        "kwh": 0,
        "cdr_token": token,
        "auth_method": transaction.auth_method,
        "location_id": transaction.location_id,
        "evse_uid": evse_uid(transaction.location_id, transaction.connector),
        "connector_id": "1",
        "currency": transaction.currency,
        "status": "ACTIVE",
        "last_updated": format_datetime(stamp),
    }
    return replace(transaction, register_wh=transaction.meter_start_wh, last_updated=stamp), session


def metered(
    transaction: Transaction, register: Decimal, *, at: datetime, now: datetime
) -> tuple[Transaction, dict[str, Any]]:
    """The change a MeterValues reading makes: ``kwh``, ``charging_periods``, ``last_updated``."""
    stamp = _stamp(transaction, now)
    energy = kwh(transaction, register)
    patch = {
        "kwh": _number(energy),
        "charging_periods": _periods(transaction, energy, at),
        "last_updated": format_datetime(stamp),
    }
    return replace(transaction, register_wh=register, last_updated=stamp), patch


def stopped(
    transaction: Transaction, meter_stop_wh: Decimal, *, at: datetime, now: datetime
) -> tuple[Transaction, dict[str, Any]]:
    """The change StopTransaction makes: COMPLETED, ``end_date_time`` and the final energy."""
    stamp = _stamp(transaction, now)
    energy = kwh(transaction, meter_stop_wh)
    patch = {
        "status": "COMPLETED",
        "end_date_time": format_datetime(at),
        "kwh": _number(energy),
        "charging_periods": _periods(transaction, energy, at),
        "last_updated": format_datetime(stamp),
    }
    return replace(transaction, register_wh=meter_stop_wh, last_updated=stamp), patch
