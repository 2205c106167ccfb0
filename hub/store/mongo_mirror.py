"""The mirror in MongoDB.

One document per mirrored object in the ``mirror`` collection, ``_id`` = the upper-cased storage
key. ``seq`` comes from a counter document (``counters``/``mirror_seq``) at first insert and is
never written again. ``last_updated`` and ``stored_at`` are kept as epoch microseconds: BSON dates
stop at milliseconds, and OCPI DateTimes may carry more.

Visibility: a record without an audience has no ``audience_keys`` field (visible to everyone);
otherwise ``audience_keys`` holds its upper-cased party keys, next to ``audience`` as given.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hub.mirror.records import MirrorRecord, storage_key
from hub.ocpi.types import utc_now
from hub.store.port import StaleWrite

Document = dict[str, Any]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _to_micros(value: datetime) -> int:
    # A naive datetime is UTC, as an OCPI DateTime without zone is.
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // _MICROSECOND


def _from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def _content(record: MirrorRecord, stored_at: datetime) -> Document:
    """The fields every write sets (``_id``, ``module`` and ``seq`` are written once, at insert)."""
    content: Document = {
        "country_code": record.country_code,
        "party_id": record.party_id,
        "object_id": record.object_id,
        "token_type": record.token_type,
        "document": record.document,
        "last_updated": _to_micros(record.last_updated),
        "stored_at": _to_micros(stored_at),
    }
    if record.audience is not None:
        content["audience"] = record.audience
        content["audience_keys"] = sorted({key.upper() for key in record.audience})
    return content


def _record(document: Document) -> MirrorRecord:
    stored_at = document.get("stored_at")
    return MirrorRecord(
        module=document["module"],
        country_code=document["country_code"],
        party_id=document["party_id"],
        object_id=document["object_id"],
        token_type=document.get("token_type"),
        document=document["document"],
        last_updated=_from_micros(document["last_updated"]),
        audience=document.get("audience"),
        seq=document["seq"],
        version=document["version"],
        stored_at=None if stored_at is None else _from_micros(stored_at),
    )


class MongoMirrorStore:
    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self._mirror = database["mirror"]
        self._counters = database["counters"]

    async def create_indexes(self) -> None:
        await self._mirror.create_index([("module", ASCENDING), ("seq", ASCENDING)])
        await self._mirror.create_index(
            [("module", ASCENDING), ("object_key", ASCENDING), ("seq", ASCENDING)]
        )
        await self._mirror.create_index(
            [("module", ASCENDING), ("last_updated", ASCENDING), ("seq", ASCENDING)]
        )

    async def get(
        self, module: str, country_code: str, party_id: str, object_id: str, token_type: str | None = None
    ) -> MirrorRecord | None:
        key = storage_key(module, country_code, party_id, object_id, token_type)
        document = await self._mirror.find_one({"_id": key})
        return _record(document) if document else None

    async def held(self, keys: Sequence[str]) -> set[str]:
        if not keys:
            return set()
        cursor = self._mirror.find({"_id": {"$in": list(keys)}}, {"_id": 1})
        return {str(document["_id"]) async for document in cursor}

    async def find(self, module: str, object_id: str) -> list[MirrorRecord]:
        cursor = self._mirror.find({"module": str(module), "object_key": object_id.upper()})
        return [_record(document) async for document in cursor.sort("seq", ASCENDING)]

    async def save(self, record: MirrorRecord) -> MirrorRecord:
        stored_at = utc_now()
        content = _content(record, stored_at)
        if record.version == 0:
            seq = await self._next_seq()
            try:
                await self._mirror.insert_one(
                    {
                        "_id": record.key,
                        "module": str(record.module),
                        "object_key": record.object_id.upper(),
                        "seq": seq,
                        "version": 1,
                        **content,
                    }
                )
            except DuplicateKeyError:
                raise StaleWrite(f"{record.key} is already stored") from None
        else:
            update: Document = {"$set": content, "$inc": {"version": 1}}
            if record.audience is None:
                update["$unset"] = {"audience": "", "audience_keys": ""}
            stored = await self._mirror.find_one_and_update(
                {"_id": record.key, "version": record.version},
                update,
                projection={"seq": True},
                return_document=ReturnDocument.AFTER,
            )
            if stored is None:
                raise StaleWrite(f"{record.key} changed since version {record.version}, or is gone")
            seq = stored["seq"]
        return record.model_copy(update={"seq": seq, "version": record.version + 1, "stored_at": stored_at})

    async def delete(
        self, module: str, country_code: str, party_id: str, object_id: str, token_type: str | None = None
    ) -> bool:
        key = storage_key(module, country_code, party_id, object_id, token_type)
        result = await self._mirror.delete_one({"_id": key})
        return result.deleted_count == 1

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
        documents, total = await self._page(
            module, viewer_keys, date_from, date_to, after_seq, offset, limit, projection=None
        )
        return [_record(document) for document in documents], total

    async def page_json(
        self,
        module: str,
        *,
        viewer_keys: Sequence[str] | None,
        date_from: datetime | None,
        date_to: datetime | None,
        after_seq: int | None,
        offset: int,
        limit: int,
        with_total: bool = True,
    ) -> tuple[list[tuple[int, str]], int]:
        """As ``page``, but only each record's ``seq`` and document, as JSON text."""
        documents, total = await self._page(
            module,
            viewer_keys,
            date_from,
            date_to,
            after_seq,
            offset,
            limit,
            projection={"seq": True, "document": True},
            with_total=with_total,
        )
        return [
            (d["seq"], json.dumps(d["document"], ensure_ascii=False, separators=(",", ":")))
            for d in documents
        ], total

    async def _page(
        self,
        module: str,
        viewer_keys: Sequence[str] | None,
        date_from: datetime | None,
        date_to: datetime | None,
        after_seq: int | None,
        offset: int,
        limit: int,
        *,
        projection: Document | None,
        with_total: bool = True,
    ) -> tuple[list[Document], int]:
        query: Document = {"module": str(module)}
        last_updated: Document = {}
        if date_from is not None:
            last_updated["$gte"] = _to_micros(date_from)
        if date_to is not None:
            last_updated["$lt"] = _to_micros(date_to)
        if last_updated:
            query["last_updated"] = last_updated
        if viewer_keys is not None:
            keys = sorted({key.upper() for key in viewer_keys})
            query["$or"] = [{"audience_keys": {"$exists": False}}, {"audience_keys": {"$in": keys}}]
        total = await self._mirror.count_documents(query) if with_total else -1
        if limit <= 0:  # Mongo reads a limit of 0 as "no limit"
            return [], total
        if after_seq is not None:
            query["seq"] = {"$gt": after_seq}
        cursor = self._mirror.find(query, projection).sort("seq", ASCENDING).skip(max(offset, 0)).limit(limit)
        return [document async for document in cursor], total

    async def _next_seq(self) -> int:
        counter = await self._counters.find_one_and_update(
            {"_id": "mirror_seq"}, {"$inc": {"value": 1}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        assert counter is not None  # upsert with AFTER always returns the document
        return int(counter["value"])
