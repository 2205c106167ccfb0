"""What any store does with outbox deliveries; runs on SQLite always, and on MongoDB when
``HUB_TEST_MONGODB_URL`` points at a server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from hub.outbox.records import Attempt, Delivery, DeliveryState
from hub.store import Conflict, StaleWrite, Store
from hub.store.sqlite import SqliteStore

T0 = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def delivery(
    target: str = "p-one",
    *,
    created: datetime = T0,
    due: datetime | None = T0,
    state: DeliveryState = DeliveryState.PENDING,
    object_key: str | None = None,
    **fields: Any,
) -> Delivery:
    values: dict[str, Any] = {
        "target_platform_id": target,
        "to_country_code": "NL",
        "to_party_id": "TNM",
        "from_country_code": "NL",
        "from_party_id": "HUB",
        "method": "PUT",
        "url": "http://127.0.0.1:9/ocpi/2.2.1/locations/NL/HUB/LOC1",
        "body": '{"id": "LOC1", "name": "caf\\u00e9 ☕"}',
        "module": "locations",
        "object_key": object_key,
        "created_at": created,
        "next_attempt_at": due,
        "state": state,
    }
    return Delivery(**(values | fields))


async def test_stored_deliveries_read_back_equal(store: Store) -> None:
    first = delivery(
        object_key="locations|NL|HUB|LOC1",
        object_version="2025-03-01T12:00:00Z",
        attempts=[Attempt(at=T0, http_status=500, ocpi_status=3000, error=None, elapsed_ms=12.5)],
    )
    second = delivery(body=None, method="DELETE", due=None, state=DeliveryState.DEAD, reason="gone")
    await store.outbox.add([first, second])
    assert await store.outbox.get(first.id) == first
    assert await store.outbox.get(second.id) == second


async def test_an_unknown_delivery_reads_back_as_none(store: Store) -> None:
    assert await store.outbox.get("d-unknown") is None


async def test_adding_nothing_stores_nothing(store: Store) -> None:
    await store.outbox.add([])
    assert await store.outbox.by_state(DeliveryState.PENDING, limit=10) == []


async def test_a_batch_with_a_duplicate_id_stores_nothing(store: Store) -> None:
    a, b = delivery(), delivery()
    twice = delivery(id=a.id)
    with pytest.raises(Conflict):
        await store.outbox.add([a, b, twice])
    assert await store.outbox.get(a.id) is None
    assert await store.outbox.get(b.id) is None


async def test_a_batch_reusing_a_stored_id_stores_nothing_and_keeps_the_stored_one(store: Store) -> None:
    stored = delivery(reason="original")
    await store.outbox.add([stored])
    fresh = delivery()
    with pytest.raises(Conflict):
        await store.outbox.add([fresh, delivery(id=stored.id, reason="impostor")])
    assert await store.outbox.get(fresh.id) is None
    assert await store.outbox.get(stored.id) == stored


async def test_an_update_bumps_the_revision_and_replaces_the_document(store: Store) -> None:
    original = delivery()
    await store.outbox.add([original])
    changed = original.model_copy(
        update={
            "state": DeliveryState.DELIVERED,
            "next_attempt_at": None,
            "attempts": [Attempt(at=T0, http_status=200, ocpi_status=1000, elapsed_ms=3.0)],
        }
    )
    stored = await store.outbox.update(changed)
    assert stored.revision == original.revision + 1
    assert await store.outbox.get(original.id) == stored
    # The indexed fields follow the document.
    assert await store.outbox.due(T0 + timedelta(days=1), limit=10) == []
    assert await store.outbox.by_state(DeliveryState.DELIVERED, limit=10) == [stored]


async def test_an_update_from_a_stale_read_is_refused(store: Store) -> None:
    original = delivery()
    await store.outbox.add([original])
    await store.outbox.update(original.model_copy(update={"reason": "first"}))
    with pytest.raises(StaleWrite):
        await store.outbox.update(original.model_copy(update={"reason": "second"}))
    stored = await store.outbox.get(original.id)
    assert stored is not None and stored.reason == "first"


async def test_an_update_of_an_unknown_delivery_is_a_stale_write(store: Store) -> None:
    with pytest.raises(StaleWrite):
        await store.outbox.update(delivery())


async def test_concurrent_updates_of_one_revision_let_exactly_one_win(store: Store) -> None:
    original = delivery()
    await store.outbox.add([original])
    attempts = [original.model_copy(update={"reason": f"r{i}"}) for i in range(8)]
    results = await asyncio.gather(*(store.outbox.update(a) for a in attempts), return_exceptions=True)
    assert sum(1 for r in results if isinstance(r, Delivery)) == 1
    assert all(isinstance(r, StaleWrite) for r in results if not isinstance(r, Delivery))


async def test_get_many_reads_the_existing_ones_of_many_ids(store: Store) -> None:
    stored = [delivery(object_key=f"locations|NL|HUB|L{n}") for n in range(3)]
    await store.outbox.add(stored)
    found = await store.outbox.get_many([stored[2].id, "d-unknown", stored[0].id])
    assert sorted(found, key=lambda d: d.id) == sorted([stored[0], stored[2]], key=lambda d: d.id)
    assert await store.outbox.get_many([]) == []


async def test_update_many_writes_the_current_ones_and_reports_the_stale_ones(store: Store) -> None:
    first, second, third = delivery(), delivery(), delivery()
    await store.outbox.add([first, second, third])
    await store.outbox.update(second.model_copy(update={"reason": "touched"}))  # second moves on

    written = await store.outbox.update_many(
        [
            first.model_copy(update={"state": DeliveryState.DELIVERED, "next_attempt_at": None}),
            second.model_copy(update={"state": DeliveryState.DEAD}),
            third.model_copy(update={"next_attempt_at": T0 + timedelta(minutes=5)}),
            delivery(),  # never stored
        ]
    )

    assert [w.revision if w else None for w in written] == [1, None, 1, None]
    assert await store.outbox.get(first.id) == written[0]
    assert await store.outbox.get(third.id) == written[2]
    kept = await store.outbox.get(second.id)
    assert kept is not None and kept.state is DeliveryState.PENDING and kept.reason == "touched"
    # The indexed columns moved with the documents.
    assert [d.id for d in await store.outbox.due(T0, limit=10)] == [second.id]
    assert [d.id for d in await store.outbox.due(T0 + timedelta(minutes=5), limit=10)] == [
        second.id,
        third.id,
    ]


async def test_for_objects_lists_the_deliveries_of_several_objects_to_one_receiver(store: Store) -> None:
    one = delivery(object_key="locations|NL|HUB|LOC1", created=T0)
    two = delivery(object_key="locations|NL|HUB|LOC2", created=T0 + timedelta(seconds=1))
    one_again = delivery(object_key="Locations|nl|hub|loc1", created=T0 + timedelta(seconds=2))
    other_receiver = delivery("p-two", object_key="locations|NL|HUB|LOC1")
    unrelated = delivery(object_key="locations|NL|HUB|LOC3")
    await store.outbox.add([one, two, one_again, other_receiver, unrelated])

    found = await store.outbox.for_objects("p-one", ["LOCATIONS|NL|HUB|LOC1", "locations|NL|HUB|LOC2"])
    assert [d.id for d in found] == [one.id, two.id, one_again.id]
    assert found == [d.model_copy(update={"body": None}) for d in (one, two, one_again)]


async def test_due_lists_pending_deliveries_whose_time_has_come_oldest_first(store: Store) -> None:
    newest = delivery(created=T0 + timedelta(minutes=2), due=T0)
    oldest = delivery(created=T0, due=T0 + timedelta(seconds=30))
    middle = delivery(created=T0 + timedelta(minutes=1), due=T0 - timedelta(hours=1))
    later = delivery(created=T0 - timedelta(hours=1), due=T0 + timedelta(seconds=31))
    unscheduled = delivery(created=T0 - timedelta(hours=2), due=None)
    finished = [
        delivery(created=T0 - timedelta(hours=3), due=T0, state=state)
        for state in (DeliveryState.DELIVERED, DeliveryState.DEAD, DeliveryState.SUPERSEDED)
    ]
    await store.outbox.add([newest, oldest, middle, later, unscheduled, *finished])

    now = T0 + timedelta(seconds=30)
    assert [d.id for d in await store.outbox.due(now, limit=10)] == [oldest.id, middle.id, newest.id]
    assert [d.id for d in await store.outbox.due(now, limit=2)] == [oldest.id, middle.id]
    assert await store.outbox.due(now, limit=0) == []
    # The boundary is exact to the microsecond.
    assert [d.id for d in await store.outbox.due(T0 - timedelta(microseconds=1), limit=10)] == [middle.id]
    assert [d.id for d in await store.outbox.due(T0, limit=10)] == [middle.id, newest.id]


async def test_due_compares_moments_whatever_the_time_zone(store: Store) -> None:
    amsterdam = timezone(timedelta(hours=1))
    scheduled = delivery(due=T0.astimezone(amsterdam))
    await store.outbox.add([scheduled])
    assert await store.outbox.due(T0 - timedelta(seconds=1), limit=10) == []
    assert [d.id for d in await store.outbox.due(T0.astimezone(amsterdam), limit=10)] == [scheduled.id]


async def test_a_batch_created_in_one_instant_comes_out_in_the_order_it_was_added(store: Store) -> None:
    batch = [delivery() for _ in range(5)]
    await store.outbox.add(batch)
    assert [d.id for d in await store.outbox.due(T0, limit=10)] == [d.id for d in batch]
    assert [d.id for d in await store.outbox.by_state(DeliveryState.PENDING, limit=10)] == [
        d.id for d in batch
    ]


async def test_for_target_lists_one_receivers_deliveries_in_the_given_states(store: Store) -> None:
    pending = delivery("p-one", created=T0 + timedelta(seconds=2))
    dead = delivery("p-one", created=T0 + timedelta(seconds=1), state=DeliveryState.DEAD)
    delivered = delivery("p-one", created=T0, state=DeliveryState.DELIVERED)
    elsewhere = delivery("p-two", created=T0)
    await store.outbox.add([pending, dead, delivered, elsewhere])

    both = await store.outbox.for_target(
        "p-one", states=[DeliveryState.PENDING, DeliveryState.DEAD], limit=10
    )
    assert [d.id for d in both] == [dead.id, pending.id]
    assert [
        d.id for d in await store.outbox.for_target("p-one", states=[DeliveryState.PENDING], limit=10)
    ] == [pending.id]
    everything = list(DeliveryState)
    assert [d.id for d in await store.outbox.for_target("p-one", states=everything, limit=2)] == [
        delivered.id,
        dead.id,
    ]
    assert await store.outbox.for_target("p-one", states=[], limit=10) == []
    assert await store.outbox.for_target("p-none", states=everything, limit=10) == []


async def test_for_object_lists_every_delivery_of_one_object_to_one_receiver(store: Store) -> None:
    key = "hubclientinfo|NL|TNM|CPO"
    old = delivery("p-one", created=T0, object_key=key, state=DeliveryState.DELIVERED)
    new = delivery("p-one", created=T0 + timedelta(seconds=1), object_key=key)
    other_receiver = delivery("p-two", created=T0, object_key=key)
    other_object = delivery("p-one", created=T0, object_key="hubclientinfo|NL|TNM|EMSP")
    keyless = delivery("p-one", created=T0)
    await store.outbox.add([new, other_receiver, other_object, keyless, old])

    assert [d.id for d in await store.outbox.for_object("p-one", key)] == [old.id, new.id]
    # Object keys are made of CiStrings.
    assert [d.id for d in await store.outbox.for_object("p-one", key.lower())] == [old.id, new.id]
    stored = await store.outbox.get(new.id)
    assert stored is not None and stored.object_key == key
    assert await store.outbox.for_object("p-three", key) == []


async def test_by_state_pages_with_offset_and_limit_oldest_first(store: Store) -> None:
    dead = [
        delivery(created=T0 + timedelta(seconds=i), state=DeliveryState.DEAD, reason=f"r{i}")
        for i in range(7)
    ]
    await store.outbox.add([*reversed(dead), delivery(created=T0)])

    pages = [
        [d.id for d in await store.outbox.by_state(DeliveryState.DEAD, limit=3, offset=offset)]
        for offset in (0, 3, 6, 9)
    ]
    expected = [d.id for d in dead]
    assert pages == [expected[0:3], expected[3:6], expected[6:7], []]
    assert [d.id for d in await store.outbox.by_state(DeliveryState.DEAD, limit=100)] == expected
    assert await store.outbox.by_state(DeliveryState.SUPERSEDED, limit=10) == []


async def test_two_connections_to_one_sqlite_file_see_each_others_deliveries(tmp_path: Path) -> None:
    """The CLI and a running hub share the file, not memory."""
    first = await SqliteStore.open(tmp_path / "hub.sqlite3")
    second = await SqliteStore.open(tmp_path / "hub.sqlite3")
    try:
        original = delivery()
        await first.outbox.add([original])
        assert await second.outbox.get(original.id) == original
        await second.outbox.update(original)
        with pytest.raises(StaleWrite):
            await first.outbox.update(original)
    finally:
        await first.close()
        await second.close()


async def test_purge_deletes_only_the_asked_finished_states(store: Store) -> None:
    kept = [
        delivery(state=DeliveryState.PENDING),
        delivery(state=DeliveryState.DELIVERED, target="p-two"),
    ]
    dead = [delivery(state=DeliveryState.DEAD, created=T0 + timedelta(seconds=i)) for i in range(3)]
    superseded = delivery(state=DeliveryState.SUPERSEDED)
    await store.outbox.add([*kept, *dead, superseded])

    assert await store.outbox.purge([DeliveryState.DEAD, DeliveryState.SUPERSEDED], before=None) == 4
    for gone in [*dead, superseded]:
        assert await store.outbox.get(gone.id) is None
    for stays in kept:
        assert await store.outbox.get(stays.id) == stays
    assert await store.outbox.purge([DeliveryState.DEAD], before=None) == 0


async def test_purge_before_a_moment_keeps_what_was_created_since(store: Store) -> None:
    old = delivery(state=DeliveryState.DELIVERED, created=T0 - timedelta(microseconds=1))
    at_the_moment = delivery(state=DeliveryState.DELIVERED, created=T0)
    newer = delivery(state=DeliveryState.DELIVERED, created=T0 + timedelta(days=1))
    await store.outbox.add([old, at_the_moment, newer])

    # The moment is compared as a moment, whatever its time zone.
    cutoff = T0.astimezone(timezone(timedelta(hours=2)))
    assert await store.outbox.purge([DeliveryState.DELIVERED], before=cutoff) == 1
    assert await store.outbox.get(old.id) is None
    assert [d.id for d in await store.outbox.by_state(DeliveryState.DELIVERED, limit=10)] == [
        at_the_moment.id,
        newer.id,
    ]


async def test_purge_refuses_pending_deliveries_and_deletes_nothing(store: Store) -> None:
    pending, dead = delivery(), delivery(state=DeliveryState.DEAD)
    await store.outbox.add([pending, dead])
    with pytest.raises(ValueError, match="PENDING"):
        await store.outbox.purge([DeliveryState.DEAD, DeliveryState.PENDING], before=None)
    assert await store.outbox.get(pending.id) == pending
    assert await store.outbox.get(dead.id) == dead
    assert await store.outbox.purge([], before=None) == 0
    assert await store.outbox.get(dead.id) == dead


async def test_purge_deletes_more_than_one_batch(store: Store) -> None:
    from hub.store import sqlite_outbox

    many = [
        delivery(state=DeliveryState.DELIVERED, created=T0 + timedelta(microseconds=i))
        for i in range(2 * sqlite_outbox.PURGE_CHUNK + 7)
    ]
    await store.outbox.add(many)
    await store.outbox.add([pending := delivery()])
    assert await store.outbox.purge([DeliveryState.DELIVERED], before=None) == len(many)
    assert await store.outbox.by_state(DeliveryState.DELIVERED, limit=10) == []
    assert await store.outbox.get(pending.id) == pending


async def test_a_file_from_before_bodies_had_their_own_table_keeps_every_body(tmp_path: Path) -> None:
    """Opening an older file moves the bodies out of the documents; nothing owed is lost."""
    import sqlite3

    from hub.store import sqlite_outbox

    path = tmp_path / "hub.sqlite3"
    with_body = delivery(body='{"id": "LOC1", "name": "caf\\u00e9 ☕"}', object_key="locations|NL|HUB|LOC1")
    without_body = delivery(body=None, method="DELETE")

    def write_old_file() -> None:
        with sqlite3.connect(path) as connection:
            connection.executescript(sqlite_outbox.SCHEMA)
            for old in (with_body, without_body):
                row = sqlite_outbox._columns(old)
                connection.execute(
                    "INSERT INTO outbox (id, state, next_attempt_at, target_platform_id, object_key, "
                    "created_at, revision, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (old.id, *row[:-1], old.model_dump_json()),  # the body inside the document, as before
                )

    await asyncio.to_thread(write_old_file)
    store = await SqliteStore.open(path)
    try:
        assert await store.outbox.get(with_body.id) == with_body
        assert await store.outbox.get(without_body.id) == without_body
        written = await store.outbox.update(with_body.model_copy(update={"state": DeliveryState.DELIVERED}))
        assert await store.outbox.get(with_body.id) == written
        assert written.body == with_body.body
    finally:
        await store.close()
    reopened = await SqliteStore.open(path)  # opening again migrates nothing twice
    try:
        assert (await reopened.outbox.get(with_body.id)) == written
    finally:
        await reopened.close()
