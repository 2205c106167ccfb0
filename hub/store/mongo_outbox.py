"""The outbox in MongoDB: one collection ``outbox``, one document per delivery.

The delivery is kept as its JSON form (so it reads back exactly, microseconds included), plus the
fields the workers look up by: ``due_us`` and ``created_us`` (integer microseconds since the epoch,
exact and sortable; BSON datetimes would drop the microseconds), ``object_key_ci`` (the upper-cased
object key) and ``inserted`` (an ObjectId taken at insert, which orders a batch created in one
instant the way it was added).

``add`` is all-or-nothing for the failure it can meet, a duplicate id: duplicates inside the batch
are refused before anything is written, and if an id already exists, what this call inserted is
removed again. A crash half-way through ``insert_many`` can leave a prefix of the batch; the caller
was not told the batch was accepted and will send it again, which at-least-once delivery allows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from hub.outbox.records import Delivery, DeliveryState
from hub.store.port import Conflict, StaleWrite, purgeable

Document = dict[str, Any]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ORDER = [("created_us", ASCENDING), ("inserted", ASCENDING)]
_DUPLICATE_KEY = 11000
_INDEX_FIELDS = ("due_us", "created_us", "object_key_ci", "inserted")


def _microseconds(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _fields(delivery: Delivery) -> Document:
    """The document without ``_id`` and ``inserted``: what an update rewrites."""
    document: Document = delivery.model_dump(mode="json")
    del document["id"]
    document["due_us"] = None if delivery.next_attempt_at is None else _microseconds(delivery.next_attempt_at)
    document["created_us"] = _microseconds(delivery.created_at)
    document["object_key_ci"] = None if delivery.object_key is None else delivery.object_key.upper()
    return document


def _from_document(document: Document) -> Delivery:
    document = dict(document)
    document["id"] = document.pop("_id")
    for field in _INDEX_FIELDS:
        document.pop(field, None)
    return Delivery.model_validate(document)


class MongoOutboxStore:
    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self._outbox = database["outbox"]

    async def create_indexes(self) -> None:
        await self._outbox.create_index([("state", ASCENDING), ("due_us", ASCENDING)])
        await self._outbox.create_index([("state", ASCENDING), *_ORDER])
        await self._outbox.create_index([("target_platform_id", ASCENDING), ("state", ASCENDING), *_ORDER])
        await self._outbox.create_index(
            [("target_platform_id", ASCENDING), ("object_key_ci", ASCENDING), *_ORDER]
        )

    async def add(self, deliveries: Sequence[Delivery]) -> None:
        if not deliveries:
            return
        ids = [delivery.id for delivery in deliveries]
        if len(set(ids)) != len(ids):
            raise Conflict("the batch holds one delivery id twice")
        documents = [{"_id": d.id, "inserted": ObjectId(), **_fields(d)} for d in deliveries]
        try:
            await self._outbox.insert_many(documents, ordered=True)
        except BulkWriteError as error:
            mine = [document["inserted"] for document in documents]
            await self._outbox.delete_many({"_id": {"$in": ids}, "inserted": {"$in": mine}})
            if any(item.get("code") == _DUPLICATE_KEY for item in error.details.get("writeErrors", [])):
                raise Conflict("a delivery with one of these ids exists already") from None
            raise

    async def get(self, delivery_id: str) -> Delivery | None:
        document = await self._outbox.find_one({"_id": delivery_id})
        return _from_document(document) if document else None

    async def update(self, delivery: Delivery) -> Delivery:
        stored = delivery.model_copy(update={"revision": delivery.revision + 1})
        changes = _fields(stored)
        changes.pop("body", None)  # a delivery's body never changes after it was added
        result = await self._outbox.update_one(
            {"_id": delivery.id, "revision": delivery.revision}, {"$set": changes}
        )
        if result.matched_count != 1:
            raise StaleWrite(f"delivery {delivery.id} changed since revision {delivery.revision}")
        return stored

    async def get_many(self, delivery_ids: Sequence[str]) -> list[Delivery]:
        return await self._many({"_id": {"$in": list(delivery_ids)}})

    async def update_many(self, deliveries: Sequence[Delivery]) -> list[Delivery | None]:
        """Concurrent compare-and-set writes: a bulk write would not say which ones matched."""

        async def one(delivery: Delivery) -> Delivery | None:
            try:
                return await self.update(delivery)
            except StaleWrite:
                return None

        return list(await asyncio.gather(*(one(delivery) for delivery in deliveries)))

    async def due(self, now: datetime, *, limit: int) -> list[Delivery]:
        query = {"state": DeliveryState.PENDING.value, "due_us": {"$lte": _microseconds(now)}}
        return await self._many(query, limit=limit)

    async def for_target(
        self, target_platform_id: str, *, states: Sequence[DeliveryState], limit: int
    ) -> list[Delivery]:
        if not states or limit <= 0:
            return []
        query = {
            "target_platform_id": target_platform_id,
            "state": {"$in": [DeliveryState(state).value for state in states]},
        }
        return await self._many(query, limit=limit)

    async def for_object(self, target_platform_id: str, object_key: str) -> list[Delivery]:
        query = {"target_platform_id": target_platform_id, "object_key_ci": object_key.upper()}
        return await self._many(query)

    async def for_objects(self, target_platform_id: str, object_keys: Sequence[str]) -> list[Delivery]:
        keys = sorted({key.upper() for key in object_keys})
        query = {"target_platform_id": target_platform_id, "object_key_ci": {"$in": keys}}
        return [d.model_copy(update={"body": None}) for d in await self._many(query)]

    async def by_state(self, state: DeliveryState, *, limit: int, offset: int = 0) -> list[Delivery]:
        return await self._many({"state": DeliveryState(state).value}, limit=limit, offset=offset)

    async def purge(self, states: Sequence[DeliveryState], *, before: datetime | None) -> int:
        values = purgeable(states)
        if not values:
            return 0
        query: Document = {"state": {"$in": values}}
        if before is not None:
            query["created_us"] = {"$lt": _microseconds(before)}
        result = await self._outbox.delete_many(query)
        return result.deleted_count

    async def _many(self, query: Document, *, limit: int | None = None, offset: int = 0) -> list[Delivery]:
        if limit is not None and limit <= 0:
            return []  # Mongo reads a limit of 0 as "no limit"
        cursor = self._outbox.find(query).sort(_ORDER).skip(offset)
        if limit is not None:
            cursor = cursor.limit(limit)
        return [_from_document(document) async for document in cursor]
