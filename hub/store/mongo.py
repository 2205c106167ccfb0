"""The production store: MongoDB through PyMongo's async API.

Kept deliberately thin, because no MongoDB server runs in our CI: it passes the same contract
suite as the SQLite adapter whenever ``HUB_TEST_MONGODB_URL`` points at one.

One document per platform; the keys the hub looks up by (token digests, held roles, parties) are
arrays in that document with multikey indexes, so a write of the document and of its keys is one
atomic single-document operation. Empty key arrays are left out of the document: a unique index
would otherwise treat every empty array as the same (missing) key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from hub.platforms import Platform
from hub.routing.links import ProxyLink
from hub.store.mongo_clearing import MongoClearingStore
from hub.store.mongo_keys import MongoKeyStore
from hub.store.mongo_ledger import MongoLedgerStore
from hub.store.mongo_mirror import MongoMirrorStore
from hub.store.mongo_outbox import MongoOutboxStore
from hub.store.mongo_pulls import MongoPullStore
from hub.store.mongo_stations import MongoStationStore
from hub.store.mongo_transactions import MongoTransactionStore
from hub.store.port import Conflict, StaleWrite

Document = dict[str, Any]


def _to_document(platform: Platform) -> Document:
    document: Document = platform.model_dump(mode="json")
    document["_id"] = document.pop("id")
    document["created_order"] = platform.created_at.timestamp()
    for field, keys in (
        ("token_keys", platform.token_digests()),
        ("role_keys", platform.role_keys()),
        ("party_keys", platform.party_keys()),
    ):
        if keys:
            document[field] = keys
    return document


def _from_document(document: Document) -> Platform:
    document = dict(document)
    document["id"] = document.pop("_id")
    for field in ("created_order", "token_keys", "role_keys", "party_keys"):
        document.pop(field, None)
    return Platform.model_validate(document)


class MongoPlatformStore:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._platforms = collection

    async def create_indexes(self) -> None:
        await self._platforms.create_index([("token_keys", ASCENDING)], unique=True, sparse=True)
        await self._platforms.create_index([("role_keys", ASCENDING)], unique=True, sparse=True)
        await self._platforms.create_index([("party_keys", ASCENDING)])
        await self._platforms.create_index([("created_order", ASCENDING), ("_id", ASCENDING)])

    async def add(self, platform: Platform) -> None:
        try:
            await self._platforms.insert_one(_to_document(platform))
        except DuplicateKeyError as error:
            raise Conflict(str(error)) from None

    async def update(self, platform: Platform) -> Platform:
        stored = platform.model_copy(update={"revision": platform.revision + 1})
        try:
            result = await self._platforms.replace_one(
                {"_id": platform.id, "revision": platform.revision}, _to_document(stored)
            )
        except DuplicateKeyError as error:
            raise Conflict(str(error)) from None
        if result.matched_count != 1:
            raise StaleWrite(f"platform {platform.id} changed since revision {platform.revision}")
        return stored

    async def get(self, platform_id: str) -> Platform | None:
        return await self._one({"_id": platform_id})

    async def by_token(self, digest: str) -> Platform | None:
        return await self._one({"token_keys": digest})

    async def by_party(self, country_code: str, party_id: str) -> list[Platform]:
        return await self._many({"party_keys": f"{country_code.upper()}*{party_id.upper()}"})

    async def all(self) -> list[Platform]:
        return await self._many({})

    async def remove(self, platform_id: str) -> bool:
        result = await self._platforms.delete_one({"_id": platform_id})
        return result.deleted_count == 1

    async def _one(self, query: Document) -> Platform | None:
        document = await self._platforms.find_one(query)
        return _from_document(document) if document else None

    async def _many(self, query: Document) -> list[Platform]:
        cursor = self._platforms.find(query).sort([("created_order", ASCENDING), ("_id", ASCENDING)])
        return [_from_document(document) async for document in cursor]


class MongoLinkStore:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._links = collection

    async def create_indexes(self) -> None:
        await self._links.create_index([("expires_at", ASCENDING)])

    async def add(self, link: ProxyLink) -> None:
        document: Document = link.model_dump(mode="json")
        document["_id"] = document.pop("id")
        document["expires_at"] = link.expires_at  # a BSON date, so purge compares instants
        await self._links.insert_one(document)

    async def get(self, link_id: str) -> ProxyLink | None:
        document = await self._links.find_one({"_id": link_id})
        if document is None:
            return None
        document["id"] = document.pop("_id")
        return ProxyLink.model_validate(document)

    async def purge(self, before: datetime) -> int:
        result = await self._links.delete_many({"expires_at": {"$lt": before}})
        return result.deleted_count


class MongoStore:
    """The MongoDB adapter of the store port."""

    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        self._client = client
        self.platforms = MongoPlatformStore(client[database]["platforms"])
        self.mirror = MongoMirrorStore(client[database])
        self.outbox = MongoOutboxStore(client[database])
        self.links = MongoLinkStore(client[database]["links"])
        self.pulls = MongoPullStore(client[database])
        self.keys = MongoKeyStore(client[database])
        self.ledger = MongoLedgerStore(client[database])
        self.clearing = MongoClearingStore(client[database], self.outbox, self.ledger)
        self.stations = MongoStationStore(client[database])
        self.transactions = MongoTransactionStore(client[database])

    @classmethod
    async def open(cls, url: str, *, database: str | None = None) -> MongoStore:
        client: AsyncMongoClient[Document] = AsyncMongoClient(url, tz_aware=True, connect=True)
        name = database or client.get_default_database(default="ocpi_hub").name
        store = cls(client, name)
        await store.platforms.create_indexes()
        await store.mirror.create_indexes()
        await store.outbox.create_indexes()
        await store.links.create_indexes()
        await store.pulls.create_indexes()
        await store.keys.create_indexes()
        await store.ledger.create_indexes()
        await store.clearing.create_indexes()
        await store.stations.create_indexes()
        await store.transactions.create_indexes()
        return store

    async def close(self) -> None:
        await self._client.close()
