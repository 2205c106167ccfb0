"""The store every contract test runs against: SQLite always, MongoDB when HUB_TEST_MONGODB_URL is set."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.store import Store
from hub.store.sqlite import SqliteStore


def _adapters() -> list[str]:
    return ["sqlite", "mongo"] if os.environ.get("HUB_TEST_MONGODB_URL") else ["sqlite"]


@pytest.fixture(params=_adapters())
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    opened: Store
    if request.param == "sqlite":
        opened = await SqliteStore.open(tmp_path / "hub.sqlite3")
    else:
        from hub.store.mongo import MongoStore

        opened = await MongoStore.open(
            os.environ["HUB_TEST_MONGODB_URL"], database=f"test_{uuid.uuid4().hex}"
        )
    yield opened
    await opened.close()
