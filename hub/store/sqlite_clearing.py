"""Cleared CDRs in SQLite: one row per CDR key, the record as JSON beside the columns it is found by
(its delivery, when its charging ended). ``add`` refuses a key it holds: a CDR is accepted once."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

import aiosqlite

from hub.clearing.records import ClearedCdr, Evidence
from hub.outbox.records import Delivery
from hub.store.port import Conflict, StaleWrite
from hub.store.sqlite_base import Transactions
from hub.store.sqlite_ledger import chain
from hub.store.sqlite_outbox import insert, microseconds

SCHEMA = """
CREATE TABLE IF NOT EXISTS clearing (
    key          TEXT PRIMARY KEY,
    end_at       INTEGER NOT NULL,
    delivery_id  TEXT,
    revision     INTEGER NOT NULL,
    document     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS clearing_by_end ON clearing(end_at, key);
CREATE INDEX IF NOT EXISTS clearing_by_delivery ON clearing(delivery_id);
"""


class SqliteClearingStore:
    def __init__(self, db: aiosqlite.Connection, transactions: Transactions) -> None:
        self._db = db
        self._transactions = transactions

    async def add(self, record: ClearedCdr) -> ClearedCdr:
        stored = record.model_copy(update={"revision": 1})
        try:
            async with self._transactions.single() as db:
                await db.execute(
                    "INSERT INTO clearing (key, end_at, delivery_id, revision, document) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (
                        record.key,
                        microseconds(record.end_date_time),
                        record.delivery_id,
                        1,
                        stored.model_dump_json(),
                    ),
                )
        except sqlite3.IntegrityError:
            raise Conflict(f"the CDR {record.key} was accepted before") from None
        return stored

    async def accept(
        self, record: ClearedCdr, deliveries: Sequence[Delivery], evidence: Evidence
    ) -> ClearedCdr:
        """The record, its deliveries and its ledger entry in one transaction: all or nothing."""
        stored = record.model_copy(update={"revision": 1})

        def write(connection: sqlite3.Connection) -> None:
            connection.execute(
                "INSERT INTO clearing (key, end_at, delivery_id, revision, document) VALUES (?, ?, ?, ?, ?)",
                (
                    record.key,
                    microseconds(record.end_date_time),
                    record.delivery_id,
                    1,
                    stored.model_dump_json(),
                ),
            )
            insert(connection, deliveries)
            chain(connection, evidence.kind, record.key, evidence.data(stored), evidence.at)

        try:
            await self._transactions.run(write)
        except sqlite3.IntegrityError:
            raise Conflict(f"the CDR {record.key} was accepted before") from None
        return stored

    async def get(self, key: str) -> ClearedCdr | None:
        found = await self._many("SELECT document FROM clearing WHERE key = ?", (key.upper(),))
        return found[0] if found else None

    async def by_delivery(self, delivery_id: str) -> ClearedCdr | None:
        found = await self._many("SELECT document FROM clearing WHERE delivery_id = ?", (delivery_id,))
        return found[0] if found else None

    async def update(self, record: ClearedCdr) -> ClearedCdr:
        stored = record.model_copy(update={"revision": record.revision + 1})
        async with self._transactions.single() as db:
            cursor = await db.execute(
                "UPDATE clearing SET end_at = ?, delivery_id = ?, revision = ?, document = ? "
                "WHERE key = ? AND revision = ?",
                (
                    microseconds(record.end_date_time),
                    record.delivery_id,
                    stored.revision,
                    stored.model_dump_json(),
                    record.key,
                    record.revision,
                ),
            )
            if cursor.rowcount != 1:
                raise StaleWrite(f"the cleared CDR {record.key} changed since revision {record.revision}")
        return stored

    async def ended_between(self, start: datetime, end: datetime) -> list[ClearedCdr]:
        return await self._many(
            "SELECT document FROM clearing WHERE end_at >= ? AND end_at < ? ORDER BY end_at, key",
            (microseconds(start), microseconds(end)),
        )

    async def _many(self, sql: str, parameters: tuple[object, ...]) -> list[ClearedCdr]:
        rows = await self._db.execute_fetchall(sql, parameters)
        return [ClearedCdr.model_validate_json(row[0]) for row in rows]
