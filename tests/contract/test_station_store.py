"""What any station store does (``hub.store.port.StationStore``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.ocpp.records import Station
from hub.store import Conflict, StaleWrite, Store

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def station(station_id: str = "CS001", location_id: str | None = None, *, at: datetime = NOW) -> Station:
    return Station(
        id=station_id,
        country_code="NL",
        party_id="ABC",
        password_hash="scrypt$x",
        location_id=location_id or station_id,
        template={"address": "Stationsplein 1"},
        created_at=at,
    )


async def test_a_stored_station_reads_back_equal_whatever_the_case(store: Store) -> None:
    await store.stations.add(station("Cs001"))
    assert await store.stations.get("CS001") == station("Cs001")


async def test_an_unknown_station_reads_back_as_none(store: Store) -> None:
    assert await store.stations.get("nope") is None


async def test_station_ids_are_unique_without_regard_to_case(store: Store) -> None:
    await store.stations.add(station("CS001"))
    with pytest.raises(Conflict):
        await store.stations.add(station("cs001", "OTHER"))


async def test_a_location_id_belongs_to_one_station_of_its_cpo(store: Store) -> None:
    await store.stations.add(station("CS001", "SITE1"))
    with pytest.raises(Conflict):
        await store.stations.add(station("CS002", "site1"))


async def test_an_update_bumps_the_revision_and_a_stale_one_is_refused(store: Store) -> None:
    await store.stations.add(station())
    read = await store.stations.get("CS001")
    assert read is not None
    stored = await store.stations.update(read.model_copy(update={"connected": True}))
    assert stored.revision == read.revision + 1
    again = await store.stations.get("CS001")
    assert again is not None and again.connected and again.revision == stored.revision
    with pytest.raises(StaleWrite):
        await store.stations.update(read.model_copy(update={"connected": False}))


async def test_all_lists_oldest_first(store: Store) -> None:
    await store.stations.add(station("B", at=NOW + timedelta(seconds=1)))
    await store.stations.add(station("A", at=NOW))
    assert [s.id for s in await store.stations.all()] == ["A", "B"]
