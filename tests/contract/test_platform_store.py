"""What any store does with platforms; runs on SQLite always, and on MongoDB when
``HUB_TEST_MONGODB_URL`` points at a server."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from hub.ocpi.types import utc_now
from hub.ocpi.v2_2_1.common import Role
from hub.ocpi.v2_2_1.hubclientinfo import ConnectionStatus
from hub.platforms import IssuedToken, PartyRole, Platform, TokenKind
from hub.store import Conflict, StaleWrite, Store
from hub.store.sqlite import SqliteStore


def registered(name: str, *roles: tuple[str, str, str], tokens: tuple[str, ...] = ()) -> Platform:
    return Platform(
        name=name,
        registered=True,
        status=ConnectionStatus.CONNECTED,
        roles=[PartyRole(role=Role(r), country_code=cc, party_id=pid) for r, cc, pid in roles],
        tokens=[IssuedToken(digest=t, kind=TokenKind.CREDENTIALS) for t in tokens],
    )


async def test_a_stored_platform_reads_back_equal(store: Store) -> None:
    platform = registered("one", ("CPO", "NL", "TNM"), tokens=("digest-1",))
    platform.outgoing_token = "sealed"
    await store.platforms.add(platform)
    assert await store.platforms.get(platform.id) == platform


async def test_an_unknown_platform_reads_back_as_none(store: Store) -> None:
    assert await store.platforms.get("p-unknown") is None
    assert await store.platforms.by_token("nothing") is None
    assert await store.platforms.by_party("DE", "XXX") == []


async def test_a_platform_is_found_by_any_of_its_token_digests(store: Store) -> None:
    platform = registered("one", ("CPO", "NL", "TNM"), tokens=("digest-1", "digest-2"))
    await store.platforms.add(platform)
    for digest in ("digest-1", "digest-2"):
        found = await store.platforms.by_token(digest)
        assert found is not None and found.id == platform.id


async def test_parties_are_found_whatever_the_case(store: Store) -> None:
    platform = registered("one", ("CPO", "nl", "Tnm"), ("EMSP", "NL", "TNM"))
    await store.platforms.add(platform)
    for cc, pid in (("NL", "TNM"), ("nl", "tnm"), ("Nl", "tNm")):
        assert [p.id for p in await store.platforms.by_party(cc, pid)] == [platform.id]
    # The original spelling is kept.
    stored = await store.platforms.get(platform.id)
    assert stored is not None and stored.roles[0].country_code == "nl"


async def test_a_held_role_cannot_be_given_to_a_second_platform(store: Store) -> None:
    await store.platforms.add(registered("one", ("CPO", "NL", "TNM")))
    with pytest.raises(Conflict):
        await store.platforms.add(registered("two", ("CPO", "nl", "tnm")))
    # The same pair in another role is another party role.
    await store.platforms.add(registered("three", ("EMSP", "NL", "TNM")))


async def test_a_token_digest_cannot_be_given_to_two_platforms(store: Store) -> None:
    await store.platforms.add(registered("one", tokens=("digest-1",)))
    with pytest.raises(Conflict):
        await store.platforms.add(registered("two", tokens=("digest-1",)))


async def test_platforms_without_roles_or_tokens_do_not_collide(store: Store) -> None:
    for name in ("a", "b", "c"):
        await store.platforms.add(Platform(name=name))
    assert len(await store.platforms.all()) == 3


async def test_an_update_replaces_the_document_and_its_keys(store: Store) -> None:
    platform = registered("one", ("CPO", "NL", "TNM"), tokens=("old",))
    await store.platforms.add(platform)
    changed = platform.model_copy(deep=True)
    changed.tokens = [IssuedToken(digest="new", kind=TokenKind.CREDENTIALS)]
    changed.roles = [PartyRole(role=Role.EMSP, country_code="DE", party_id="MSP")]
    stored = await store.platforms.update(changed)
    assert stored.revision == platform.revision + 1
    assert await store.platforms.by_token("old") is None
    assert (await store.platforms.by_token("new")) == stored
    assert await store.platforms.by_party("NL", "TNM") == []
    # The released role can be taken by someone else now.
    await store.platforms.add(registered("two", ("CPO", "NL", "TNM")))


async def test_an_update_from_a_stale_read_is_refused(store: Store) -> None:
    platform = registered("one", ("CPO", "NL", "TNM"))
    await store.platforms.add(platform)
    first = platform.model_copy(update={"name": "first"})
    second = platform.model_copy(update={"name": "second"})
    await store.platforms.update(first)
    with pytest.raises(StaleWrite):
        await store.platforms.update(second)
    stored = await store.platforms.get(platform.id)
    assert stored is not None and stored.name == "first"


async def test_concurrent_updates_of_one_revision_let_exactly_one_win(store: Store) -> None:
    platform = registered("one", ("CPO", "NL", "TNM"))
    await store.platforms.add(platform)
    attempts = [platform.model_copy(update={"name": f"n{i}"}) for i in range(8)]
    results = await asyncio.gather(*(store.platforms.update(a) for a in attempts), return_exceptions=True)
    assert sum(1 for r in results if isinstance(r, Platform)) == 1
    assert all(isinstance(r, StaleWrite) for r in results if not isinstance(r, Platform))


async def test_an_update_that_would_take_a_held_role_is_a_conflict_and_changes_nothing(store: Store) -> None:
    await store.platforms.add(registered("one", ("CPO", "NL", "TNM")))
    other = registered("two", ("CPO", "DE", "ABC"), tokens=("two-token",))
    await store.platforms.add(other)
    grabbing = other.model_copy(deep=True)
    grabbing.roles.append(PartyRole(role=Role.CPO, country_code="NL", party_id="TNM"))
    with pytest.raises(Conflict):
        await store.platforms.update(grabbing)
    assert await store.platforms.get(other.id) == other
    assert (await store.platforms.by_token("two-token")) == other


async def test_an_unregistered_platform_keeps_its_roles_but_does_not_hold_them(store: Store) -> None:
    platform = registered("one", ("CPO", "NL", "TNM"))
    platform.registered = False
    await store.platforms.add(platform)
    await store.platforms.add(registered("two", ("CPO", "NL", "TNM")))
    assert {p.name for p in await store.platforms.by_party("NL", "TNM")} == {"one", "two"}


async def test_all_lists_platforms_oldest_first(store: Store) -> None:
    start = utc_now()
    names = ["c", "a", "b"]
    for offset, name in enumerate(names):
        await store.platforms.add(Platform(name=name, created_at=start + timedelta(seconds=offset)))
    assert [p.name for p in await store.platforms.all()] == names


async def test_a_removed_platform_is_gone_with_its_keys(store: Store) -> None:
    platform = registered("one", ("CPO", "NL", "TNM"), tokens=("digest-1",))
    await store.platforms.add(platform)
    assert await store.platforms.remove(platform.id) is True
    assert await store.platforms.remove(platform.id) is False
    assert await store.platforms.get(platform.id) is None
    assert await store.platforms.by_token("digest-1") is None
    await store.platforms.add(registered("two", ("CPO", "NL", "TNM"), tokens=("digest-1",)))


async def test_two_connections_to_one_sqlite_file_see_each_others_writes(tmp_path: Path) -> None:
    """The CLI and a running hub share the file, not memory."""
    first = await SqliteStore.open(tmp_path / "hub.sqlite3")
    second = await SqliteStore.open(tmp_path / "hub.sqlite3")
    try:
        platform = registered("one", ("CPO", "NL", "TNM"), tokens=("digest-1",))
        await first.platforms.add(platform)
        assert await second.platforms.by_token("digest-1") == platform
        await second.platforms.update(platform)
        with pytest.raises(StaleWrite):
            await first.platforms.update(platform)
    finally:
        await first.close()
        await second.close()
