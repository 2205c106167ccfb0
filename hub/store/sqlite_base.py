"""What the SQLite adapters share: write transactions on one connection."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import aiosqlite

T = TypeVar("T")


class Transactions:
    """Write transactions on one connection, one at a time.

    ``BEGIN IMMEDIATE`` takes the database write lock up front, so two processes never both
    read-then-write the same revision; the asyncio lock keeps two coroutines of this process from
    opening a transaction on the same connection at once.
    """

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                await self._db.rollback()
                raise
            await self._db.commit()

    @asynccontextmanager
    async def single(self) -> AsyncIterator[aiosqlite.Connection]:
        """One statement that is atomic by itself (autocommit): no BEGIN, no COMMIT, one hop.

        Still taken under the lock, so it never lands inside another coroutine's transaction.
        """
        async with self._lock:
            yield self._db

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work(connection)`` inside one ``BEGIN IMMEDIATE`` … ``COMMIT``, run on the database
        thread in one hop: for writes of several statements that would otherwise cost a hop each.

        ``work`` runs on aiosqlite's thread with its ``sqlite3`` connection (``_conn``, through its
        ``_execute``: aiosqlite offers no public call for this; the contract tests cover it).
        """

        def transaction() -> T:
            connection: sqlite3.Connection = self._db._conn
            connection.execute("BEGIN IMMEDIATE")
            try:
                result = work(connection)
            except BaseException:
                connection.rollback()
                raise
            connection.commit()
            return result

        async with self._lock:
            result: T = await self._db._execute(transaction)  # type: ignore[no-untyped-call]
            return result
