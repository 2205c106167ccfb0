"""The outbox in SQLite.

One row per delivery: the document as JSON, and beside it the columns the workers look up by. Times
are kept as integer microseconds since the epoch, so they sort and compare exactly. ``seq`` is the
insertion order: deliveries created in the same instant (a batch) come out in the order they were
added. Object keys are made of CiStrings, so they are indexed upper-cased (the document keeps the
original spelling).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import aiosqlite

from hub.outbox.records import Delivery, DeliveryState
from hub.store.port import Conflict, StaleWrite
from hub.store.sqlite_base import Transactions

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
    id                  TEXT NOT NULL UNIQUE,
    state               TEXT NOT NULL,
    next_attempt_at     INTEGER,
    target_platform_id  TEXT NOT NULL,
    object_key          TEXT,
    created_at          INTEGER NOT NULL,
    revision            INTEGER NOT NULL,
    document            TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(state, next_attempt_at);
CREATE INDEX IF NOT EXISTS outbox_by_state ON outbox(state, created_at, seq);
CREATE INDEX IF NOT EXISTS outbox_by_target ON outbox(target_platform_id, state, created_at, seq);
CREATE INDEX IF NOT EXISTS outbox_by_object ON outbox(target_platform_id, object_key, created_at, seq);
"""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ORDER = "ORDER BY created_at, seq"


def microseconds(moment: datetime) -> int:
    """Exact integer microseconds since the epoch (a float timestamp would round); naive is UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _columns(delivery: Delivery) -> tuple[object, ...]:
    """state, next_attempt_at, target_platform_id, object_key, created_at, revision, document."""
    return (
        delivery.state.value,
        None if delivery.next_attempt_at is None else microseconds(delivery.next_attempt_at),
        delivery.target_platform_id,
        None if delivery.object_key is None else delivery.object_key.upper(),
        microseconds(delivery.created_at),
        delivery.revision,
        delivery.model_dump_json(),
    )


class SqliteOutboxStore:
    def __init__(self, db: aiosqlite.Connection, transactions: Transactions) -> None:
        self._db = db
        self._transactions = transactions

    async def add(self, deliveries: Sequence[Delivery]) -> None:
        if not deliveries:
            return
        try:
            async with self._transactions.write() as db:
                await db.executemany(
                    "INSERT INTO outbox (id, state, next_attempt_at, target_platform_id, object_key, "
                    "created_at, revision, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [(delivery.id, *_columns(delivery)) for delivery in deliveries],
                )
        except sqlite3.IntegrityError as error:
            raise Conflict(f"a delivery with one of these ids exists already ({error})") from None

    async def get(self, delivery_id: str) -> Delivery | None:
        found = await self._many("SELECT document FROM outbox WHERE id = ?", (delivery_id,))
        return found[0] if found else None

    async def update(self, delivery: Delivery) -> Delivery:
        stored = delivery.model_copy(update={"revision": delivery.revision + 1})
        async with self._transactions.write() as db:
            cursor = await db.execute(
                "UPDATE outbox SET state = ?, next_attempt_at = ?, target_platform_id = ?, object_key = ?, "
                "created_at = ?, revision = ?, document = ? WHERE id = ? AND revision = ?",
                (*_columns(stored), delivery.id, delivery.revision),
            )
            if cursor.rowcount != 1:
                raise StaleWrite(f"delivery {delivery.id} changed since revision {delivery.revision}")
        return stored

    async def due(self, now: datetime, *, limit: int) -> list[Delivery]:
        if limit <= 0:
            return []  # SQLite reads a negative limit as "no limit"
        return await self._many(
            f"SELECT document FROM outbox WHERE state = ? AND next_attempt_at <= ? {_ORDER} LIMIT ?",  # noqa: S608
            (DeliveryState.PENDING.value, microseconds(now), limit),
        )

    async def for_target(
        self, target_platform_id: str, *, states: Sequence[DeliveryState], limit: int
    ) -> list[Delivery]:
        if not states or limit <= 0:
            return []
        marks = ", ".join("?" for _ in states)
        return await self._many(
            f"SELECT document FROM outbox WHERE target_platform_id = ? AND state IN ({marks}) "  # noqa: S608
            f"{_ORDER} LIMIT ?",
            (target_platform_id, *(DeliveryState(state).value for state in states), limit),
        )

    async def for_object(self, target_platform_id: str, object_key: str) -> list[Delivery]:
        return await self._many(
            f"SELECT document FROM outbox WHERE target_platform_id = ? AND object_key = ? {_ORDER}",  # noqa: S608
            (target_platform_id, object_key.upper()),
        )

    async def by_state(self, state: DeliveryState, *, limit: int, offset: int = 0) -> list[Delivery]:
        if limit <= 0:
            return []
        return await self._many(
            f"SELECT document FROM outbox WHERE state = ? {_ORDER} LIMIT ? OFFSET ?",  # noqa: S608
            (DeliveryState(state).value, limit, offset),
        )

    # execute_fetchall: one hop to the database thread per query, not three (execute, fetch, close).
    async def _many(self, sql: str, parameters: tuple[object, ...]) -> list[Delivery]:
        rows = await self._db.execute_fetchall(sql, parameters)
        return [Delivery.model_validate_json(row[0]) for row in rows]
