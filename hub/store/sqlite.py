"""The embedded store: one SQLite file in WAL mode, shared by the hub and the CLI.

Documents are kept as JSON; the keys the hub looks things up by live in small index tables that
are rewritten in the same transaction as the document, so a document and its keys never disagree.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime
from pathlib import Path

import aiosqlite

from hub.platforms import Platform
from hub.routing.links import ProxyLink
from hub.store import (
    sqlite_clearing,
    sqlite_keys,
    sqlite_ledger,
    sqlite_mirror,
    sqlite_outbox,
    sqlite_pulls,
    sqlite_stations,
    sqlite_transactions,
)
from hub.store.port import Conflict, StaleWrite
from hub.store.sqlite_base import Transactions

_SCHEMA = """
CREATE TABLE IF NOT EXISTS platforms (
    id          TEXT PRIMARY KEY,
    created_at  REAL NOT NULL,
    revision    INTEGER NOT NULL,
    document    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS platform_tokens (
    digest      TEXT PRIMARY KEY,
    platform_id TEXT NOT NULL REFERENCES platforms(id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS platform_roles (
    role_key    TEXT PRIMARY KEY,
    platform_id TEXT NOT NULL REFERENCES platforms(id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS platform_parties (
    party_key   TEXT NOT NULL,
    platform_id TEXT NOT NULL REFERENCES platforms(id) ON DELETE CASCADE,
    PRIMARY KEY (party_key, platform_id)
);
CREATE TABLE IF NOT EXISTS links (
    id          TEXT PRIMARY KEY,
    expires_at  REAL NOT NULL,
    document    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS links_by_expiry ON links(expires_at);
CREATE INDEX IF NOT EXISTS platform_tokens_by_platform ON platform_tokens(platform_id);
CREATE INDEX IF NOT EXISTS platform_roles_by_platform ON platform_roles(platform_id);
CREATE INDEX IF NOT EXISTS platform_parties_by_platform ON platform_parties(platform_id);
"""


class SqlitePlatformStore:
    def __init__(self, db: aiosqlite.Connection, transactions: Transactions) -> None:
        self._db = db
        self._transactions = transactions

    async def add(self, platform: Platform) -> None:
        try:
            async with self._transactions.write() as db:
                await db.execute(
                    "INSERT INTO platforms (id, created_at, revision, document) VALUES (?, ?, ?, ?)",
                    (
                        platform.id,
                        platform.created_at.timestamp(),
                        platform.revision,
                        platform.model_dump_json(),
                    ),
                )
                await self._write_keys(db, platform)
        except sqlite3.IntegrityError as error:
            raise Conflict(str(error)) from None

    async def update(self, platform: Platform) -> Platform:
        stored = platform.model_copy(update={"revision": platform.revision + 1})
        try:
            async with self._transactions.write() as db:
                cursor = await db.execute(
                    "UPDATE platforms SET revision = ?, document = ? WHERE id = ? AND revision = ?",
                    (stored.revision, stored.model_dump_json(), platform.id, platform.revision),
                )
                if cursor.rowcount != 1:
                    raise StaleWrite(f"platform {platform.id} changed since revision {platform.revision}")
                for table in ("platform_tokens", "platform_roles", "platform_parties"):
                    await db.execute(f"DELETE FROM {table} WHERE platform_id = ?", (platform.id,))  # noqa: S608
                await self._write_keys(db, stored)
        except sqlite3.IntegrityError as error:
            raise Conflict(str(error)) from None
        return stored

    @staticmethod
    async def _write_keys(db: aiosqlite.Connection, platform: Platform) -> None:
        await db.executemany(
            "INSERT INTO platform_tokens (digest, platform_id) VALUES (?, ?)",
            [(digest, platform.id) for digest in platform.token_digests()],
        )
        await db.executemany(
            "INSERT INTO platform_roles (role_key, platform_id) VALUES (?, ?)",
            [(key, platform.id) for key in platform.role_keys()],
        )
        await db.executemany(
            "INSERT INTO platform_parties (party_key, platform_id) VALUES (?, ?)",
            [(key, platform.id) for key in platform.party_keys()],
        )

    async def get(self, platform_id: str) -> Platform | None:
        return await self._one("SELECT document FROM platforms WHERE id = ?", (platform_id,))

    async def by_token(self, digest: str) -> Platform | None:
        return await self._one(
            "SELECT p.document FROM platforms p JOIN platform_tokens t ON t.platform_id = p.id "
            "WHERE t.digest = ?",
            (digest,),
        )

    async def by_party(self, country_code: str, party_id: str) -> list[Platform]:
        return await self._many(
            "SELECT p.document FROM platforms p JOIN platform_parties k ON k.platform_id = p.id "
            "WHERE k.party_key = ? ORDER BY p.created_at, p.id",
            (f"{country_code.upper()}*{party_id.upper()}",),
        )

    async def all(self) -> list[Platform]:
        return await self._many("SELECT document FROM platforms ORDER BY created_at, id", ())

    async def remove(self, platform_id: str) -> bool:
        async with self._transactions.write() as db:
            cursor = await db.execute("DELETE FROM platforms WHERE id = ?", (platform_id,))
        return cursor.rowcount == 1

    # execute_fetchall: one hop to the database thread per query, not three (execute, fetch, close).
    async def _one(self, sql: str, parameters: tuple[object, ...]) -> Platform | None:
        rows = list(await self._db.execute_fetchall(sql, parameters))
        return Platform.model_validate_json(rows[0][0]) if rows else None

    async def _many(self, sql: str, parameters: tuple[object, ...]) -> list[Platform]:
        rows = await self._db.execute_fetchall(sql, parameters)
        return [Platform.model_validate_json(row[0]) for row in rows]


class SqliteLinkStore:
    def __init__(self, db: aiosqlite.Connection, transactions: Transactions) -> None:
        self._db = db
        self._transactions = transactions

    async def add(self, link: ProxyLink) -> None:
        async with self._transactions.write() as db:
            await db.execute(
                "INSERT INTO links (id, expires_at, document) VALUES (?, ?, ?)",
                (link.id, link.expires_at.timestamp(), link.model_dump_json()),
            )

    async def get(self, link_id: str) -> ProxyLink | None:
        rows = list(await self._db.execute_fetchall("SELECT document FROM links WHERE id = ?", (link_id,)))
        return ProxyLink.model_validate_json(rows[0][0]) if rows else None

    async def purge(self, before: datetime) -> int:
        async with self._transactions.write() as db:
            cursor = await db.execute("DELETE FROM links WHERE expires_at < ?", (before.timestamp(),))
        return cursor.rowcount


class SqliteStore:
    """The SQLite adapter of the store port."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        transactions = Transactions(db)
        self.platforms = SqlitePlatformStore(db, transactions)
        self.mirror = sqlite_mirror.SqliteMirrorStore(db, transactions)
        self.outbox = sqlite_outbox.SqliteOutboxStore(db, transactions)
        self.links = SqliteLinkStore(db, transactions)
        self.pulls = sqlite_pulls.SqlitePullStore(db, transactions)
        self.keys = sqlite_keys.SqliteKeyStore(db, transactions)
        self.ledger = sqlite_ledger.SqliteLedgerStore(db, transactions)
        self.clearing = sqlite_clearing.SqliteClearingStore(db, transactions)
        self.stations = sqlite_stations.SqliteStationStore(db, transactions)
        self.transactions = sqlite_transactions.SqliteTransactionStore(db, transactions)

    @classmethod
    async def open(cls, path: Path) -> SqliteStore:
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        # isolation_level=None: we open transactions ourselves (see Transactions).
        db = await aiosqlite.connect(path, isolation_level=None)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA busy_timeout=10000")
        await db.execute("PRAGMA foreign_keys=ON")
        await db.execute("PRAGMA synchronous=NORMAL")
        for schema in (
            _SCHEMA,
            sqlite_mirror.SCHEMA,
            sqlite_outbox.SCHEMA,
            sqlite_pulls.SCHEMA,
            sqlite_keys.SCHEMA,
            sqlite_ledger.SCHEMA,
            sqlite_clearing.SCHEMA,
            sqlite_stations.SCHEMA,
            sqlite_transactions.SCHEMA,
        ):
            await db.executescript(schema)
        await sqlite_outbox.migrate(db)
        return cls(db)

    async def close(self) -> None:
        await self._db.close()
