"""The mirror's shell: read, merge (``merge``), decide who may see (``visibility``), write with
compare-and-set, and read pages back."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from hub.errors import InvalidParameters
from hub.mirror.merge import (
    BadTimestamp,
    IdMismatch,
    MergeError,
    MergeResult,
    MissingObject,
    MissingParent,
    NotPatchable,
    ObjectPath,
    check_ids,
    merge_patch,
    merge_put,
)
from hub.mirror.records import MirroredModule, MirrorRecord, storage_key
from hub.mirror.visibility import audience
from hub.ocpi.pagination import PageRequest
from hub.ocpi.types import format_datetime, utc_now
from hub.routing.requests import ObjectUrl
from hub.routing.table import PartyRef
from hub.store import StaleWrite
from hub.store.port import MirrorStore

log = structlog.get_logger(__name__)

_MIRRORED = frozenset(module.value for module in MirroredModule)
_RETRIES = 8
_TOTAL_REUSE_SECONDS = 1.0


@dataclass(frozen=True)
class PushOutcome:
    """What a push did to the mirror: ``changed`` is False for a stale or repeated push."""

    changed: bool
    key: str
    version: str
    audience: list[str] | None


@dataclass(frozen=True)
class Prepared:
    """A parsed push whose ids match its URL, ready to be applied."""

    module: str
    method: str
    path: ObjectPath
    key: str
    document: dict[str, Any]


@dataclass(frozen=True)
class Page:
    documents: list[bytes]  # each object's JSON
    total: int
    next_after: int | None  # the keyset of the next page, None on the last one


@dataclass(frozen=True)
class _Known:
    """What this process last read or wrote of a record: enough to replace it without reading it."""

    version: int
    seq: int
    last_updated: str
    audience: list[str] | None


class Mirror:
    def __init__(self, store: MirrorStore) -> None:
        self._store = store
        # A whole-object PUT needs only the stored version and last_updated, not the document: this
        # process keeps them for the records it touched. Safe with other writers: a save from a
        # stale version is refused by the store, and the push then reads the record and merges again.
        self._known: dict[str, _Known] = {}
        self._in_order: dict[str, tuple[asyncio.Lock, int]] = {}
        self._totals: dict[tuple[object, ...], tuple[float, int]] = {}

    def _remember(self, key: str, record: MirrorRecord) -> None:
        if len(self._known) > 50_000:
            self._known.clear()
        self._known[key] = _Known(
            record.version, record.seq, str(record.document.get("last_updated", "")), record.audience
        )

    async def _stored(
        self, module: str, path: ObjectPath, key: str, method: str, *, first: bool
    ) -> MirrorRecord | None:
        known = self._known.get(key)
        whole_object_put = method in ("PUT", "POST") and path.evse_uid is None
        if known is None and whole_object_put and first:
            # Most objects this process has not seen are new: try inserting; if the key exists the
            # store refuses (StaleWrite) and the next attempt reads it.
            return None
        if known is not None and whole_object_put:
            return MirrorRecord.model_construct(
                module=MirroredModule(module),
                country_code=path.country_code,
                party_id=path.party_id,
                object_id=path.object_id,
                token_type=path.token_type,
                document={"last_updated": known.last_updated},
                last_updated=utc_now(),
                audience=known.audience,
                seq=known.seq,
                version=known.version,
            )
        stored = await self._store.get(
            module, path.country_code, path.party_id, path.object_id, path.token_type
        )
        if stored is not None:
            self._remember(key, stored)
        return stored

    def prepare(
        self, module: str, method: str, url: ObjectUrl | None, token_type: str | None, body: bytes
    ) -> Prepared | None:
        """Parse a push and check its ids against its URL (2001 on a mismatch), touching no storage;
        None when the module is not mirrored."""
        if module not in _MIRRORED:
            return None
        document: dict[str, Any] = json.loads(body) if body.strip() else {}
        path = self._path(module, url, token_type, document)
        if method != "DELETE":
            try:
                check_ids(module, path, document)
            except IdMismatch as error:
                raise InvalidParameters(str(error)) from None
        key = storage_key(module, path.country_code, path.party_id, path.object_id, path.token_type)
        return Prepared(module, method, path, key, document)

    async def push(
        self,
        module: str,
        method: str,
        url: ObjectUrl | None,
        token_type: str | None,
        body: bytes,
        *,
        strict: bool,
    ) -> PushOutcome | None:
        """Apply one push; None when the module is not mirrored or (not ``strict``) cannot be placed."""
        prepared = self.prepare(module, method, url, token_type, body)
        return None if prepared is None else await self.apply(prepared, strict=strict)

    async def apply_in_order(self, prepared: Prepared, *, strict: bool) -> PushOutcome | None:
        """``apply``, one push of a key at a time, in the order they were handed over: a PATCH
        applied in the background never overtakes the PUT that created its object."""
        lock, users = self._in_order.get(prepared.key, (asyncio.Lock(), 0))
        self._in_order[prepared.key] = (lock, users + 1)
        try:
            async with lock:
                return await self.apply(prepared, strict=strict)
        finally:
            lock, users = self._in_order[prepared.key]
            if users == 1:
                del self._in_order[prepared.key]
            else:
                self._in_order[prepared.key] = (lock, users - 1)

    async def apply(self, prepared: Prepared, *, strict: bool) -> PushOutcome | None:
        module, method, path, key, document = (
            prepared.module,
            prepared.method,
            prepared.path,
            prepared.key,
            prepared.document,
        )
        if method == "DELETE":
            self._known.pop(key, None)
            await self._store.delete(
                module, path.country_code, path.party_id, path.object_id, path.token_type
            )
            return PushOutcome(changed=True, key=key, version=format_datetime(utc_now()), audience=None)
        for attempt in range(_RETRIES):
            stored = await self._stored(module, path, key, method, first=attempt == 0)
            try:
                merged = self._merge(module, method, stored, path, document)
            except (IdMismatch, BadTimestamp, NotPatchable) as error:
                raise InvalidParameters(str(error)) from None
            except (MissingParent, MissingObject) as error:
                if strict:
                    raise InvalidParameters(str(error)) from None
                log.info("mirror_push_not_placed", key=key, reason=str(error))
                return None
            if merged is None:
                version = stored.document.get("last_updated", "") if stored else ""
                return PushOutcome(
                    changed=False, key=key, version=str(version), audience=stored.audience if stored else None
                )
            visible_to = await self._audience(module, merged.document)
            record = MirrorRecord(
                module=MirroredModule(module),
                country_code=stored.country_code if stored else path.country_code,
                party_id=stored.party_id if stored else path.party_id,
                object_id=stored.object_id if stored else path.object_id,
                token_type=path.token_type if module == MirroredModule.TOKENS else None,
                document=merged.document,
                last_updated=merged.last_updated,
                audience=visible_to,
                seq=stored.seq if stored else 0,
                version=stored.version if stored else 0,
            )
            try:
                saved = await self._store.save(record)
            except StaleWrite:
                self._known.pop(key, None)
                continue  # someone wrote meanwhile: merge again onto what they wrote
            self._remember(key, saved)
            return PushOutcome(
                changed=True, key=key, version=format_datetime(merged.last_updated), audience=visible_to
            )
        raise InvalidParameters(f"{key}: too many concurrent changes; push again")

    @staticmethod
    def _merge(
        module: str, method: str, stored: MirrorRecord | None, path: ObjectPath, document: dict[str, Any]
    ) -> MergeResult | None:
        current = stored.document if stored else None
        if method == "PATCH":
            return merge_patch(module, current, path, document)
        return merge_put(module, current, path, document)

    @staticmethod
    def _path(
        module: str, url: ObjectUrl | None, token_type: str | None, document: dict[str, Any]
    ) -> ObjectPath:
        if url is None:  # a CDR POST: the key is in the body
            try:
                return ObjectPath(
                    str(document["country_code"]), str(document["party_id"]), str(document["id"])
                )
            except KeyError as error:
                raise InvalidParameters(f"{error.args[0]}: is required") from None
        ids: list[str | None] = [*url.ids, None, None]
        try:
            return ObjectPath(
                url.owner.country_code,
                url.owner.party_id,
                url.ids[0],
                evse_uid=ids[1],
                connector_id=ids[2],
                token_type=(token_type or "RFID") if module == MirroredModule.TOKENS else None,
            )
        except ValueError as error:
            raise InvalidParameters(f"URL: {error}") from None

    async def _audience(self, module: str, document: dict[str, Any]) -> list[str] | None:
        tokens: list[dict[str, Any]] = []
        if module == MirroredModule.LOCATIONS and document.get("publish") is not True:
            for entry in document.get("publish_allowed_to") or []:
                uid = entry.get("uid")
                if uid:
                    tokens.extend(r.document for r in await self._store.find("tokens", uid))
        return audience(module, document, tokens=tokens)

    # --- reads ------------------------------------------------------------------------------------

    async def find(self, module: str, object_id: str) -> list[MirrorRecord]:
        return await self._store.find(module, object_id)

    async def get(
        self, module: str, owner: PartyRef, object_id: str, token_type: str | None = None
    ) -> MirrorRecord | None:
        return await self._store.get(module, owner.country_code, owner.party_id, object_id, token_type)

    async def page(
        self, module: str, *, viewer_keys: Sequence[str], page: PageRequest, after_seq: int | None
    ) -> Page:
        # Counting is most of a page's cost, and a walk asks the same count page after page: it is
        # reused for a second (OCPI lets X-Total-Count move during a walk).
        count_key = (module, tuple(sorted(viewer_keys)), page.date_from, page.date_to)
        counted = self._totals.get(count_key)
        now = time.monotonic()
        fresh = counted is not None and now - counted[0] < _TOTAL_REUSE_SECONDS
        rows, total = await self._store.page_json(
            module,
            viewer_keys=viewer_keys,
            date_from=page.date_from,
            date_to=page.date_to,
            after_seq=after_seq,
            offset=0 if after_seq is not None else page.offset,
            limit=page.limit + 1,  # one more than asked tells whether there is a next page
            with_total=not fresh,
        )
        if fresh:
            assert counted is not None
            total = counted[1]
        else:
            if len(self._totals) > 1_000:
                self._totals.clear()
            self._totals[count_key] = (now, total)
        more = len(rows) > page.limit
        rows = rows[: page.limit]
        return Page(
            documents=[text.encode() for _, text in rows],
            total=total,
            next_after=rows[-1][0] if more and rows else None,
        )

    async def object(self, module: str, url: ObjectUrl, token_type: str | None) -> dict[str, Any] | None:
        """The stored object (or, for Locations, the EVSE or Connector) a Client Owned URL names."""
        record = await self.get(module, url.owner, url.ids[0], token_type)
        return _descend(record.document, url.ids[1:]) if record else None

    async def visible_object(
        self, module: str, tail: Sequence[str], viewer_keys: Sequence[str], token_type: str | None
    ) -> dict[str, Any] | None:
        """A Sender-side GET of one object by id: the single one the viewer may see."""
        keys = set(viewer_keys)
        records = [
            r
            for r in await self._store.find(module, tail[0])
            if (r.audience is None or keys & set(r.audience))
            and (
                module != MirroredModule.TOKENS or (r.token_type or "RFID") == (token_type or "RFID").upper()
            )
        ]
        if len(records) > 1:
            owners = ", ".join(sorted(r.owner_key for r in records))
            raise InvalidParameters(
                f"OCPI-to-country-code/OCPI-to-party-id: {tail[0]} is held by {owners}; name one"
            )
        return _descend(records[0].document, tail[1:]) if records else None


def _descend(document: dict[str, Any], ids: Sequence[str]) -> dict[str, Any] | None:
    """From a Location down to one of its EVSEs and Connectors, ids compared without regard to case."""
    current: dict[str, Any] | None = document
    for identifier, (field, child_id) in zip(ids, (("evses", "uid"), ("connectors", "id")), strict=False):
        assert current is not None
        current = next(
            (c for c in current.get(field) or [] if str(c.get(child_id, "")).upper() == identifier.upper()),
            None,
        )
        if current is None:
            return None
    return current


__all__ = ["MergeError", "Mirror", "Page", "PushOutcome"]
