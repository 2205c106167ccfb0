"""The evidence ledger in MongoDB: one collection ``ledger``, one document per entry, ``_id`` its
``seq``; ``at`` is kept as the text the hash covers and ``data`` as a subdocument.

MongoDB has no write lock to hold from read to insert, so ``append`` reads the newest entry,
chains onto it and inserts; if another appender took that ``seq`` first, the unique ``_id``
refuses the insert and the append starts again from the new newest entry. The chain stays one
line, whichever appender wins each race.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hub.signing.ledger import GENESIS_HASH, LedgerEntry, moment_text, next_entry
from hub.store.port import StoreError

Document = dict[str, Any]

_APPEND_TRIES = 100


def _to_document(entry: LedgerEntry) -> Document:
    return {
        "_id": entry.seq,
        "at": moment_text(entry.at),
        "kind": entry.kind,
        "subject": entry.subject,
        "data": entry.data,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def _from_document(document: Document) -> LedgerEntry:
    document = dict(document)
    document["seq"] = document.pop("_id")
    return LedgerEntry.model_validate(document)


class MongoLedgerStore:
    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self._ledger = database["ledger"]

    async def create_indexes(self) -> None:
        pass  # ``_id`` (the seq) is all the ledger is looked up and ordered by

    async def append(self, kind: str, subject: str, data: Mapping[str, Any], at: datetime) -> LedgerEntry:
        for _ in range(_APPEND_TRIES):
            newest = await self._ledger.find_one(
                {}, sort=[("_id", DESCENDING)], projection={"_id": 1, "hash": 1}
            )
            prev_seq, prev_hash = (int(newest["_id"]), str(newest["hash"])) if newest else (0, GENESIS_HASH)
            entry = next_entry(
                prev_seq=prev_seq, prev_hash=prev_hash, kind=kind, subject=subject, data=data, at=at
            )
            try:
                await self._ledger.insert_one(_to_document(entry))
            except DuplicateKeyError:
                await asyncio.sleep(random.uniform(0, 0.005))  # noqa: S311 - jitter, not secrecy
                continue
            return entry
        raise StoreError(f"ledger append: seq still taken after {_APPEND_TRIES} tries")

    async def entries(self, *, after_seq: int = 0, limit: int = 1000) -> list[LedgerEntry]:
        cursor = self._ledger.find({"_id": {"$gt": after_seq}}).sort("_id", ASCENDING).limit(limit)
        return [_from_document(document) async for document in cursor]

    async def get(self, seq: int) -> LedgerEntry | None:
        document = await self._ledger.find_one({"_id": seq})
        return _from_document(document) if document else None
