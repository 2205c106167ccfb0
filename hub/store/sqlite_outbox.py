"""The outbox in SQLite."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import aiosqlite

from hub.outbox.records import Delivery, DeliveryState
from hub.store.sqlite_base import Transactions

SCHEMA = ""


class SqliteOutboxStore:
    def __init__(self, db: aiosqlite.Connection, transactions: Transactions) -> None:
        self._db = db
        self._transactions = transactions

    async def add(self, deliveries: Sequence[Delivery]) -> None:
        raise NotImplementedError

    async def get(self, delivery_id: str) -> Delivery | None:
        raise NotImplementedError

    async def update(self, delivery: Delivery) -> Delivery:
        raise NotImplementedError

    async def due(self, now: datetime, *, limit: int) -> list[Delivery]:
        raise NotImplementedError

    async def for_target(
        self, target_platform_id: str, *, states: Sequence[DeliveryState], limit: int
    ) -> list[Delivery]:
        raise NotImplementedError

    async def for_object(self, target_platform_id: str, object_key: str) -> list[Delivery]:
        raise NotImplementedError

    async def by_state(self, state: DeliveryState, *, limit: int, offset: int = 0) -> list[Delivery]:
        raise NotImplementedError
