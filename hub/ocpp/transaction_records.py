"""What the hub keeps of OCPP transactions and of the remote starts it asked stations for: pure.

One ``TransactionRecord`` per transaction a station reported, unique on (station, the station's
transaction id); a 1.6 StartTransaction is also unique on its ``start_key`` (stations send a start
again after a lost reply, and must get the same transaction id back). The record holds the whole
``Transaction`` (``hub.ocpp.sessions``), so a hub process that did not see the start can carry it on.
A ``RemoteStart`` is a start the hub asked a station for on an eMSP's behalf; the first transaction
that matches it takes it (``session_id``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from hub.ocpp.sessions import Transaction

# How long a remote start waits for its transaction, and vouches for its token (guide §7.1).
REMOTE_START_WINDOW = timedelta(minutes=5)


class TransactionStatus(StrEnum):
    OPEN = "open"
    STOPPED = "stopped"
    INVALID = "invalid"  # refused, or ended without a Session that gets a CDR


def start_key(station_id: str, connector: int, id_tag: str, meter_start: int, timestamp: str) -> str:
    """A 1.6 StartTransaction's identity: station, connector, id tag, meter and time as sent."""
    return "\n".join((station_id.upper(), str(connector), id_tag, str(meter_start), timestamp))


class TransactionRecord(BaseModel):
    station_id: str
    protocol: str
    transaction_id: str  # 1.6 integers as decimal text, 2.0.1 as the station sent it
    session_id: str
    status: TransactionStatus
    # None for a 1.6 start the hub refused: only its id is kept, for a start sent again.
    transaction: Transaction | None = None
    seq_no: int | None = None  # 2.0.1: the last seqNo applied
    start_key: str | None = None  # 1.6 only
    created_at: datetime
    revision: int = 0

    @property
    def station_key(self) -> str:
        return self.station_id.upper()

    @property
    def session_key(self) -> str:
        return self.session_id.upper()


class RemoteStart(BaseModel):
    id: str
    station_id: str
    evse: int  # 1.6 connectorId, 2.0.1 evse id
    id_tag: str
    token: dict[str, Any]  # the OCPI Token the command named
    authorization_reference: str | None = None
    remote_start_id: int
    created_at: datetime
    session_id: str | None = None  # the Session of the transaction that took it
    revision: int = 0

    @property
    def station_key(self) -> str:
        return self.station_id.upper()

    def fresh(self, now: datetime) -> bool:
        return now - self.created_at <= REMOTE_START_WINDOW


@dataclass(frozen=True)
class RunningTransaction:
    """A transaction as OCPI commands see it (STOP_SESSION, UNLOCK_CONNECTOR)."""

    station_id: str
    protocol: str
    transaction_id: str
    evse: int
    connector: int
    status: str  # the OCPI SessionStatus of its Session
