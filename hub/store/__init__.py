"""Storage behind one port: SQLite (embedded default) and MongoDB (production)."""

from __future__ import annotations

from hub.store.port import Conflict, PlatformStore, StaleWrite, Store, StoreError
from settings import Settings

__all__ = ["Conflict", "PlatformStore", "StaleWrite", "Store", "StoreError", "open_store"]


async def open_store(settings: Settings) -> Store:
    """Open the store the settings name."""
    path = settings.sqlite_path
    if path is not None:
        from hub.store.sqlite import SqliteStore

        return await SqliteStore.open(path)
    from hub.store.mongo import MongoStore

    assert settings.store_url is not None
    return await MongoStore.open(settings.store_url)
