"""Two connections to one store, as two hub processes would hold: SQLite always, MongoDB when
``HUB_TEST_MONGODB_URL`` is set. For the contract tests about concurrent writers."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from hub.store import Store
from hub.store.sqlite import SqliteStore


def adapters() -> list[str]:
    return ["sqlite", "mongo"] if os.environ.get("HUB_TEST_MONGODB_URL") else ["sqlite"]


@asynccontextmanager
async def two_connections(adapter: str, directory: Path) -> AsyncIterator[tuple[Store, Store]]:
    opened: list[Store] = []
    try:
        if adapter == "sqlite":
            for _ in range(2):
                opened.append(await SqliteStore.open(directory / "shared.sqlite3"))
        else:
            from hub.store.mongo import MongoStore

            database = f"test_{uuid.uuid4().hex}"
            for _ in range(2):
                opened.append(await MongoStore.open(os.environ["HUB_TEST_MONGODB_URL"], database=database))
        yield opened[0], opened[1]
    finally:
        for store in opened:
            await store.close()
