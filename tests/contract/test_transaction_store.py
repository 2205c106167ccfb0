"""What any transaction store does (``hub.store.port.TransactionStore``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from hub.ocpp import sessions
from hub.ocpp.records import OCPP16, OCPP201
from hub.ocpp.sessions import Transaction
from hub.ocpp.signed import SignedRecord
from hub.ocpp.transaction_records import RemoteStart, TransactionRecord, TransactionStatus, start_key
from hub.store import Conflict, StaleWrite, Store
from hub.store.sqlite import SqliteStore
from tests.contract.connections import adapters, two_connections

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def record(
    transaction_id: str = "1", station_id: str = "CS001", *, protocol: str = OCPP16, **changes: object
) -> TransactionRecord:
    session_id = f"{station_id}-{transaction_id}"
    transaction = Transaction(
        station_id=station_id,
        protocol=protocol,
        transaction_id=transaction_id,
        session_id=session_id,
        id_tag="UID1",
        country_code="NL",
        party_id="ABC",
        location_id=station_id,
        evse=1,
        meter_start_wh=Decimal("1000.5"),
        started_at=NOW,
        token={"country_code": "DE", "party_id": "MSP", "uid": "UID1"},
        auth_method="WHITELIST",
        signed=(SignedRecord(nature="Start", encoding_method="OCMF", signed_data="T0NNRnw="),),
    )
    fields: dict[str, object] = {
        "station_id": station_id,
        "protocol": protocol,
        "transaction_id": transaction_id,
        "session_id": session_id,
        "status": TransactionStatus.OPEN,
        "transaction": transaction,
        "start_key": start_key(station_id, 1, "UID1", 1000, f"2026-03-01T00:00:0{transaction_id}Z")
        if protocol == OCPP16
        else None,
        "created_at": NOW,
    } | changes
    return TransactionRecord.model_validate(fields)


async def test_a_stored_transaction_reads_back_equal_by_each_of_its_keys(store: Store) -> None:
    stored = record()
    await store.transactions.add(stored)
    assert await store.transactions.get("cs001", "1") == stored
    assert await store.transactions.by_session("cs001-1") == stored
    assert stored.start_key is not None
    assert await store.transactions.by_start_key(stored.start_key) == stored
    assert await store.transactions.get("CS001", "2") is None
    assert await store.transactions.get("CS002", "1") is None


async def test_a_station_transaction_id_and_a_start_key_are_unique(store: Store) -> None:
    await store.transactions.add(record("1"))
    with pytest.raises(Conflict):  # the same station transaction id, whatever the case of the station
        await store.transactions.add(record("1", "cs001", session_id="other", start_key="other"))
    with pytest.raises(Conflict):  # the same start sent again
        await store.transactions.add(record("2", start_key=record("1").start_key))
    # Another station may use the same id (2.0.1 ids are unique per station only).
    await store.transactions.add(record("1", "CS002", protocol=OCPP201))
    await store.transactions.add(record("2", "CS002", protocol=OCPP201))  # no start key: no conflict


async def test_the_open_transactions_of_a_station_are_listed_oldest_first_until_they_stop(
    store: Store,
) -> None:
    await store.transactions.add(record("2", created_at=NOW + timedelta(seconds=1)))
    await store.transactions.add(record("1"))
    await store.transactions.add(record("3", "CS002"))
    assert [r.transaction_id for r in await store.transactions.open_of("cs001")] == ["1", "2"]

    first = await store.transactions.get("CS001", "1")
    assert first is not None
    await store.transactions.update(first.model_copy(update={"status": TransactionStatus.STOPPED}))

    assert [r.transaction_id for r in await store.transactions.open_of("CS001")] == ["2"]
    assert await store.transactions.open_of("CS009") == []


async def test_an_update_bumps_the_revision_and_a_stale_one_is_refused(store: Store) -> None:
    await store.transactions.add(record())
    read = await store.transactions.get("CS001", "1")
    assert read is not None
    stored = await store.transactions.update(read.model_copy(update={"status": TransactionStatus.STOPPED}))
    assert stored.revision == read.revision + 1
    again = await store.transactions.get("CS001", "1")
    assert again is not None and again.status is TransactionStatus.STOPPED
    with pytest.raises(StaleWrite):
        await store.transactions.update(read.model_copy(update={"seq_no": 3}))


async def test_transaction_ids_are_new_every_time(store: Store) -> None:
    ids = [await store.transactions.next_id() for _ in range(5)]
    assert len(set(ids)) == 5
    assert all(0 < i <= 0x7FFFFFFF for i in ids)
    assert ids == sorted(ids)


@pytest.mark.parametrize("adapter", adapters())
async def test_two_processes_never_hand_out_the_same_transaction_id(adapter: str, tmp_path: Path) -> None:
    async with two_connections(adapter, tmp_path) as (one, two):
        ids = [await store.transactions.next_id() for _ in range(3) for store in (one, two)]
    assert len(set(ids)) == len(ids)


async def test_transaction_ids_survive_reopening_the_file(tmp_path: Path) -> None:
    first = await SqliteStore.open(tmp_path / "hub.sqlite3")
    given = await first.transactions.next_id()
    await first.close()
    second = await SqliteStore.open(tmp_path / "hub.sqlite3")
    assert await second.transactions.next_id() > given
    await second.close()


def remote(start_id: str, *, at: datetime, station_id: str = "CS001") -> RemoteStart:
    return RemoteStart(
        id=start_id,
        station_id=station_id,
        evse=1,
        id_tag="APP1",
        token={"country_code": "DE", "party_id": "MSP", "uid": "APP1"},
        authorization_reference="REF-1",
        remote_start_id=7,
        created_at=at,
    )


async def test_remote_starts_are_listed_per_station_since_a_moment_oldest_first(store: Store) -> None:
    await store.transactions.add_remote_start(remote("b", at=NOW))
    await store.transactions.add_remote_start(remote("a", at=NOW - timedelta(minutes=10)))
    await store.transactions.add_remote_start(remote("c", at=NOW + timedelta(seconds=1)))
    await store.transactions.add_remote_start(remote("d", at=NOW, station_id="CS002"))
    found = await store.transactions.remote_starts("cs001", NOW - timedelta(minutes=5))
    assert [s.id for s in found] == ["b", "c"]
    assert found[0] == remote("b", at=NOW)
    with pytest.raises(Conflict):
        await store.transactions.add_remote_start(remote("b", at=NOW))


async def test_a_remote_start_is_taken_once(store: Store) -> None:
    await store.transactions.add_remote_start(remote("a", at=NOW))
    [read] = await store.transactions.remote_starts("CS001", NOW)
    taken = await store.transactions.update_remote_start(read.model_copy(update={"session_id": "S1"}))
    assert taken.revision == read.revision + 1
    with pytest.raises(StaleWrite):
        await store.transactions.update_remote_start(read.model_copy(update={"session_id": "S2"}))
    [again] = await store.transactions.remote_starts("CS001", NOW)
    assert again.session_id == "S1"


def test_session_ids_of_long_station_ids_stay_within_36_characters() -> None:
    assert sessions.session_id("CS001", 12) == "CS001-12"
    long = sessions.session_id("S" * 36, 12)
    assert len(long) <= 36 and long != sessions.session_id("S" * 36, 12)
