"""The outbox in SQLite.

One row per delivery: the document as JSON, and beside it the columns the workers look up by. The
body (the request to send, often several KB) never changes, so it lives in ``outbox_bodies``, written
once: the many small writes of a delivery's life (claim, attempts, state) rewrite a small row. Times
are kept as integer microseconds since the epoch, so they sort and compare exactly. ``seq`` is the
insertion order: deliveries created in the same instant (a batch) come out in the order they were
added. Object keys are made of CiStrings, so they are indexed upper-cased (the document keeps the
original spelling).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import aiosqlite

from hub.outbox.records import Delivery, DeliveryState
from hub.store.port import Conflict, StaleWrite, purgeable
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
CREATE TABLE IF NOT EXISTS outbox_bodies (
    id      TEXT PRIMARY KEY REFERENCES outbox(id) ON DELETE CASCADE,
    body    TEXT NOT NULL   -- the body as a JSON string literal, spliced into the document on reading
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(state, next_attempt_at);
CREATE INDEX IF NOT EXISTS outbox_by_state ON outbox(state, created_at, seq);
CREATE INDEX IF NOT EXISTS outbox_by_target ON outbox(target_platform_id, state, created_at, seq);
CREATE INDEX IF NOT EXISTS outbox_by_object ON outbox(target_platform_id, object_key, created_at, seq);
"""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ORDER = "ORDER BY o.created_at, o.seq"
_SELECT = "SELECT o.document, b.body FROM outbox o LEFT JOIN outbox_bodies b ON b.id = o.id"
# Files written before bodies had a table of their own keep them in the document; moved on opening.
SCHEMA_VERSION = 1
MIGRATIONS: dict[int, list[str]] = {
    1: [
        "INSERT OR IGNORE INTO outbox_bodies (id, body) "
        "SELECT id, json_quote(json_extract(document, '$.body')) FROM outbox "
        "WHERE json_type(document, '$.body') = 'text'",
        "UPDATE outbox SET document = json_remove(document, '$.body') "
        "WHERE json_type(document, '$.body') IS NOT NULL",
    ],
}
# Rows per batched statement: well inside SQLite's limit on parameters.
BATCH = 500
_UPDATE_MANY = (
    "WITH v(id, old, state, due, target, okey, created, revision, document) AS (VALUES {rows}) "
    "UPDATE outbox SET state = v.state, next_attempt_at = v.due, target_platform_id = v.target, "
    "object_key = v.okey, created_at = v.created, revision = v.revision, document = v.document "
    "FROM v WHERE outbox.id = v.id AND outbox.revision = v.old RETURNING outbox.id"
)
# Rows one purge transaction deletes: the hub shares the file, and waits while a transaction
# holds the write lock.
PURGE_CHUNK = 5_000


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
        delivery.model_dump_json(exclude=_BODY),
    )


_BODY = {"body"}


def _delivery(document: str, body: str | None) -> Delivery:
    """The delivery from its row: the body's JSON literal goes back into the document text."""
    if body is not None:
        document = f'{document[:-1]},"body":{body}}}'
    return Delivery.model_validate_json(document)


async def migrate(db: aiosqlite.Connection) -> None:
    """Bring an older file's outbox up to ``SCHEMA_VERSION`` (SQLite's ``user_version``), a step
    per transaction. Steps are idempotent: two processes opening an old file at once both succeed."""
    rows = list(await db.execute_fetchall("PRAGMA user_version"))
    version = int(rows[0][0])
    for target in range(version + 1, SCHEMA_VERSION + 1):
        await db.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[target]:
                await db.execute(statement)
            await db.execute(f"PRAGMA user_version = {target}")
        except BaseException:
            await db.rollback()
            raise
        await db.commit()


def insert(connection: sqlite3.Connection, deliveries: Sequence[Delivery]) -> None:
    """Insert deliveries and their bodies, inside the caller's transaction (``IntegrityError`` on a
    known id)."""
    connection.executemany(
        "INSERT INTO outbox (id, state, next_attempt_at, target_platform_id, object_key, "
        "created_at, revision, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(delivery.id, *_columns(delivery)) for delivery in deliveries],
    )
    connection.executemany(
        "INSERT INTO outbox_bodies (id, body) VALUES (?, ?)",
        [(d.id, json.dumps(d.body, ensure_ascii=False)) for d in deliveries if d.body is not None],
    )


class SqliteOutboxStore:
    def __init__(self, db: aiosqlite.Connection, transactions: Transactions) -> None:
        self._db = db
        self._transactions = transactions

    async def add(self, deliveries: Sequence[Delivery]) -> None:
        if not deliveries:
            return
        try:
            await self._transactions.run(lambda connection: insert(connection, deliveries))
        except sqlite3.IntegrityError as error:
            raise Conflict(f"a delivery with one of these ids exists already ({error})") from None

    async def get(self, delivery_id: str) -> Delivery | None:
        found = await self._many(f"{_SELECT} WHERE o.id = ?", (delivery_id,))
        return found[0] if found else None

    async def update(self, delivery: Delivery) -> Delivery:
        [stored] = await self.update_many([delivery])
        if stored is None:
            raise StaleWrite(f"delivery {delivery.id} changed since revision {delivery.revision}")
        return stored

    async def get_many(self, delivery_ids: Sequence[str]) -> list[Delivery]:
        found: list[Delivery] = []
        for start in range(0, len(delivery_ids), BATCH):
            chunk = delivery_ids[start : start + BATCH]
            marks = ", ".join("?" for _ in chunk)
            found += await self._many(f"{_SELECT} WHERE o.id IN ({marks})", tuple(chunk))
        return found

    async def update_many(self, deliveries: Sequence[Delivery]) -> list[Delivery | None]:
        """One compare-and-set statement per batch: ``UPDATE … FROM (VALUES …) … RETURNING id``,
        atomic by itself, so it needs neither BEGIN nor COMMIT (one hop to the database thread)."""
        written: set[str] = set()
        stored = [d.model_copy(update={"revision": d.revision + 1}) for d in deliveries]
        for start in range(0, len(stored), BATCH):
            chunk = stored[start : start + BATCH]
            rows = ", ".join("(?, ?, ?, ?, ?, ?, ?, ?, ?)" for _ in chunk)
            parameters = [value for d in chunk for value in (d.id, d.revision - 1, *_columns(d))]
            async with self._transactions.single() as db:
                returned = await db.execute_fetchall(_UPDATE_MANY.format(rows=rows), parameters)
            written.update(row[0] for row in returned)
        return [d if d.id in written else None for d in stored]

    async def due(self, now: datetime, *, limit: int) -> list[Delivery]:
        if limit <= 0:
            return []  # SQLite reads a negative limit as "no limit"
        return await self._many(
            f"{_SELECT} WHERE o.state = ? AND o.next_attempt_at <= ? {_ORDER} LIMIT ?",
            (DeliveryState.PENDING.value, microseconds(now), limit),
        )

    async def for_target(
        self, target_platform_id: str, *, states: Sequence[DeliveryState], limit: int
    ) -> list[Delivery]:
        if not states or limit <= 0:
            return []
        marks = ", ".join("?" for _ in states)
        return await self._many(
            f"{_SELECT} WHERE o.target_platform_id = ? AND o.state IN ({marks}) {_ORDER} LIMIT ?",
            (target_platform_id, *(DeliveryState(state).value for state in states), limit),
        )

    async def for_object(self, target_platform_id: str, object_key: str) -> list[Delivery]:
        return await self._many(
            f"{_SELECT} WHERE o.target_platform_id = ? AND o.object_key = ? {_ORDER}",
            (target_platform_id, object_key.upper()),
        )

    async def for_objects(self, target_platform_id: str, object_keys: Sequence[str]) -> list[Delivery]:
        keys = sorted({key.upper() for key in object_keys})
        found: list[Delivery] = []
        for start in range(0, len(keys), BATCH):
            chunk = keys[start : start + BATCH]
            marks = ", ".join("?" for _ in chunk)
            found += await self._many(
                # The body stays where it is.
                f"SELECT o.document, NULL FROM outbox o WHERE o.target_platform_id = ? AND o.object_key IN ({marks})",  # noqa: S608, E501
                (target_platform_id, *chunk),
            )
        found.sort(key=lambda d: d.created_at)
        return found

    async def by_state(self, state: DeliveryState, *, limit: int, offset: int = 0) -> list[Delivery]:
        if limit <= 0:
            return []
        return await self._many(
            f"{_SELECT} WHERE o.state = ? {_ORDER} LIMIT ? OFFSET ?",
            (DeliveryState(state).value, limit, offset),
        )

    async def purge(self, states: Sequence[DeliveryState], *, before: datetime | None) -> int:
        values = purgeable(states)
        if not values:
            return 0
        marks = ", ".join("?" for _ in values)
        condition = f"state IN ({marks})"
        parameters: tuple[object, ...] = tuple(values)
        if before is not None:
            condition += " AND created_at < ?"
            parameters += (microseconds(before),)
        deleted = 0
        while True:
            async with self._transactions.write() as db:
                cursor = await db.execute(
                    f"DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE {condition} LIMIT ?)",  # noqa: S608
                    (*parameters, PURGE_CHUNK),
                )
                count = cursor.rowcount
            deleted += count
            if count < PURGE_CHUNK:
                return deleted

    # execute_fetchall: one hop to the database thread per query, not three (execute, fetch, close).
    async def _many(self, sql: str, parameters: tuple[object, ...]) -> list[Delivery]:
        rows = await self._db.execute_fetchall(sql, parameters)
        return [_delivery(row[0], row[1]) for row in rows]
