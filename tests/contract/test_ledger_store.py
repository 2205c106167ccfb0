"""What any store does with the evidence ledger; runs on SQLite always, and on MongoDB when
``HUB_TEST_MONGODB_URL`` points at a server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.signing.ledger import GENESIS_HASH, LedgerEntry, verify_chain
from hub.store import Store
from tests.contract.connections import adapters, two_connections

T0 = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture(params=adapters())
async def pair(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[Store, Store]]:
    async with two_connections(request.param, tmp_path) as stores:
        yield stores


async def fill(store: Store, count: int) -> list[LedgerEntry]:
    return [
        await store.ledger.append("CDR_ACCEPTED", f"NL*CPO*CDR-{n}", {"n": n}, T0 + timedelta(seconds=n))
        for n in range(count)
    ]


async def test_appended_entries_form_a_chain_from_the_genesis_hash(store: Store) -> None:
    first, second = await fill(store, 2)
    assert (first.seq, first.prev_hash) == (1, GENESIS_HASH)
    assert (second.seq, second.prev_hash) == (2, first.hash)
    assert verify_chain(await store.ledger.entries()).intact


async def test_an_entry_reads_back_exactly_as_it_was_hashed(store: Store) -> None:
    data = {
        "cdr": {"id": "CDR-1", "total_cost": {"excl_vat": 12.5, "incl_vat": 15.125}, "energy": 20},
        "name": "caf\u00e9 \u2615",
        "parties": ["DE*MSP", "FR*EMP"],
        "nothing": None,
        "flag": True,
    }
    appended = await store.ledger.append("DELIVERY_OUTCOME", "NL*CPO*CDR-1", data, T0)
    assert appended.at == T0
    assert appended.data == data
    assert await store.ledger.get(1) == appended
    assert await store.ledger.entries() == [appended]


async def test_an_unknown_seq_reads_back_as_none(store: Store) -> None:
    await fill(store, 1)
    assert await store.ledger.get(2) is None
    assert await store.ledger.get(0) is None


async def test_entries_are_walked_in_pages_in_seq_order(store: Store) -> None:
    appended = await fill(store, 7)
    walked: list[LedgerEntry] = []
    after = 0
    while page := await store.ledger.entries(after_seq=after, limit=3):
        walked.extend(page)
        after = page[-1].seq
    assert walked == appended
    assert await store.ledger.entries(after_seq=5, limit=10) == appended[5:]
    assert await store.ledger.entries(after_seq=7) == []


async def test_concurrent_appenders_on_two_connections_keep_one_unbroken_chain(
    pair: tuple[Store, Store],
) -> None:
    one, other = pair

    async def appender(store: Store, name: str) -> list[LedgerEntry]:
        return [await store.ledger.append("TEST", f"{name}-{n}", {"n": n}, T0) for n in range(40)]

    results = await asyncio.gather(
        appender(one, "a"), appender(other, "b"), appender(one, "c"), appender(other, "d")
    )
    entries = await one.ledger.entries(limit=1000)
    assert [entry.seq for entry in entries] == list(range(1, 161))
    assert sorted(entries, key=lambda e: e.seq) == sorted(
        (e for result in results for e in result), key=lambda e: e.seq
    )
    # How the turns fall is up to the database (SQLite may let one connection run ahead while the
    # other waits for the write lock); what counts is that every append landed on one chain.
    result = verify_chain(entries)
    assert result.intact, result.reason
