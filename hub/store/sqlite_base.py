"""What the SQLite adapters share: write transactions on one connection."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TypeVar

import aiosqlite

T = TypeVar("T")

# The most writes ``Transactions.run`` commits in one transaction.
GROUP_COMMIT = 64


class Transactions:
    """Write transactions on one connection, one at a time.

    ``BEGIN IMMEDIATE`` takes the database write lock up front, so two processes never both
    read-then-write the same revision; the asyncio lock keeps two coroutines of this process from
    opening a transaction on the same connection at once.
    """

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._lock = asyncio.Lock()
        # Writes waiting for ``run``'s next transaction, and the task that commits them.
        self._pending: list[tuple[Callable[[sqlite3.Connection], object], asyncio.Future[object]]] = []
        self._committer: asyncio.Task[None] | None = None

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

        Writes that arrive while one is under way are committed together (group commit): one hop
        and one ``COMMIT`` for the lot, each ``work`` inside a savepoint of its own, so one that
        fails (a ``Conflict`` …) is rolled back alone and the others stand. Every caller returns
        only once the transaction that holds its writes has committed; if that commit fails, all
        of them get the error and nothing of theirs is written.

        ``work`` runs on aiosqlite's thread with its ``sqlite3`` connection (``_conn``, through its
        ``_execute``: aiosqlite offers no public call for this; the contract tests cover it).
        """
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._pending.append((work, future))
        if self._committer is None:
            self._committer = asyncio.create_task(self._commit_pending())
        result: T = await future  # type: ignore[assignment]
        return result

    async def _commit_pending(self) -> None:
        try:
            while self._pending:
                async with self._lock:
                    batch = [(w, f) for w, f in self._pending[:GROUP_COMMIT] if not f.cancelled()]
                    del self._pending[:GROUP_COMMIT]
                    if not batch:
                        continue
                    try:
                        outcomes = await self._db._execute(  # type: ignore[no-untyped-call]
                            self._transaction, [work for work, _ in batch]
                        )
                    except Exception as error:  # the transaction as a whole: nothing was written
                        for _, future in batch:
                            if not future.done():
                                future.set_exception(error)
                        continue
                    except BaseException:  # this task was cancelled: so are the writes it carried
                        for _, future in batch:
                            future.cancel()
                        raise
                    for (_, future), (failed, value) in zip(batch, outcomes, strict=True):
                        if future.done():
                            continue  # its caller gave up waiting (the write stands, as it would alone)
                        if failed:
                            future.set_exception(value)
                        else:
                            future.set_result(value)
        finally:
            self._committer = None
            for _, future in self._pending:  # left by a cancelled committer: nothing of theirs ran
                future.cancel()
            self._pending.clear()

    def _transaction(
        self, works: Sequence[Callable[[sqlite3.Connection], object]]
    ) -> list[tuple[bool, object]]:
        """On the database thread: each work in a savepoint, then one commit (or none: all fail)."""
        connection: sqlite3.Connection = self._db._conn
        outcomes: list[tuple[bool, object]] = []
        connection.execute("BEGIN IMMEDIATE")
        try:
            for work in works:
                connection.execute("SAVEPOINT work")
                try:
                    outcomes.append((False, work(connection)))
                except Exception as error:
                    connection.execute("ROLLBACK TO work")
                    outcomes.append((True, error))
                connection.execute("RELEASE work")
        except BaseException:
            connection.rollback()
            raise
        connection.commit()
        return outcomes
