"""Stations in SQLite: one row per station, its document as JSON beside the two keys that must
stay unique (upper-cased id, CPO Location key) and the revision every replace compares and sets."""

from __future__ import annotations

import sqlite3

import aiosqlite

from hub.ocpp.records import Station
from hub.store.port import Conflict, StaleWrite
from hub.store.sqlite_base import Transactions

SCHEMA = """
CREATE TABLE IF NOT EXISTS stations (
    key          TEXT PRIMARY KEY,
    location_key TEXT NOT NULL UNIQUE,
    created_at   REAL NOT NULL,
    revision     INTEGER NOT NULL,
    document     TEXT NOT NULL
);
"""


class SqliteStationStore:
    def __init__(self, db: aiosqlite.Connection, transactions: Transactions) -> None:
        self._db = db
        self._transactions = transactions

    async def add(self, station: Station) -> None:
        try:
            async with self._transactions.single() as db:
                await db.execute(
                    "INSERT INTO stations (key, location_key, created_at, revision, document) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (
                        station.key,
                        station.location_key,
                        station.created_at.timestamp(),
                        station.revision,
                        station.model_dump_json(),
                    ),
                )
        except sqlite3.IntegrityError as error:
            raise Conflict(f"station {station.id} or location {station.location_key}: {error}") from None

    async def get(self, station_id: str) -> Station | None:
        rows = list(
            await self._db.execute_fetchall(
                "SELECT document FROM stations WHERE key = ?", (station_id.upper(),)
            )
        )
        return Station.model_validate_json(rows[0][0]) if rows else None

    async def update(self, station: Station) -> Station:
        stored = station.model_copy(update={"revision": station.revision + 1})
        async with self._transactions.single() as db:
            cursor = await db.execute(
                "UPDATE stations SET revision = ?, document = ? WHERE key = ? AND revision = ?",
                (stored.revision, stored.model_dump_json(), station.key, station.revision),
            )
        if cursor.rowcount != 1:
            raise StaleWrite(f"station {station.id} changed since revision {station.revision}")
        return stored

    async def all(self) -> list[Station]:
        rows = await self._db.execute_fetchall("SELECT document FROM stations ORDER BY created_at, key")
        return [Station.model_validate_json(row[0]) for row in rows]
