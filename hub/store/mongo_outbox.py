"""The outbox in MongoDB."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase


class MongoOutboxStore:
    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._database = database

    async def create_indexes(self) -> None:
        raise NotImplementedError
