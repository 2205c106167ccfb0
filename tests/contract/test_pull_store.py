"""What any store does with pull checkpoints; runs on SQLite always, and on MongoDB when
``HUB_TEST_MONGODB_URL`` points at a server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from hub.pulls.records import PullCheckpoint
from hub.store import StaleWrite, Store

T0 = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def checkpoint(platform_id: str = "p-one", module: str = "locations", **fields: object) -> PullCheckpoint:
    values: dict[str, object] = {"platform_id": platform_id, "module": module}
    return PullCheckpoint.model_validate(values | fields)


async def test_a_saved_checkpoint_reads_back_equal_with_its_revision_bumped(store: Store) -> None:
    written = checkpoint(
        date_from=T0 - timedelta(minutes=5),
        started_at=T0,
        since=T0 - timedelta(days=1),
        next_url="https://cpo.example.com/ocpi/2.2.1/locations?offset=50&limit=50&date_from=2025-02-28T12%3A00%3A00Z",
        correlation_id="c-1",
        pages=1,
        objects=49,
        changed=3,
        invalid=1,
        deliveries=6,
        total=5000,
        party_limit=50,
        holder="h-1",
        running_until=T0 + timedelta(seconds=60),
        last_error="HTTP 503: caf\u00e9 ☕",
        last_error_at=T0,
    )
    stored = await store.pulls.save(written)
    assert stored == written.model_copy(update={"revision": 1})
    assert await store.pulls.get("p-one", "locations") == stored


async def test_an_unknown_pair_reads_back_as_none(store: Store) -> None:
    await store.pulls.save(checkpoint())
    assert await store.pulls.get("p-one", "tariffs") is None
    assert await store.pulls.get("p-two", "locations") is None


async def test_a_second_first_checkpoint_for_a_pair_is_refused(store: Store) -> None:
    await store.pulls.save(checkpoint(holder="first"))
    with pytest.raises(StaleWrite):
        await store.pulls.save(checkpoint(holder="second"))
    stored = await store.pulls.get("p-one", "locations")
    assert stored is not None
    assert stored.holder == "first"


async def test_a_replace_from_a_stale_revision_is_refused(store: Store) -> None:
    first = await store.pulls.save(checkpoint())
    mine = await store.pulls.save(first.model_copy(update={"pages": 1}))
    assert mine.revision == 2
    with pytest.raises(StaleWrite):
        await store.pulls.save(first.model_copy(update={"pages": 7}))
    assert await store.pulls.get("p-one", "locations") == mine


async def test_of_two_runs_claiming_the_same_revision_exactly_one_wins(store: Store) -> None:
    base = await store.pulls.save(checkpoint())

    async def claim(holder: str) -> str | None:
        try:
            await store.pulls.save(base.model_copy(update={"holder": holder}))
        except StaleWrite:
            return None
        return holder

    winners = [w for w in await asyncio.gather(*(claim(f"h-{i}") for i in range(5))) if w is not None]
    assert len(winners) == 1
    stored = await store.pulls.get("p-one", "locations")
    assert stored is not None
    assert stored.holder == winners[0]


async def test_all_lists_every_checkpoint_by_platform_and_module(store: Store) -> None:
    for platform_id, module in [("p-b", "tokens"), ("p-a", "tariffs"), ("p-b", "cdrs"), ("p-a", "locations")]:
        await store.pulls.save(checkpoint(platform_id, module))
    listed = [(c.platform_id, c.module) for c in await store.pulls.all()]
    assert listed == [("p-a", "locations"), ("p-a", "tariffs"), ("p-b", "cdrs"), ("p-b", "tokens")]
