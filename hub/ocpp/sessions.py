"""OCPP transactions as OCPI Sessions (ingest guide §5): pure, no store, no HTTP.

A ``Transaction`` is what the hub keeps of one transaction, for OCPP 1.6 and 2.0.1 alike (the 2.0.1
events are read by ``hub.ocpp.transaction_events``); ``session`` makes the whole Session (PUT),
``metered``, ``stopped`` and ``invalidated`` the changes (PATCH). Energy is counted in ``Decimal``
from the whole-meter ``Energy.Active.Import.Register`` (1.6 values are strings, in Wh unless the
``unit`` says kWh); the Session carries kWh and hours (guide §5.4, §5.5). A new charging period
starts whenever the EV starts or stops drawing energy (1.6 StatusNotification Charging vs
SuspendedEV/SuspendedEVSE/Finishing, 2.0.1 ``chargingState``): charging periods carry ENERGY and
TIME, the others PARKING_TIME (and ENERGY when some still flowed).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict

from hub.ocpi.types import format_datetime
from hub.ocpp.records import OCPP16
from hub.ocpp.signed import SignedRecord
from hub.ocpp.template import evse_uid

REGISTER = "Energy.Active.Import.Register"
DEFAULT_CURRENCY = "EUR"
PENDING, ACTIVE, COMPLETED, INVALID = "PENDING", "ACTIVE", "COMPLETED", "INVALID"
_KWH = Decimal("0.001")
_HOURS = Decimal("0.000001")
_SESSION_ID_MAX = 36


class Period(BaseModel):
    """Where a charging period begins: its start, whether the EV draws energy in it, and the register
    reading then (None when the first reading came later)."""

    model_config = ConfigDict(frozen=True)

    start: datetime
    charging: bool
    register_wh: Decimal | None = None


class Transaction(BaseModel):
    model_config = ConfigDict(frozen=True)

    station_id: str
    protocol: str = OCPP16
    transaction_id: str  # the station's: 1.6 integers as decimal text, 2.0.1 as sent
    session_id: str
    # The token uid (1.6 idTag, 2.0.1 idToken); None while a 2.0.1 transaction has no idToken yet.
    id_tag: str | None
    # The CPO that owns the station, and its Location.
    country_code: str
    party_id: str
    location_id: str
    evse: int  # 1.6 connectorId, 2.0.1 evse id: the EVSE number; 0 until a 2.0.1 event names it
    connector_id: str = "1"  # the OCPI connector id within the EVSE
    meter_start_wh: Decimal | None  # None until a register reading arrives (2.0.1)
    started_at: datetime
    # The mirrored OCPI Token of the id tag, when the hub knows it; its owner is the eMSP told.
    token: dict[str, Any] | None
    auth_method: str  # COMMAND, WHITELIST or AUTH_REQUEST
    authorization_reference: str | None = None
    status: str = ACTIVE  # the OCPI SessionStatus
    currency: str = DEFAULT_CURRENCY
    register_wh: Decimal | None = None  # the last register reading
    read_at: datetime | None = None  # when it was read: an older reading sent late changes nothing
    ended_at: datetime | None = None
    stopped_reason: str | None = None
    signed: tuple[SignedRecord, ...] = ()
    # Period boundaries after the first (which starts at ``started_at``, charging, at the start
    # reading); empty: one charging period.
    boundaries: tuple[Period, ...] = ()
    last_updated: datetime | None = None

    @property
    def emsp(self) -> tuple[str, str] | None:
        if self.token is None:
            return None
        return str(self.token["country_code"]), str(self.token["party_id"])


def session_id(station_id: str, transaction_id: int | None = None) -> str:
    """The hub-made Session id: ``CS001-1234`` for a 1.6 transaction (its integer id is unique in the
    hub) when that fits in 36 characters; otherwise, and for 2.0.1 (whose ids are unique per station
    only, and up to 36 characters themselves), a UUID."""
    if transaction_id is not None:
        readable = f"{station_id}-{transaction_id}"
        if len(readable) <= _SESSION_ID_MAX:
            return readable
    return str(uuid.uuid4())


def kwh(transaction: Transaction, register_wh: Decimal | None) -> Decimal:
    """Energy since the start in kWh; a register below the start (meter swap) counts as nothing."""
    if register_wh is None or transaction.meter_start_wh is None:
        return Decimal(0).quantize(_KWH)
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


def periods(transaction: Transaction) -> list[Period]:
    """Every period of the transaction, the first included."""
    first = Period(start=transaction.started_at, charging=True, register_wh=transaction.meter_start_wh)
    return [first, *transaction.boundaries]


def _hours(start: datetime, end: datetime) -> Decimal:
    return (Decimal(max((end - start).total_seconds(), 0)) / 3600).quantize(_HOURS)


def charging_periods(
    transaction: Transaction, register: Decimal | None, until: datetime
) -> list[dict[str, Any]]:
    """OCPI ``charging_periods`` up to ``until``, ``register`` being the reading then. Each period's
    energy is the register's rise in it; the last takes what rounding left, so the periods add up to
    the Session's ``kwh`` exactly."""
    bounds = periods(transaction)
    total = kwh(transaction, register)
    found: list[dict[str, Any]] = []
    counted = Decimal(0)
    for number, period in enumerate(bounds):
        following = bounds[number + 1] if number + 1 < len(bounds) else None
        end = following.start if following is not None else until
        if following is None:
            energy = max(total - counted, Decimal(0))
        else:
            energy = _rise(period.register_wh, following.register_wh)
            counted += energy
        hours = _hours(period.start, max(end, period.start))
        if period.charging:
            dimensions = [
                {"type": "ENERGY", "volume": _number(energy)},
                {"type": "TIME", "volume": _number(hours)},
            ]
        else:
            dimensions = [{"type": "PARKING_TIME", "volume": _number(hours)}]
            if energy:
                dimensions.insert(0, {"type": "ENERGY", "volume": _number(energy)})
        found.append({"start_date_time": format_datetime(period.start), "dimensions": dimensions})
    return found


def _rise(start: Decimal | None, end: Decimal | None) -> Decimal:
    """kWh between two register readings; nothing when one is missing or the meter went back."""
    if start is None or end is None:
        return Decimal(0).quantize(_KWH)
    return (max(end - start, Decimal(0)) / 1000).quantize(_KWH)


def parking_hours(transaction: Transaction, until: datetime) -> Decimal:
    """Hours of the transaction in periods without charging, up to ``until``."""
    bounds = periods(transaction)
    total = Decimal(0)
    for number, period in enumerate(bounds):
        end = bounds[number + 1].start if number + 1 < len(bounds) else until
        if not period.charging:
            total += _hours(period.start, max(end, period.start))
    return total


def charging_changed(
    transaction: Transaction, charging: bool, *, at: datetime, now: datetime
) -> tuple[Transaction, dict[str, Any] | None]:
    """The EV started or stopped drawing energy at ``at``: a new period, and the Session's change;
    ``None`` when nothing changes (the same state, a state reported for before the current period
    began, or an ended transaction)."""
    current = periods(transaction)[-1]
    if transaction.ended_at is not None or current.charging == charging or at <= current.start:
        return transaction, None
    stamp = _stamp(transaction, now)
    boundary = Period(start=at, charging=charging, register_wh=transaction.register_wh)
    changed = transaction.model_copy(
        update={"boundaries": (*transaction.boundaries, boundary), "last_updated": stamp}
    )
    patch = {
        "charging_periods": charging_periods(changed, transaction.register_wh, at),
        "last_updated": format_datetime(stamp),
    }
    return changed, patch


def cdr_token(token: Mapping[str, Any] | None, id_tag: str | None) -> dict[str, Any]:
    """The Session's ``cdr_token`` from the token's eMSP; empty for a tag no eMSP pushed."""
    if token is None:
        return {}
    return {
        "country_code": token["country_code"],
        "party_id": token["party_id"],
        "uid": token.get("uid", id_tag),
        "type": token.get("type", "RFID"),
        "contract_id": token.get("contract_id", id_tag),
    }


def _own_token(transaction: Transaction) -> dict[str, Any]:
    """A tag no eMSP pushed (or none yet, 2.0.1 PENDING) is named after the hub's CPO alone."""
    uid = transaction.id_tag or ""
    return {
        "country_code": transaction.country_code,
        "party_id": transaction.party_id,
        "uid": uid,
        "type": "RFID" if transaction.id_tag is not None else "OTHER",
        "contract_id": uid,
    }


def session(transaction: Transaction, *, now: datetime) -> tuple[Transaction, dict[str, Any]]:
    """The whole Session as it stands: at the start (1.6 StartTransaction, 2.0.1 Started), and when a
    2.0.1 PENDING transaction is decided (the eMSP hears of it only then)."""
    stamp = _stamp(transaction, now)
    energy = kwh(transaction, transaction.register_wh)
    document: dict[str, Any] = {
        "country_code": transaction.country_code,
        "party_id": transaction.party_id,
        "id": transaction.session_id,
        "start_date_time": format_datetime(transaction.started_at),
        "kwh": _number(energy),
        "cdr_token": cdr_token(transaction.token, transaction.id_tag) or _own_token(transaction),
        "auth_method": transaction.auth_method,
        "location_id": transaction.location_id,
        "evse_uid": evse_uid(transaction.location_id, transaction.evse),
        "connector_id": transaction.connector_id,
        "currency": transaction.currency,
        "status": transaction.status,
        "last_updated": format_datetime(stamp),
    }
    if transaction.authorization_reference is not None:
        document["authorization_reference"] = transaction.authorization_reference
    if transaction.read_at is not None and energy:
        document["charging_periods"] = charging_periods(
            transaction, transaction.register_wh, transaction.read_at
        )
    register = transaction.register_wh if transaction.register_wh is not None else transaction.meter_start_wh
    return transaction.model_copy(update={"register_wh": register, "last_updated": stamp}), document


def started(transaction: Transaction, *, now: datetime) -> tuple[Transaction, dict[str, Any]]:
    """The whole Session at a 1.6 StartTransaction: ACTIVE, nothing charged yet."""
    return session(transaction, now=now)


def metered(
    transaction: Transaction, register: Decimal, *, at: datetime, now: datetime
) -> tuple[Transaction, dict[str, Any]]:
    """The change a meter reading makes: ``kwh``, ``charging_periods``, ``last_updated``."""
    stamp = _stamp(transaction, now)
    energy = kwh(transaction, register)
    patch = {
        "kwh": _number(energy),
        "charging_periods": charging_periods(transaction, register, at),
        "last_updated": format_datetime(stamp),
    }
    changed = transaction.model_copy(update={"register_wh": register, "read_at": at, "last_updated": stamp})
    return changed, patch


def stopped(
    transaction: Transaction, meter_stop_wh: Decimal | None, *, at: datetime, now: datetime
) -> tuple[Transaction, dict[str, Any]]:
    """The change the end makes (1.6 StopTransaction, 2.0.1 Ended): COMPLETED, ``end_date_time`` and
    the final energy (the last reading when the end carries none)."""
    stamp = _stamp(transaction, now)
    register = meter_stop_wh if meter_stop_wh is not None else transaction.register_wh
    energy = kwh(transaction, register)
    patch = {
        "status": COMPLETED,
        "end_date_time": format_datetime(at),
        "kwh": _number(energy),
        "charging_periods": charging_periods(transaction, register, at),
        "last_updated": format_datetime(stamp),
    }
    changed = transaction.model_copy(
        update={
            "status": COMPLETED,
            "register_wh": register,
            "read_at": at,
            "ended_at": at,
            "last_updated": stamp,
        }
    )
    return changed, patch


def invalidated(
    transaction: Transaction, *, at: datetime, now: datetime
) -> tuple[Transaction, dict[str, Any]]:
    """The change a refused token makes to a running Session: INVALID (no CDR follows)."""
    stamp = _stamp(transaction, now)
    patch = {"status": INVALID, "end_date_time": format_datetime(at), "last_updated": format_datetime(stamp)}
    changed = transaction.model_copy(update={"status": INVALID, "ended_at": at, "last_updated": stamp})
    return changed, patch
