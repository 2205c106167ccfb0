"""Cleared CDRs in MongoDB: collection ``clearing``, ``_id`` the CDR key (a second insert of a key
fails), the record in its JSON form plus the moment its charging ended as integer microseconds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hub.clearing.records import ClearedCdr, Evidence
from hub.outbox.records import Delivery
from hub.store.port import Conflict, LedgerStore, OutboxStore, StaleWrite
from hub.store.sqlite_outbox import microseconds

Document = dict[str, Any]


def _to_document(record: ClearedCdr) -> Document:
    document: Document = record.model_dump(mode="json")
    document["_id"] = record.key
    document["end_us"] = microseconds(record.end_date_time)
    return document


def _from_document(document: Document) -> ClearedCdr:
    document = dict(document)
    del document["_id"]
    document.pop("end_us", None)
    return ClearedCdr.model_validate(document)


class MongoClearingStore:
    def __init__(self, database: AsyncDatabase[Document], outbox: OutboxStore, ledger: LedgerStore) -> None:
        self._clearing = database["clearing"]
        self._outbox = outbox
        self._ledger = ledger

    async def create_indexes(self) -> None:
        await self._clearing.create_index([("end_us", ASCENDING), ("_id", ASCENDING)])
        await self._clearing.create_index([("delivery_id", ASCENDING)])

    async def add(self, record: ClearedCdr) -> ClearedCdr:
        stored = record.model_copy(update={"revision": 1})
        try:
            await self._clearing.insert_one(_to_document(stored))
        except DuplicateKeyError:
            raise Conflict(f"the CDR {record.key} was accepted before") from None
        return stored

    async def accept(
        self, record: ClearedCdr, deliveries: Sequence[Delivery], evidence: Evidence
    ) -> ClearedCdr:
        """In order, not in one transaction (see ``ClearingStore.accept``)."""
        stored = await self.add(record)
        await self._outbox.add(deliveries)
        await self._ledger.append(evidence.kind, stored.key, evidence.data(stored), evidence.at)
        return stored

    async def get(self, key: str) -> ClearedCdr | None:
        document = await self._clearing.find_one({"_id": key.upper()})
        return _from_document(document) if document else None

    async def by_delivery(self, delivery_id: str) -> ClearedCdr | None:
        document = await self._clearing.find_one({"delivery_id": delivery_id})
        return _from_document(document) if document else None

    async def update(self, record: ClearedCdr) -> ClearedCdr:
        stored = record.model_copy(update={"revision": record.revision + 1})
        result = await self._clearing.replace_one(
            {"_id": record.key, "revision": record.revision}, _to_document(stored)
        )
        if result.matched_count != 1:
            raise StaleWrite(f"the cleared CDR {record.key} changed since revision {record.revision}")
        return stored

    async def ended_between(self, start: datetime, end: datetime) -> list[ClearedCdr]:
        cursor = self._clearing.find({"end_us": {"$gte": microseconds(start), "$lt": microseconds(end)}})
        cursor = cursor.sort([("end_us", ASCENDING), ("_id", ASCENDING)])
        return [_from_document(document) async for document in cursor]
