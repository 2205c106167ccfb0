"""Pull checkpoints in SQLite: one row per platform and module, the checkpoint as JSON beside its
revision, which every replace compares and sets (see ``hub.pulls.records``)."""

from __future__ import annotations

import sqlite3

import aiosqlite

from hub.pulls.records import PullCheckpoint
from hub.store.port import StaleWrite
from hub.store.sqlite_base import Transactions

SCHEMA = """
CREATE TABLE IF NOT EXISTS pulls (
    platform_id TEXT NOT NULL,
    module      TEXT NOT NULL,
    revision    INTEGER NOT NULL,
    document    TEXT NOT NULL,
    PRIMARY KEY (platform_id, module)
);
"""


class SqlitePullStore:
    def __init__(self, db: aiosqlite.Connection, transactions: Transactions) -> None:
        self._db = db
        self._transactions = transactions

    async def get(self, platform_id: str, module: str) -> PullCheckpoint | None:
        found = await self._many(
            "SELECT document FROM pulls WHERE platform_id = ? AND module = ?", (platform_id, module)
        )
        return found[0] if found else None

    async def save(self, checkpoint: PullCheckpoint) -> PullCheckpoint:
        stored = checkpoint.model_copy(update={"revision": checkpoint.revision + 1})
        key = (checkpoint.platform_id, checkpoint.module)
        async with self._transactions.single() as db:
            if checkpoint.revision == 0:
                try:
                    await db.execute(
                        "INSERT INTO pulls (platform_id, module, revision, document) VALUES (?, ?, ?, ?)",
                        (*key, stored.revision, stored.model_dump_json()),
                    )
                except sqlite3.IntegrityError:
                    raise StaleWrite(f"a pull checkpoint for {key} exists already") from None
            else:
                cursor = await db.execute(
                    "UPDATE pulls SET revision = ?, document = ? "
                    "WHERE platform_id = ? AND module = ? AND revision = ?",
                    (stored.revision, stored.model_dump_json(), *key, checkpoint.revision),
                )
                if cursor.rowcount != 1:
                    raise StaleWrite(
                        f"the pull checkpoint {key} changed since revision {checkpoint.revision}"
                    )
        return stored

    async def all(self) -> list[PullCheckpoint]:
        return await self._many("SELECT document FROM pulls ORDER BY platform_id, module", ())

    async def _many(self, sql: str, parameters: tuple[object, ...]) -> list[PullCheckpoint]:
        rows = await self._db.execute_fetchall(sql, parameters)
        return [PullCheckpoint.model_validate_json(row[0]) for row in rows]
