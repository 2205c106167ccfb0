"""OCPP transactions in SQLite: one row per transaction, its document as JSON beside the keys that must
stay unique (station and transaction id, Session id, 1.6 start key) and the revision every replace
compares and sets; remote starts likewise; 1.6 transaction ids from a counter row."""

from __future__ import annotations

import sqlite3
from datetime import datetime

import aiosqlite

from hub.ocpp.transaction_records import RemoteStart, TransactionRecord
from hub.store.port import Conflict, StaleWrite
from hub.store.sqlite_base import Transactions

SCHEMA = """
CREATE TABLE IF NOT EXISTS ocpp_transactions (
    station_key    TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    session_key    TEXT NOT NULL UNIQUE,
    start_key      TEXT UNIQUE,
    status         TEXT NOT NULL,
    created_at     REAL NOT NULL,
    revision       INTEGER NOT NULL,
    document       TEXT NOT NULL,
    PRIMARY KEY (station_key, transaction_id)
);
CREATE INDEX IF NOT EXISTS ocpp_transactions_open ON ocpp_transactions(station_key, status);
CREATE TABLE IF NOT EXISTS ocpp_remote_starts (
    id          TEXT PRIMARY KEY,
    station_key TEXT NOT NULL,
    created_at  REAL NOT NULL,
    revision    INTEGER NOT NULL,
    document    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ocpp_remote_starts_by_station ON ocpp_remote_starts(station_key, created_at);
CREATE TABLE IF NOT EXISTS ocpp_counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""
# 1.6 transactionId is a signed 32-bit integer; ids wrap round to 1 after the largest.
_MAX_ID = 0x7FFFFFFF


class SqliteTransactionStore:
    def __init__(self, db: aiosqlite.Connection, transactions: Transactions) -> None:
        self._db = db
        self._transactions = transactions

    async def add(self, record: TransactionRecord) -> None:
        try:
            async with self._transactions.single() as db:
                await db.execute(
                    "INSERT INTO ocpp_transactions (station_key, transaction_id, session_key, start_key, "
                    "status, created_at, revision, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        record.station_key,
                        record.transaction_id,
                        record.session_key,
                        record.start_key,
                        record.status.value,
                        record.created_at.timestamp(),
                        record.revision,
                        record.model_dump_json(),
                    ),
                )
        except sqlite3.IntegrityError as error:
            raise Conflict(f"transaction {record.transaction_id} of {record.station_id}: {error}") from None

    async def get(self, station_id: str, transaction_id: str) -> TransactionRecord | None:
        return await self._one(
            "SELECT document FROM ocpp_transactions WHERE station_key = ? AND transaction_id = ?",
            (station_id.upper(), transaction_id),
        )

    async def by_start_key(self, start_key: str) -> TransactionRecord | None:
        return await self._one("SELECT document FROM ocpp_transactions WHERE start_key = ?", (start_key,))

    async def by_session(self, session_id: str) -> TransactionRecord | None:
        return await self._one(
            "SELECT document FROM ocpp_transactions WHERE session_key = ?", (session_id.upper(),)
        )

    async def open_of(self, station_id: str) -> list[TransactionRecord]:
        rows = await self._db.execute_fetchall(
            "SELECT document FROM ocpp_transactions WHERE station_key = ? AND status = 'open' "
            "ORDER BY created_at",
            (station_id.upper(),),
        )
        return [TransactionRecord.model_validate_json(row[0]) for row in rows]

    async def update(self, record: TransactionRecord) -> TransactionRecord:
        stored = record.model_copy(update={"revision": record.revision + 1})
        async with self._transactions.single() as db:
            cursor = await db.execute(
                "UPDATE ocpp_transactions SET revision = ?, status = ?, document = ? "
                "WHERE station_key = ? AND transaction_id = ? AND revision = ?",
                (
                    stored.revision,
                    stored.status.value,
                    stored.model_dump_json(),
                    record.station_key,
                    record.transaction_id,
                    record.revision,
                ),
            )
        if cursor.rowcount != 1:
            raise StaleWrite(f"transaction {record.transaction_id} changed since revision {record.revision}")
        return stored

    async def next_id(self) -> int:
        async with self._transactions.single() as db:
            rows = list(
                await db.execute_fetchall(
                    "INSERT INTO ocpp_counters (name, value) VALUES ('ocpp16', 1) "
                    "ON CONFLICT (name) DO UPDATE SET value = value % ? + 1 RETURNING value",
                    (_MAX_ID,),
                )
            )
        return int(rows[0][0])

    async def add_remote_start(self, start: RemoteStart) -> None:
        try:
            async with self._transactions.single() as db:
                await db.execute(
                    "INSERT INTO ocpp_remote_starts (id, station_key, created_at, revision, document) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (
                        start.id,
                        start.station_key,
                        start.created_at.timestamp(),
                        start.revision,
                        start.model_dump_json(),
                    ),
                )
        except sqlite3.IntegrityError as error:
            raise Conflict(f"remote start {start.id}: {error}") from None

    async def remote_starts(self, station_id: str, since: datetime) -> list[RemoteStart]:
        rows = await self._db.execute_fetchall(
            "SELECT document FROM ocpp_remote_starts WHERE station_key = ? AND created_at >= ? "
            "ORDER BY created_at, id",
            (station_id.upper(), since.timestamp()),
        )
        return [RemoteStart.model_validate_json(row[0]) for row in rows]

    async def update_remote_start(self, start: RemoteStart) -> RemoteStart:
        stored = start.model_copy(update={"revision": start.revision + 1})
        async with self._transactions.single() as db:
            cursor = await db.execute(
                "UPDATE ocpp_remote_starts SET revision = ?, document = ? WHERE id = ? AND revision = ?",
                (stored.revision, stored.model_dump_json(), start.id, start.revision),
            )
        if cursor.rowcount != 1:
            raise StaleWrite(f"remote start {start.id} changed since revision {start.revision}")
        return stored

    async def _one(self, sql: str, parameters: tuple[object, ...]) -> TransactionRecord | None:
        rows = list(await self._db.execute_fetchall(sql, parameters))
        return TransactionRecord.model_validate_json(rows[0][0]) if rows else None
