"""OCPP transactions in MongoDB: collection ``ocpp_transactions``, one document per transaction,
``ocpp_remote_starts`` one per remote start, and ``ocpp_counters`` for 1.6 transaction ids.

``_id`` is the upper-cased Session id; (station key, transaction id) has a unique index and so has the
1.6 start key (left out of 2.0.1 documents, the index is sparse). Every replace matches the revision
it read; a new 1.6 id is one atomic ``$inc``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hub.ocpp.transaction_records import RemoteStart, TransactionRecord
from hub.store.port import Conflict, StaleWrite

Document = dict[str, Any]
_MAX_ID = 0x7FFFFFFF
_EXTRA = ("_id", "station_key", "start_key", "created_order")


def _to_document(record: TransactionRecord) -> Document:
    document: Document = record.model_dump(mode="json", exclude={"start_key"})
    document["_id"] = record.session_key
    document["station_key"] = record.station_key
    document["created_order"] = record.created_at.timestamp()
    if record.start_key is not None:
        document["start_key"] = record.start_key
    return document


def _from_document(document: Document) -> TransactionRecord:
    found = dict(document)
    start = found.get("start_key")
    for field in _EXTRA:
        found.pop(field, None)
    return TransactionRecord.model_validate(found | {"start_key": start})


def _start_document(start: RemoteStart) -> Document:
    document: Document = start.model_dump(mode="json")
    document["_id"] = document.pop("id")
    document["station_key"] = start.station_key
    document["created_order"] = start.created_at.timestamp()
    return document


def _start_from(document: Document) -> RemoteStart:
    found = dict(document)
    found["id"] = found.pop("_id")
    found.pop("station_key", None)
    found.pop("created_order", None)
    return RemoteStart.model_validate(found)


class MongoTransactionStore:
    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self._transactions = database["ocpp_transactions"]
        self._starts = database["ocpp_remote_starts"]
        self._counters = database["ocpp_counters"]

    async def create_indexes(self) -> None:
        await self._transactions.create_index(
            [("station_key", ASCENDING), ("transaction_id", ASCENDING)], unique=True
        )
        await self._transactions.create_index([("start_key", ASCENDING)], unique=True, sparse=True)
        await self._transactions.create_index([("station_key", ASCENDING), ("status", ASCENDING)])
        await self._starts.create_index([("station_key", ASCENDING), ("created_order", ASCENDING)])

    async def add(self, record: TransactionRecord) -> None:
        try:
            await self._transactions.insert_one(_to_document(record))
        except DuplicateKeyError as error:
            raise Conflict(f"transaction {record.transaction_id} of {record.station_id}: {error}") from None

    async def get(self, station_id: str, transaction_id: str) -> TransactionRecord | None:
        return await self._one({"station_key": station_id.upper(), "transaction_id": transaction_id})

    async def by_start_key(self, start_key: str) -> TransactionRecord | None:
        return await self._one({"start_key": start_key})

    async def by_session(self, session_id: str) -> TransactionRecord | None:
        return await self._one({"_id": session_id.upper()})

    async def open_of(self, station_id: str) -> list[TransactionRecord]:
        cursor = self._transactions.find({"station_key": station_id.upper(), "status": "open"})
        found = [_from_document(document) async for document in cursor.sort("created_order", ASCENDING)]
        return found

    async def update(self, record: TransactionRecord) -> TransactionRecord:
        stored = record.model_copy(update={"revision": record.revision + 1})
        result = await self._transactions.replace_one(
            {"_id": record.session_key, "revision": record.revision}, _to_document(stored)
        )
        if result.matched_count != 1:
            raise StaleWrite(f"transaction {record.transaction_id} changed since revision {record.revision}")
        return stored

    async def next_id(self) -> int:
        found = await self._counters.find_one_and_update(
            {"_id": "ocpp16"}, {"$inc": {"value": 1}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        assert found is not None
        return (int(found["value"]) - 1) % _MAX_ID + 1

    async def add_remote_start(self, start: RemoteStart) -> None:
        try:
            await self._starts.insert_one(_start_document(start))
        except DuplicateKeyError as error:
            raise Conflict(f"remote start {start.id}: {error}") from None

    async def remote_starts(self, station_id: str, since: datetime) -> list[RemoteStart]:
        cursor = self._starts.find(
            {"station_key": station_id.upper(), "created_order": {"$gte": since.timestamp()}}
        ).sort([("created_order", ASCENDING), ("_id", ASCENDING)])
        return [_start_from(document) async for document in cursor]

    async def update_remote_start(self, start: RemoteStart) -> RemoteStart:
        stored = start.model_copy(update={"revision": start.revision + 1})
        result = await self._starts.replace_one(
            {"_id": start.id, "revision": start.revision}, _start_document(stored)
        )
        if result.matched_count != 1:
            raise StaleWrite(f"remote start {start.id} changed since revision {start.revision}")
        return stored

    async def _one(self, query: Document) -> TransactionRecord | None:
        document = await self._transactions.find_one(query)
        return _from_document(document) if document else None
