"""The mirror in SQLite.

One row per mirrored object. The document is kept as JSON text; what the hub looks records up by
lives in columns next to it (the upper-cased storage key, the upper-cased object id for open
routing, ``last_updated`` as epoch microseconds, so date filters compare integers).

``seq`` is the rowid, and ``AUTOINCREMENT`` keeps SQLite from ever handing out the seq of a
deleted record again: pages follow creation order, and a keyset (``after_seq``) stays valid.

Visibility: a record with no audience is ``public``; otherwise its party keys are rows of
``mirror_audience``, so ``page`` filters, counts and pages in SQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import aiosqlite

from hub.mirror.records import MirrorRecord, storage_key
from hub.ocpi.types import utc_now
from hub.store.port import StaleWrite
from hub.store.sqlite_base import Transactions

SCHEMA = """
CREATE TABLE IF NOT EXISTS mirror (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    key           TEXT NOT NULL UNIQUE,
    module        TEXT NOT NULL,
    object_key    TEXT NOT NULL,
    country_code  TEXT NOT NULL,
    party_id      TEXT NOT NULL,
    object_id     TEXT NOT NULL,
    token_type    TEXT,
    last_updated  INTEGER NOT NULL,
    public        INTEGER NOT NULL,
    audience      TEXT,
    version       INTEGER NOT NULL,
    stored_at     INTEGER,
    document      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS mirror_audience (
    seq           INTEGER NOT NULL REFERENCES mirror(seq) ON DELETE CASCADE,
    party_key     TEXT NOT NULL,
    PRIMARY KEY (seq, party_key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS mirror_audience_by_party ON mirror_audience(party_key, seq);
-- The audience rows follow the audience column, inside the statement that writes it: a save is
-- one statement, atomic by itself, one hop to the database thread.
CREATE TRIGGER IF NOT EXISTS mirror_audience_on_insert AFTER INSERT ON mirror
WHEN new.audience IS NOT NULL
BEGIN
    INSERT OR IGNORE INTO mirror_audience (seq, party_key)
    SELECT new.seq, upper(value) FROM json_each(new.audience);
END;
CREATE TRIGGER IF NOT EXISTS mirror_audience_on_update AFTER UPDATE OF audience ON mirror
WHEN old.audience IS NOT new.audience
BEGIN
    DELETE FROM mirror_audience WHERE seq = old.seq;
    INSERT OR IGNORE INTO mirror_audience (seq, party_key)
    SELECT new.seq, upper(value) FROM json_each(new.audience) WHERE new.audience IS NOT NULL;
END;
CREATE INDEX IF NOT EXISTS mirror_by_module ON mirror(module, seq, public, last_updated);
CREATE INDEX IF NOT EXISTS mirror_by_last_updated ON mirror(module, last_updated, seq, public);
CREATE INDEX IF NOT EXISTS mirror_by_object ON mirror(module, object_key, seq);
"""

_COLUMNS = (
    "seq, module, country_code, party_id, object_id, token_type, last_updated, audience, version, "
    "stored_at, document"
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _to_micros(value: datetime) -> int:
    # A naive datetime is UTC, as an OCPI DateTime without zone is.
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // _MICROSECOND


def _from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def _party_keys(audience: Iterable[str]) -> list[str]:
    return sorted({key.upper() for key in audience})


def _record(row: Sequence[Any]) -> MirrorRecord:
    seq, module, country_code, party_id, object_id, token_type, last_updated, audience, version = row[:9]
    stored_at, document = row[9], row[10]
    # Validating is cheap here (``document`` is dict[str, Any]: its values are not walked), and
    # measured faster than ``model_construct``, which runs in Python.
    return MirrorRecord(
        module=module,
        country_code=country_code,
        party_id=party_id,
        object_id=object_id,
        token_type=token_type,
        document=json.loads(document),
        last_updated=_from_micros(last_updated),
        audience=None if audience is None else json.loads(audience),
        seq=seq,
        version=version,
        stored_at=None if stored_at is None else _from_micros(stored_at),
    )


class SqliteMirrorStore:
    def __init__(self, db: aiosqlite.Connection, transactions: Transactions) -> None:
        self._db = db
        self._transactions = transactions

    async def get(
        self, module: str, country_code: str, party_id: str, object_id: str, token_type: str | None = None
    ) -> MirrorRecord | None:
        key = storage_key(module, country_code, party_id, object_id, token_type)
        sql = f"SELECT {_COLUMNS} FROM mirror WHERE key = ?"  # noqa: S608 - constant column list
        rows = list(await self._db.execute_fetchall(sql, (key,)))
        return _record(rows[0]) if rows else None

    async def held(self, keys: Sequence[str]) -> set[str]:
        if not keys:
            return set()
        marks = ", ".join("?" for _ in keys)
        sql = f"SELECT key FROM mirror WHERE key IN ({marks})"  # noqa: S608 - placeholders only
        rows = await self._db.execute_fetchall(sql, tuple(keys))
        return {str(row[0]) for row in rows}

    async def find(self, module: str, object_id: str) -> list[MirrorRecord]:
        rows = await self._db.execute_fetchall(
            f"SELECT {_COLUMNS} FROM mirror WHERE module = ? AND object_key = ? ORDER BY seq",  # noqa: S608
            (str(module), object_id.upper()),
        )
        return [_record(row) for row in rows]

    async def save(self, record: MirrorRecord) -> MirrorRecord:
        stored_at = utc_now()
        audience = None if record.audience is None else json.dumps(record.audience)
        values = (
            record.country_code,
            record.party_id,
            record.object_id,
            record.token_type,
            _to_micros(record.last_updated),
            int(record.audience is None),
            audience,
            _to_micros(stored_at),
            json.dumps(record.document, ensure_ascii=False, separators=(",", ":")),
        )
        key = record.key
        async with self._transactions.single() as db:
            if record.version == 0:
                rows = list(
                    await db.execute_fetchall(
                        "INSERT INTO mirror (key, module, object_key, country_code, party_id, object_id, "
                        "token_type, last_updated, public, audience, stored_at, document, version) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1) "
                        "ON CONFLICT (key) DO NOTHING RETURNING seq",
                        (key, str(record.module), record.object_id.upper(), *values),
                    )
                )
                if not rows:
                    raise StaleWrite(f"{key} is already stored")
            else:
                rows = list(
                    await db.execute_fetchall(
                        "UPDATE mirror SET country_code = ?, party_id = ?, object_id = ?, token_type = ?, "
                        "last_updated = ?, public = ?, audience = ?, stored_at = ?, document = ?, "
                        "version = version + 1 WHERE key = ? AND version = ? RETURNING seq",
                        (*values, key, record.version),
                    )
                )
                if not rows:
                    raise StaleWrite(f"{key} changed since version {record.version}, or is gone")
            seq = int(rows[0][0])
        return record.model_copy(update={"seq": seq, "version": record.version + 1, "stored_at": stored_at})

    async def delete(
        self, module: str, country_code: str, party_id: str, object_id: str, token_type: str | None = None
    ) -> bool:
        key = storage_key(module, country_code, party_id, object_id, token_type)
        async with self._transactions.write() as db:
            await db.execute(
                "DELETE FROM mirror_audience WHERE seq IN (SELECT seq FROM mirror WHERE key = ?)", (key,)
            )
            cursor = await db.execute("DELETE FROM mirror WHERE key = ?", (key,))
        return cursor.rowcount == 1

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
        rows, total = await self._page_rows(
            _COLUMNS, module, viewer_keys, date_from, date_to, after_seq, offset, limit
        )
        return [_record(row) for row in rows], total

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
        """As ``page``, but only each record's ``seq`` and document, as the JSON text stored.

        For GET All: parsing documents only to serialise them again costs far more than the query.
        """
        rows, total = await self._page_rows(
            "seq, document",
            module,
            viewer_keys,
            date_from,
            date_to,
            after_seq,
            offset,
            limit,
            with_total=with_total,
        )
        return [(row[0], row[1]) for row in rows], total

    async def _page_rows(
        self,
        columns: str,
        module: str,
        viewer_keys: Sequence[str] | None,
        date_from: datetime | None,
        date_to: datetime | None,
        after_seq: int | None,
        offset: int,
        limit: int,
        *,
        with_total: bool = True,
    ) -> tuple[list[Sequence[Any]], int]:
        where = ["m.module = ?"]
        parameters: list[object] = [str(module)]
        if date_from is not None:
            where.append("m.last_updated >= ?")
            parameters.append(_to_micros(date_from))
        if date_to is not None:
            where.append("m.last_updated < ?")
            parameters.append(_to_micros(date_to))
        if viewer_keys is not None:
            keys = _party_keys(viewer_keys)
            marks = ", ".join("?" * len(keys))
            where.append(
                # Uncorrelated: the viewer's seqs are looked up once per statement, not once per row.
                "(m.public = 1 OR m.seq IN (SELECT seq FROM mirror_audience "  # noqa: S608 - placeholders only
                f"WHERE party_key IN ({marks})))"
            )
            parameters.extend(keys)
        filters = " AND ".join(where)
        count = f"SELECT COUNT(*) FROM mirror m WHERE {filters}"  # noqa: S608
        page_where = filters if after_seq is None else f"{filters} AND m.seq > ?"
        page_parameters = parameters if after_seq is None else [*parameters, after_seq]
        # One hop for rows and total: the uncorrelated count subquery runs once per statement. The
        # page's seqs are chosen on the covering indexes first, so skipped and sorted rows never
        # drag their documents along.
        total_sql, total_parameters = (f"({count})", parameters) if with_total else ("-1", [])
        rows = list(
            await self._db.execute_fetchall(
                f"SELECT {total_sql}, {columns} FROM mirror WHERE seq IN ("  # noqa: S608
                f"SELECT m.seq FROM mirror m WHERE {page_where} ORDER BY m.seq LIMIT ? OFFSET ?"
                ") ORDER BY seq",
                (*total_parameters, *page_parameters, max(limit, 0), max(offset, 0)),
            )
        )
        if rows:
            return [row[1:] for row in rows], int(rows[0][0])
        if not with_total:
            return [], -1
        # Past the last page (or limit 0): there is no row to carry the total.
        counted = list(await self._db.execute_fetchall(count, parameters))
        return [], int(counted[0][0])
