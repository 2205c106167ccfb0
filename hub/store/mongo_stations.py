"""Stations in MongoDB: one collection ``stations``, one document per station.

``_id`` is the upper-cased station id and ``location_key`` has a unique index, so a second station
with the same id or Location fails on insert; every replace matches the revision it read.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hub.ocpp.records import Station
from hub.store.port import Conflict, StaleWrite

Document = dict[str, Any]


def _to_document(station: Station) -> Document:
    document: Document = station.model_dump(mode="json")
    document["_id"] = station.key
    document["location_key"] = station.location_key
    document["created_order"] = station.created_at.timestamp()
    return document


def _from_document(document: Document) -> Station:
    document = dict(document)
    for field in ("_id", "location_key", "created_order"):
        document.pop(field, None)
    return Station.model_validate(document)


class MongoStationStore:
    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self._stations = database["stations"]

    async def create_indexes(self) -> None:
        await self._stations.create_index([("location_key", ASCENDING)], unique=True)
        await self._stations.create_index([("created_order", ASCENDING), ("_id", ASCENDING)])

    async def add(self, station: Station) -> None:
        try:
            await self._stations.insert_one(_to_document(station))
        except DuplicateKeyError as error:
            raise Conflict(f"station {station.id} or location {station.location_key}: {error}") from None

    async def get(self, station_id: str) -> Station | None:
        document = await self._stations.find_one({"_id": station_id.upper()})
        return _from_document(document) if document else None

    async def update(self, station: Station) -> Station:
        stored = station.model_copy(update={"revision": station.revision + 1})
        result = await self._stations.replace_one(
            {"_id": station.key, "revision": station.revision}, _to_document(stored)
        )
        if result.matched_count != 1:
            raise StaleWrite(f"station {station.id} changed since revision {station.revision}")
        return stored

    async def all(self) -> list[Station]:
        cursor = self._stations.find({}).sort([("created_order", ASCENDING), ("_id", ASCENDING)])
        return [_from_document(document) async for document in cursor]
