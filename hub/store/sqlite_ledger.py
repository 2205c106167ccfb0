"""The evidence ledger in SQLite: one row per entry, its fields in their own columns (``data`` as
JSON text, ``at`` as the text the hash covers), ``seq`` the primary key.

``append`` reads the newest entry and inserts the next inside one ``BEGIN IMMEDIATE``
transaction: the write lock is held from the read to the commit, so appenders on other
connections (other processes) wait their turn and chain onto the entry this one wrote.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import aiosqlite

from hub.signing.ledger import GENESIS_HASH, LedgerEntry, moment_text, next_entry
from hub.store.port import StoreError
from hub.store.sqlite_base import Transactions

SCHEMA = """
CREATE TABLE IF NOT EXISTS ledger (
    seq         INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    data        TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
"""

_COLUMNS = "seq, at, kind, subject, data, prev_hash, hash"


def _entry(row: Any) -> LedgerEntry:
    seq, at, kind, subject, data, prev_hash, digest = row
    try:
        return LedgerEntry(
            seq=seq,
            at=datetime.fromisoformat(at),
            kind=kind,
            subject=subject,
            data=json.loads(data),
            prev_hash=prev_hash,
            hash=digest,
        )
    except (ValueError, TypeError) as error:
        raise StoreError(f"ledger entry {seq} cannot be read: {error}") from None


def chain(
    connection: sqlite3.Connection, kind: str, subject: str, data: Mapping[str, Any], at: datetime
) -> LedgerEntry:
    """Append an entry after the newest, inside the caller's write transaction."""
    # Only the newest seq and hash: appending never depends on the rest of that entry.
    row = connection.execute("SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1").fetchone()
    prev_seq, prev_hash = (int(row[0]), str(row[1])) if row else (0, GENESIS_HASH)
    entry = next_entry(prev_seq=prev_seq, prev_hash=prev_hash, kind=kind, subject=subject, data=data, at=at)
    connection.execute(
        f"INSERT INTO ledger ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
        (
            entry.seq,
            moment_text(entry.at),
            entry.kind,
            entry.subject,
            json.dumps(entry.data, ensure_ascii=False, allow_nan=False),
            entry.prev_hash,
            entry.hash,
        ),
    )
    return entry


class SqliteLedgerStore:
    def __init__(self, db: aiosqlite.Connection, transactions: Transactions) -> None:
        self._db = db
        self._transactions = transactions

    async def append(self, kind: str, subject: str, data: Mapping[str, Any], at: datetime) -> LedgerEntry:
        # Read and insert in one write transaction, on the database thread in one hop.
        return await self._transactions.run(lambda connection: chain(connection, kind, subject, data, at))

    async def entries(self, *, after_seq: int = 0, limit: int = 1000) -> list[LedgerEntry]:
        rows = await self._db.execute_fetchall(
            f"SELECT {_COLUMNS} FROM ledger WHERE seq > ? ORDER BY seq LIMIT ?",  # noqa: S608
            (after_seq, limit),
        )
        return [_entry(row) for row in rows]

    async def get(self, seq: int) -> LedgerEntry | None:
        rows = list(
            await self._db.execute_fetchall(f"SELECT {_COLUMNS} FROM ledger WHERE seq = ?", (seq,))  # noqa: S608
        )
        return _entry(rows[0]) if rows else None
