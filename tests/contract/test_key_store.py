"""What any store does with signing keys; runs on SQLite always, and on MongoDB when
``HUB_TEST_MONGODB_URL`` points at a server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.secrets import TokenCipher, generate_key
from hub.signing.keys import SigningKey, generate, unseal
from hub.signing.signer import Signer
from hub.store import Conflict, Store
from tests.contract.connections import adapters, two_connections

T0 = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
CIPHER = TokenCipher(generate_key())


def new_key(days: int = 0) -> SigningKey:
    return generate(now=T0 + timedelta(days=days), cipher=CIPHER)


@pytest.fixture(params=adapters())
async def pair(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[Store, Store]]:
    async with two_connections(request.param, tmp_path) as stores:
        yield stores


async def test_an_empty_store_has_no_current_key(store: Store) -> None:
    assert await store.keys.current() is None
    assert await store.keys.all() == []


async def test_a_stored_key_reads_back_equal_and_still_unseals(store: Store) -> None:
    key = new_key()
    stored = await store.keys.add(key)
    assert stored == key.model_copy(update={"generation": 1})
    assert await store.keys.current() == stored
    assert unseal(stored, CIPHER).thumbprint() == key.kid


async def test_an_added_key_becomes_current_and_the_older_ones_stay(store: Store) -> None:
    first = await store.keys.add(new_key())
    second = await store.keys.add(new_key(days=90))
    third = await store.keys.add(new_key(days=180))
    assert [k.generation for k in (first, second, third)] == [1, 2, 3]
    assert await store.keys.current() == third
    assert await store.keys.all() == [first, second, third]


async def test_the_first_key_is_stored_only_once(store: Store) -> None:
    first = await store.keys.add_first(new_key())
    again = await store.keys.add_first(new_key())
    assert again == first
    assert first.generation == 1
    assert await store.keys.all() == [first]


async def test_the_same_key_is_not_stored_twice(store: Store) -> None:
    key = new_key()
    await store.keys.add(key)
    with pytest.raises(Conflict):
        await store.keys.add(key)
    assert len(await store.keys.all()) == 1


async def test_processes_starting_together_make_one_first_key(pair: tuple[Store, Store]) -> None:
    one, other = pair
    made = await asyncio.gather(
        *(store.keys.add_first(new_key()) for store in (one, other) for _ in range(5))
    )
    assert len({key.kid for key in made}) == 1
    assert len(await one.keys.all()) == 1


async def test_signers_starting_together_sign_with_one_key(pair: tuple[Store, Store]) -> None:
    one, other = pair
    signers = [Signer(store.keys, CIPHER) for store in (one, other, one, other)]
    current = await asyncio.gather(*(signer.current() for signer in signers))
    assert len({key.kid for key in current}) == 1
    assert [key.kid for key in await other.keys.all()] == [current[0].kid]


async def test_rotations_at_once_all_land_and_the_newest_generation_is_current(
    pair: tuple[Store, Store],
) -> None:
    one, other = pair
    added = await asyncio.gather(*(store.keys.add(new_key()) for store in (one, other) for _ in range(4)))
    assert sorted(key.generation for key in added) == list(range(1, 9))
    newest = max(added, key=lambda key: key.generation)
    assert await one.keys.current() == newest
    assert [key.generation for key in await other.keys.all()] == list(range(1, 9))
