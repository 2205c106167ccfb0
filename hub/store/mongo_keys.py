"""Signing keys in MongoDB: one collection ``signing_keys``, one document per key, ``_id`` its
generation, so two writers cannot both store the same generation (not both the first key either);
a unique index on ``kid`` refuses the same key twice (see ``hub.signing.keys``)."""

from __future__ import annotations

import contextlib
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hub.signing.keys import SigningKey
from hub.store.port import Conflict

Document = dict[str, Any]

# Concurrent rotations each retry with the next generation; more than this many at once is a bug.
_ADD_TRIES = 20


def _to_document(key: SigningKey) -> Document:
    document: Document = key.model_dump(mode="json")
    document["_id"] = key.generation
    return document


def _from_document(document: Document) -> SigningKey:
    document = dict(document)
    del document["_id"]
    return SigningKey.model_validate(document)


def _kid_taken(error: DuplicateKeyError) -> bool:
    return "kid" in ((error.details or {}).get("keyPattern") or {})


class MongoKeyStore:
    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self._keys = database["signing_keys"]

    async def create_indexes(self) -> None:
        await self._keys.create_index([("kid", ASCENDING)], unique=True)

    async def add(self, key: SigningKey) -> SigningKey:
        for _ in range(_ADD_TRIES):
            newest = await self.current()
            stored = key.model_copy(update={"generation": (newest.generation if newest else 0) + 1})
            try:
                await self._keys.insert_one(_to_document(stored))
            except DuplicateKeyError as error:
                if _kid_taken(error):
                    raise Conflict(f"signing key {key.kid} is stored already") from None
                continue  # another key took this generation: take the next
            return stored
        raise Conflict(f"signing key {key.kid}: no free generation after {_ADD_TRIES} tries")

    async def add_first(self, key: SigningKey) -> SigningKey:
        # If another process stored a first key, that one is current.
        with contextlib.suppress(DuplicateKeyError):
            await self._keys.insert_one(_to_document(key.model_copy(update={"generation": 1})))
        current = await self.current()
        assert current is not None
        return current

    async def all(self) -> list[SigningKey]:
        return [_from_document(document) async for document in self._keys.find({}).sort("_id", ASCENDING)]

    async def current(self) -> SigningKey | None:
        document = await self._keys.find_one({}, sort=[("_id", DESCENDING)])
        return _from_document(document) if document else None
