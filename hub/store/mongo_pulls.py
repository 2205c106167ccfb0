"""Pull checkpoints in MongoDB: one collection ``pulls``, one document per platform and module.

``_id`` is the pair, so an insert of a second checkpoint for it fails; the checkpoint is kept in its
JSON form (times read back exactly, microseconds included), and every replace matches the revision
it read (compare-and-set, see ``hub.pulls.records``).
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hub.pulls.records import PullCheckpoint
from hub.store.port import StaleWrite

Document = dict[str, Any]


def _key(platform_id: str, module: str) -> Document:
    return {"platform_id": platform_id, "module": module}


def _to_document(checkpoint: PullCheckpoint) -> Document:
    document: Document = checkpoint.model_dump(mode="json")
    document["_id"] = _key(checkpoint.platform_id, checkpoint.module)
    return document


def _from_document(document: Document) -> PullCheckpoint:
    document = dict(document)
    del document["_id"]
    return PullCheckpoint.model_validate(document)


class MongoPullStore:
    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self._pulls = database["pulls"]

    async def create_indexes(self) -> None:
        await self._pulls.create_index([("platform_id", ASCENDING), ("module", ASCENDING)])

    async def get(self, platform_id: str, module: str) -> PullCheckpoint | None:
        document = await self._pulls.find_one({"_id": _key(platform_id, module)})
        return _from_document(document) if document else None

    async def save(self, checkpoint: PullCheckpoint) -> PullCheckpoint:
        stored = checkpoint.model_copy(update={"revision": checkpoint.revision + 1})
        key = _key(checkpoint.platform_id, checkpoint.module)
        if checkpoint.revision == 0:
            try:
                await self._pulls.insert_one(_to_document(stored))
            except DuplicateKeyError:
                raise StaleWrite(f"a pull checkpoint for {key} exists already") from None
            return stored
        result = await self._pulls.replace_one(
            {"_id": key, "revision": checkpoint.revision}, _to_document(stored)
        )
        if result.matched_count != 1:
            raise StaleWrite(f"the pull checkpoint {key} changed since revision {checkpoint.revision}")
        return stored

    async def all(self) -> list[PullCheckpoint]:
        cursor = self._pulls.find({}).sort([("platform_id", ASCENDING), ("module", ASCENDING)])
        return [_from_document(document) async for document in cursor]
