"""OCPP 2.0.1 ``TransactionEvent`` as changes to an OCPI Session (ingest guide §5.3): pure.

``TransactionEvent`` reads the CALL as the library hands it over (snake_case keys); ``apply`` takes the
``Transaction`` the hub keeps, one event and, when the event carried an idToken, what the hub decided
about it (``Identified``), and returns the transaction after the event with the Session documents to
publish, in order. Repeats are the shell's business (``is_repeat``): an event whose ``seqNo`` is not
above the last one applied was applied already (stations replay queued events after a reconnect).

Meter values are numbers with ``unitOfMeasure{unit, multiplier}``: read as ``Decimal`` via their text,
scaled by ten to the multiplier (guide §5.4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, Field

from hub.ocpi.types import parse_datetime
from hub.ocpp import sessions, signed
from hub.ocpp.sessions import ACTIVE, COMPLETED, INVALID, PENDING, Transaction

STARTED, UPDATED, ENDED = "Started", "Updated", "Ended"
# Ended with this reason: the station took the authorisation back, the Session is INVALID (guide §5.1).
DEAUTHORIZED = "DeAuthorized"
_UNITS = {"Wh": Decimal(1), "kWh": Decimal(1000)}

Document = dict[str, Any]


# 2.0.1 ChargingStateEnumType: Charging is a charging period, the others a period without charging
# (guide §5.3); before the EV first charged they change nothing (the first period is a charging one).
CHARGING_STATES = {
    "Charging": True,
    "SuspendedEV": False,
    "SuspendedEVSE": False,
    "EVConnected": False,
    "Idle": False,
}


class TransactionEvent(BaseModel):
    """The parts of a 2.0.1 ``TransactionEventRequest`` the hub uses (snake_case, as received)."""

    event_type: str
    timestamp: datetime
    trigger_reason: str
    seq_no: int
    transaction_info: dict[str, Any]
    meter_value: list[dict[str, Any]] = Field(default_factory=list)
    offline: bool = False
    evse: dict[str, Any] | None = None
    id_token: dict[str, Any] | None = None

    @property
    def transaction_id(self) -> str:
        return str(self.transaction_info["transaction_id"])

    @property
    def remote_start_id(self) -> int | None:
        found = self.transaction_info.get("remote_start_id")
        return found if isinstance(found, int) else None

    @property
    def stopped_reason(self) -> str | None:
        found = self.transaction_info.get("stopped_reason")
        return str(found) if found else None

    @property
    def charging(self) -> bool | None:
        """Whether the EV draws energy now (``chargingState``), None when the event does not say."""
        return CHARGING_STATES.get(str(self.transaction_info.get("charging_state")))

    @property
    def evse_number(self) -> int | None:
        found = (self.evse or {}).get("id")
        return found if isinstance(found, int) else None

    @property
    def connector_number(self) -> int | None:
        found = (self.evse or {}).get("connector_id")
        return found if isinstance(found, int) else None


@dataclass(frozen=True)
class Identified:
    """What the hub decided about the idToken an event carried."""

    uid: str
    accepted: bool
    token: Mapping[str, Any] | None  # the OCPI Token, when an eMSP pushed it (or a remote start gave it)
    auth_method: str
    authorization_reference: str | None = None


def is_repeat(last_seq_no: int | None, seq_no: int) -> bool:
    """Whether an event with ``seq_no`` was applied already (the same or a lower number)."""
    return last_seq_no is not None and seq_no <= last_seq_no


def read_event(payload: Mapping[str, Any]) -> TransactionEvent:
    """The event from the handler's keyword arguments."""
    return TransactionEvent.model_validate(
        {**payload, "timestamp": parse_datetime(str(payload["timestamp"]))}
    )


def _wh(value: Any, unit_of_measure: Mapping[str, Any] | None) -> Decimal | None:
    unit = dict(unit_of_measure or {})
    scale = _UNITS.get(str(unit.get("unit", "Wh")))
    if scale is None:
        return None
    try:
        number = Decimal(str(value))
        multiplier = int(unit.get("multiplier", 0))
    except (InvalidOperation, TypeError, ValueError):
        return None
    if not number.is_finite():
        return None
    return number.scaleb(multiplier) * scale


def register_wh(meter_values: Sequence[Mapping[str, Any]]) -> tuple[Decimal, datetime] | None:
    """The latest whole-meter energy register in Wh, and when it was read, from 2.0.1 ``meterValue``
    entries, preferring ``location=Outlet``; None when there is none."""
    found: tuple[Decimal, datetime] | None = None
    for entry in meter_values:
        candidates: list[tuple[bool, Decimal]] = []
        for sample in entry.get("sampled_value") or []:
            if sample.get("measurand", sessions.REGISTER) != sessions.REGISTER or sample.get("phase"):
                continue
            value = _wh(sample.get("value"), sample.get("unit_of_measure"))
            if value is not None:
                candidates.append((sample.get("location") == "Outlet", value))
        if candidates:
            at = parse_datetime(str(entry["timestamp"]))
            if found is None or at >= found[1]:
                found = max(candidates, key=lambda c: c[0])[1], at
    return found


def _identify(transaction: Transaction, identified: Identified, at: datetime) -> Transaction:
    status = ACTIVE if identified.accepted else INVALID
    update: dict[str, Any] = {
        "id_tag": identified.uid,
        "status": status,
        "token": dict(identified.token) if identified.token is not None else None,
        "auth_method": identified.auth_method,
        "authorization_reference": identified.authorization_reference,
    }
    if identified.accepted and transaction.status == PENDING and transaction.last_updated is not None:
        update["started_at"] = at  # OCPI: an ACTIVE Session starts when it became active
    return transaction.model_copy(update=update)


def apply(
    transaction: Transaction, event: TransactionEvent, identified: Identified | None, *, now: datetime
) -> tuple[Transaction, list[tuple[str, Document]]]:
    """The transaction after ``event`` and the Session documents to publish (method, document).

    A transaction the hub never published (the first event) gets its whole Session; so does one that
    leaves PENDING, because the token's eMSP hears of it only then. Readings older than the last one
    applied change nothing; signed readings are kept whatever their age.
    """
    changes: list[tuple[str, Document]] = []
    update: dict[str, Any] = {}
    if transaction.evse == 0 and event.evse_number is not None:
        update["evse"] = event.evse_number
        update["connector_id"] = str(event.connector_number or 1)
    records = signed.from_v201(event.meter_value)
    if records:
        update["signed"] = signed.merged(transaction.signed, records)
    reading = register_wh(event.meter_value)
    if reading is not None and transaction.meter_start_wh is None:
        update |= {"meter_start_wh": reading[0], "register_wh": reading[0], "read_at": reading[1]}
    transaction = transaction.model_copy(update=update)
    first = transaction.last_updated is None
    if identified is not None and transaction.status in (PENDING, ACTIVE):
        was = transaction.status
        transaction = _identify(transaction, identified, event.timestamp)
        if transaction.status != was or first:
            if first or was == PENDING:
                transaction, document = sessions.session(transaction, now=now)
                changes.append(("PUT", document))
            else:
                transaction, document = sessions.invalidated(transaction, at=event.timestamp, now=now)
                changes.append(("PATCH", document))
            first = False
    if first:
        transaction, document = sessions.session(transaction, now=now)
        changes.append(("PUT", document))
    fresh = reading is not None and (transaction.read_at is None or reading[1] > transaction.read_at)
    if transaction.status == ACTIVE and reading is not None and fresh and event.event_type != ENDED:
        transaction, document = sessions.metered(transaction, reading[0], at=reading[1], now=now)
        changes.append(("PATCH", document))
    if transaction.status == ACTIVE and event.charging is not None and event.event_type != ENDED:
        transaction, patch = sessions.charging_changed(
            transaction, event.charging, at=event.timestamp, now=now
        )
        if patch is not None:
            changes.append(("PATCH", patch))
    if event.event_type == ENDED and transaction.ended_at is None:
        transaction = transaction.model_copy(update={"stopped_reason": event.stopped_reason})
        register = reading[0] if reading is not None and fresh else None
        if transaction.status == ACTIVE and event.stopped_reason != DEAUTHORIZED:
            transaction, document = sessions.stopped(transaction, register, at=event.timestamp, now=now)
        else:
            transaction, document = sessions.invalidated(transaction, at=event.timestamp, now=now)
        changes.append(("PATCH", document))
    return transaction, changes


def completed(transaction: Transaction) -> bool:
    """Whether the transaction ended with a Session that gets a CDR."""
    return transaction.status == COMPLETED
