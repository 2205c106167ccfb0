"""The mirror in SQLite."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import aiosqlite

from hub.mirror.records import MirrorRecord
from hub.store.sqlite_base import Transactions

SCHEMA = ""


class SqliteMirrorStore:
    def __init__(self, db: aiosqlite.Connection, transactions: Transactions) -> None:
        self._db = db
        self._transactions = transactions

    async def get(
        self, module: str, country_code: str, party_id: str, object_id: str, token_type: str | None = None
    ) -> MirrorRecord | None:
        raise NotImplementedError

    async def find(self, module: str, object_id: str) -> list[MirrorRecord]:
        raise NotImplementedError

    async def save(self, record: MirrorRecord) -> MirrorRecord:
        raise NotImplementedError

    async def delete(
        self, module: str, country_code: str, party_id: str, object_id: str, token_type: str | None = None
    ) -> bool:
        raise NotImplementedError

    async def page(
        self,
        module: str,
        *,
        viewer_keys: Sequence[str] | None,
        date_from: datetime | None,
        date_to: datetime | None,
        after_seq: int | None,
        offset: int,
        limit: int,
    ) -> tuple[list[MirrorRecord], int]:
        raise NotImplementedError
