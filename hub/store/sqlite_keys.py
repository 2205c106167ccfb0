"""Signing keys in SQLite: one row per key, ``generation`` its primary key, so two writers cannot
both store the same generation — in particular, not both the first key (see ``hub.signing.keys``)."""

from __future__ import annotations

import sqlite3

import aiosqlite

from hub.signing.keys import SigningKey
from hub.store.port import Conflict
from hub.store.sqlite_base import Transactions

SCHEMA = """
CREATE TABLE IF NOT EXISTS signing_keys (
    generation  INTEGER PRIMARY KEY,
    kid         TEXT NOT NULL UNIQUE,
    document    TEXT NOT NULL
);
"""


class SqliteKeyStore:
    def __init__(self, db: aiosqlite.Connection, transactions: Transactions) -> None:
        self._db = db
        self._transactions = transactions

    async def add(self, key: SigningKey) -> SigningKey:
        # BEGIN IMMEDIATE holds the write lock from reading the newest generation to the insert.
        try:
            async with self._transactions.write() as db:
                rows = list(await db.execute_fetchall("SELECT MAX(generation) FROM signing_keys"))
                stored = key.model_copy(update={"generation": (rows[0][0] or 0) + 1})
                await self._insert(db, stored)
        except sqlite3.IntegrityError:
            raise Conflict(f"signing key {key.kid} is stored already") from None
        return stored

    async def add_first(self, key: SigningKey) -> SigningKey:
        stored = key.model_copy(update={"generation": 1})
        try:
            async with self._transactions.single() as db:
                await self._insert(db, stored)
        except sqlite3.IntegrityError:
            pass  # another process stored a first key: that one is current
        current = await self.current()
        assert current is not None
        return current

    async def all(self) -> list[SigningKey]:
        return await self._many("SELECT document FROM signing_keys ORDER BY generation", ())

    async def current(self) -> SigningKey | None:
        found = await self._many("SELECT document FROM signing_keys ORDER BY generation DESC LIMIT 1", ())
        return found[0] if found else None

    @staticmethod
    async def _insert(db: aiosqlite.Connection, key: SigningKey) -> None:
        await db.execute(
            "INSERT INTO signing_keys (generation, kid, document) VALUES (?, ?, ?)",
            (key.generation, key.kid, key.model_dump_json()),
        )

    async def _many(self, sql: str, parameters: tuple[object, ...]) -> list[SigningKey]:
        rows = await self._db.execute_fetchall(sql, parameters)
        return [SigningKey.model_validate_json(row[0]) for row in rows]
