"""What any store does with mirrored OCPI objects; runs on SQLite always, and on MongoDB when
``HUB_TEST_MONGODB_URL`` points at a server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.mirror.records import MirroredModule, MirrorRecord, storage_key
from hub.store import StaleWrite, Store

T0 = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)


def location(
    object_id: str,
    *,
    cc: str = "NL",
    pid: str = "TNM",
    last_updated: datetime = T0,
    audience: list[str] | None = None,
) -> MirrorRecord:
    return MirrorRecord(
        module=MirroredModule.LOCATIONS,
        country_code=cc,
        party_id=pid,
        object_id=object_id,
        document={
            "country_code": cc,
            "party_id": pid,
            "id": object_id,
            "publish": audience is None,
            "name": "Café Oudegracht",  # not ASCII: kept as is
            "coordinates": {"latitude": "52.090737", "longitude": "5.121420"},
            "power": 22.5,
            "vendor_extension": {"nested": [1, None, True]},
            "last_updated": last_updated.isoformat(),
        },
        last_updated=last_updated,
        audience=audience,
    )


def token(uid: str, token_type: str | None, *, cc: str = "DE", pid: str = "MSP") -> MirrorRecord:
    return MirrorRecord(
        module=MirroredModule.TOKENS,
        country_code=cc,
        party_id=pid,
        object_id=uid,
        token_type=token_type,
        document={"uid": uid, "type": token_type or "RFID", "country_code": cc, "party_id": pid},
        last_updated=T0,
    )


async def saved(store: Store, *records: MirrorRecord) -> list[MirrorRecord]:
    return [await store.mirror.save(record) for record in records]


async def ids(
    store: Store,
    module: str = MirroredModule.LOCATIONS,
    *,
    viewer_keys: Sequence[str] | None = None,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    after_seq: int | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[str], int]:
    records, total = await store.mirror.page(
        module,
        viewer_keys=viewer_keys,
        date_from=date_from,
        date_to=date_to,
        after_seq=after_seq,
        offset=offset,
        limit=limit,
    )
    return [record.object_id for record in records], total


# Reading back


async def test_a_saved_record_reads_back_equal_to_what_save_returned(store: Store) -> None:
    (stored,) = await saved(store, location("LOC1", audience=["NL*TNM", "DE*MSP"]))
    assert stored.version == 1 and stored.seq > 0 and stored.stored_at is not None
    assert await store.mirror.get("locations", "NL", "TNM", "LOC1") == stored


async def test_the_document_and_last_updated_come_back_exactly(store: Store) -> None:
    fine = datetime(2024, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    record = location("LOC1", last_updated=fine)
    await store.mirror.save(record)
    found = await store.mirror.get("locations", "NL", "TNM", "LOC1")
    assert found is not None
    assert found.document == record.document
    assert found.last_updated == fine
    assert found.audience is None


async def test_an_unknown_key_reads_back_as_none(store: Store) -> None:
    assert await store.mirror.get("locations", "NL", "TNM", "NOPE") is None
    assert await store.mirror.find("locations", "NOPE") == []


@pytest.mark.parametrize(
    ("cc", "pid", "object_id"), [("NL", "TNM", "LOC1"), ("nl", "tnm", "loc1"), ("Nl", "tNm", "Loc1")]
)
async def test_get_ignores_case_and_keeps_the_pushed_spelling(
    store: Store, cc: str, pid: str, object_id: str
) -> None:
    await store.mirror.save(location("Loc1", cc="nl", pid="Tnm"))
    found = await store.mirror.get("locations", cc, pid, object_id)
    assert found is not None
    assert (found.country_code, found.party_id, found.object_id) == ("nl", "Tnm", "Loc1")


async def test_held_names_the_keys_that_have_a_record_whatever_their_case(store: Store) -> None:
    await saved(store, location("Loc1", cc="nl", pid="Tnm"), token("0102", "APP_USER"))
    wanted = [
        storage_key("locations", "NL", "TNM", "LOC1"),
        storage_key("locations", "nl", "tnm", "loc2"),
        storage_key("tokens", "de", "msp", "0102", "app_user"),
        storage_key("tokens", "DE", "MSP", "0102"),  # RFID: another token
    ]
    assert await store.mirror.held(wanted) == {wanted[0], wanted[2]}
    assert await store.mirror.held([]) == set()


async def test_find_returns_every_owners_record_with_that_id_oldest_first(store: Store) -> None:
    await saved(
        store,
        location("loc1", cc="DE", pid="ABC"),
        location("LOC2"),
        location("Loc1", cc="NL", pid="TNM"),
        token("LOC1", None),
    )
    found = await store.mirror.find("locations", "LOC1")
    assert [(r.country_code, r.object_id) for r in found] == [("DE", "loc1"), ("NL", "Loc1")]


async def test_the_same_id_in_another_module_is_another_record(store: Store) -> None:
    await store.mirror.save(location("X1"))
    tariff = location("X1").model_copy(update={"module": MirroredModule.TARIFFS})
    await store.mirror.save(tariff)
    assert [r.module for r in await store.mirror.find("tariffs", "x1")] == [MirroredModule.TARIFFS]


# Tokens: keyed by uid and type


async def test_tokens_are_keyed_by_type_and_rfid_is_the_default(store: Store) -> None:
    await saved(store, token("0102", None), token("0102", "APP_USER"))
    rfid = await store.mirror.get("tokens", "de", "msp", "0102")
    app = await store.mirror.get("tokens", "DE", "MSP", "0102", "app_user")
    assert rfid is not None and rfid.document["type"] == "RFID"
    assert app is not None and app.document["type"] == "APP_USER"
    assert await store.mirror.get("tokens", "DE", "MSP", "0102", "RFID") == rfid
    assert await store.mirror.get("tokens", "DE", "MSP", "0102", "OTHER") is None
    assert len(await store.mirror.find("tokens", "0102")) == 2


async def test_a_token_saved_with_an_explicit_rfid_type_is_the_default_token(store: Store) -> None:
    await store.mirror.save(token("0102", "RFID"))
    with pytest.raises(StaleWrite):
        await store.mirror.save(token("0102", None))
    assert await store.mirror.get("tokens", "DE", "MSP", "0102") is not None


# Versions


async def test_inserting_a_key_that_exists_is_a_stale_write(store: Store) -> None:
    await store.mirror.save(location("LOC1"))
    with pytest.raises(StaleWrite):
        await store.mirror.save(location("loc1", cc="nl", pid="tnm"))


async def test_a_replace_bumps_the_version_and_keeps_seq(store: Store) -> None:
    first, other = await saved(store, location("LOC1"), location("LOC2"))
    changed = first.model_copy(update={"document": {"id": "LOC1", "name": "new"}, "seq": 0})
    second = await store.mirror.save(changed)
    assert (second.seq, second.version) == (first.seq, 2)
    third = await store.mirror.save(second.model_copy(update={"last_updated": T0 + timedelta(hours=1)}))
    assert (third.seq, third.version) == (first.seq, 3)
    assert await store.mirror.get("locations", "NL", "TNM", "LOC1") == third
    # Still first in creation order.
    assert await ids(store) == (["LOC1", "LOC2"], 2)
    assert other.seq > first.seq


async def test_a_replace_keeps_the_spelling_of_its_own_push(store: Store) -> None:
    (first,) = await saved(store, location("LOC1"))
    respelled = first.model_copy(update={"country_code": "nl", "party_id": "Tnm", "object_id": "loc1"})
    stored = await store.mirror.save(respelled)
    assert await store.mirror.get("locations", "NL", "TNM", "LOC1") == stored
    assert (stored.country_code, stored.party_id, stored.object_id) == ("nl", "Tnm", "loc1")


async def test_a_replace_with_a_stale_version_is_refused_and_changes_nothing(store: Store) -> None:
    (first,) = await saved(store, location("LOC1"))
    winner = await store.mirror.save(first.model_copy(update={"document": {"v": "winner"}}))
    with pytest.raises(StaleWrite):
        await store.mirror.save(first.model_copy(update={"document": {"v": "loser"}}))
    assert await store.mirror.get("locations", "NL", "TNM", "LOC1") == winner


async def test_a_replace_of_a_deleted_record_is_a_stale_write(store: Store) -> None:
    (first,) = await saved(store, location("LOC1"))
    assert await store.mirror.delete("locations", "NL", "TNM", "LOC1")
    with pytest.raises(StaleWrite):
        await store.mirror.save(first)


async def test_concurrent_saves_of_one_version_let_exactly_one_win(store: Store) -> None:
    (first,) = await saved(store, location("LOC1"))
    attempts = [first.model_copy(update={"document": {"n": n}}) for n in range(8)]
    results = await asyncio.gather(*(store.mirror.save(a) for a in attempts), return_exceptions=True)
    winners = [r for r in results if isinstance(r, MirrorRecord)]
    assert len(winners) == 1
    assert all(isinstance(r, StaleWrite) for r in results if not isinstance(r, MirrorRecord))
    assert await store.mirror.get("locations", "NL", "TNM", "LOC1") == winners[0]


async def test_concurrent_inserts_of_one_key_let_exactly_one_win(store: Store) -> None:
    results = await asyncio.gather(
        *(store.mirror.save(location("LOC1")) for _ in range(8)), return_exceptions=True
    )
    assert sum(1 for r in results if isinstance(r, MirrorRecord)) == 1
    assert all(isinstance(r, StaleWrite) for r in results if not isinstance(r, MirrorRecord))


# Pages


async def test_pages_follow_creation_order_not_ids_or_timestamps(store: Store) -> None:
    await saved(
        store,
        location("C", last_updated=T0 + timedelta(hours=2)),
        location("A", last_updated=T0),
        location("B", last_updated=T0 + timedelta(hours=1)),
    )
    assert await ids(store) == (["C", "A", "B"], 3)


async def test_a_page_counts_every_match_and_honours_offset_and_limit(store: Store) -> None:
    await saved(store, *(location(f"LOC{n}") for n in range(7)))
    await store.mirror.save(token("0102", None))
    assert await ids(store, offset=0, limit=3) == (["LOC0", "LOC1", "LOC2"], 7)
    assert await ids(store, offset=3, limit=3) == (["LOC3", "LOC4", "LOC5"], 7)
    assert await ids(store, offset=6, limit=3) == (["LOC6"], 7)
    assert await ids(store, offset=7, limit=3) == ([], 7)
    assert await ids(store, offset=0, limit=0) == ([], 7)
    assert await ids(store, "tokens") == (["0102"], 1)
    assert await ids(store, "cdrs") == ([], 0)


async def test_after_seq_starts_after_that_record_and_the_total_ignores_it(store: Store) -> None:
    records = await saved(store, *(location(f"LOC{n}") for n in range(5)))
    assert await ids(store, after_seq=records[1].seq, limit=2) == (["LOC2", "LOC3"], 5)
    assert await ids(store, after_seq=records[1].seq, offset=1, limit=2) == (["LOC3", "LOC4"], 5)
    assert await ids(store, after_seq=records[4].seq) == ([], 5)


async def test_a_deleted_records_seq_is_not_given_again(store: Store) -> None:
    first, last = await saved(store, location("LOC1"), location("LOC2"))
    await store.mirror.delete("locations", "NL", "TNM", "LOC2")
    (again,) = await saved(store, location("LOC2"))
    assert again.seq > last.seq > first.seq


async def test_date_from_is_inclusive_and_date_to_exclusive(store: Store) -> None:
    hour = timedelta(hours=1)
    await saved(store, *(location(f"LOC{n}", last_updated=T0 + n * hour) for n in range(4)))
    assert await ids(store, date_from=T0 + hour) == (["LOC1", "LOC2", "LOC3"], 3)
    assert await ids(store, date_to=T0 + 2 * hour) == (["LOC0", "LOC1"], 2)
    assert await ids(store, date_from=T0 + hour, date_to=T0 + 3 * hour) == (["LOC1", "LOC2"], 2)
    # Windows chain without overlap: next date_from = previous date_to.
    assert await ids(store, date_from=T0 + 3 * hour, date_to=T0 + 4 * hour) == (["LOC3"], 1)


async def test_date_filters_compare_instants_to_the_microsecond(store: Store) -> None:
    tick = timedelta(microseconds=1)
    await saved(store, location("LOC1", last_updated=T0))
    assert await ids(store, date_from=T0 + tick) == ([], 0)
    assert await ids(store, date_to=T0 + tick) == (["LOC1"], 1)
    in_another_zone = T0.astimezone(datetime.fromisoformat("2024-01-01T00:00:00+02:00").tzinfo)
    assert await ids(store, date_from=in_another_zone) == (["LOC1"], 1)


async def test_a_replace_moves_the_record_in_date_filters(store: Store) -> None:
    (first,) = await saved(store, location("LOC1"))
    await store.mirror.save(first.model_copy(update={"last_updated": T0 + timedelta(days=1)}))
    assert await ids(store, date_to=T0 + timedelta(hours=1)) == ([], 0)
    assert await ids(store, date_from=T0 + timedelta(hours=1)) == (["LOC1"], 1)


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"offset": 2, "limit": 2},
        {"viewer_keys": ["DE*MSP"]},
        {"viewer_keys": [], "date_from": T0 + timedelta(hours=1), "date_to": T0 + timedelta(hours=4)},
        {"offset": 9},
    ],
)
async def test_page_json_gives_the_documents_of_page_as_json_text(
    store: Store, filters: dict[str, Any]
) -> None:
    """The GET All shortcut: the same page, documents unparsed; the count can be left out."""
    hour = timedelta(hours=1)
    audiences: list[list[str] | None] = [None, ["DE*MSP"], [], None, ["FR*ABC"]]
    await saved(
        store, *(location(f"LOC{n}", last_updated=T0 + n * hour, audience=audiences[n]) for n in range(5))
    )
    arguments: dict[str, Any] = {
        "viewer_keys": None,
        "date_from": None,
        "date_to": None,
        "after_seq": None,
        "offset": 0,
        "limit": 100,
        **filters,
    }
    records, total = await store.mirror.page("locations", **arguments)
    rows, text_total = await store.mirror.page_json("locations", **arguments)
    assert text_total == total
    assert [(seq, json.loads(text)) for seq, text in rows] == [(r.seq, r.document) for r in records]
    uncounted, no_total = await store.mirror.page_json("locations", **arguments, with_total=False)
    assert (uncounted, no_total) == (rows, -1)


# Visibility


async def visibility_world(store: Store) -> None:
    await saved(
        store,
        location("PUBLIC1"),
        location("PRIVATE_A", audience=["NL*TNM", "DE*MSP"]),
        location("PRIVATE_B", audience=["nl*tnm", "fr*abc"]),
        location("NOBODY", audience=[]),
        location("PUBLIC2"),
    )


@pytest.mark.parametrize(
    ("viewer_keys", "expected"),
    [
        (None, ["PUBLIC1", "PRIVATE_A", "PRIVATE_B", "NOBODY", "PUBLIC2"]),
        ([], ["PUBLIC1", "PUBLIC2"]),
        (["BE*XXX"], ["PUBLIC1", "PUBLIC2"]),
        (["DE*MSP"], ["PUBLIC1", "PRIVATE_A", "PUBLIC2"]),
        (["de*msp"], ["PUBLIC1", "PRIVATE_A", "PUBLIC2"]),
        (["FR*ABC", "DE*MSP"], ["PUBLIC1", "PRIVATE_A", "PRIVATE_B", "PUBLIC2"]),
        (["NL*TNM"], ["PUBLIC1", "PRIVATE_A", "PRIVATE_B", "PUBLIC2"]),
    ],
)
async def test_records_with_an_audience_are_seen_only_by_its_parties(
    store: Store, viewer_keys: list[str] | None, expected: list[str]
) -> None:
    await visibility_world(store)
    assert await ids(store, viewer_keys=viewer_keys) == (expected, len(expected))


async def test_pages_and_totals_count_only_what_the_viewer_may_see(store: Store) -> None:
    await visibility_world(store)
    assert await ids(store, viewer_keys=["DE*MSP"], offset=1, limit=1) == (["PRIVATE_A"], 3)
    assert await ids(store, viewer_keys=["DE*MSP"], offset=3, limit=1) == ([], 3)


async def test_a_replace_can_change_the_audience(store: Store) -> None:
    (private,) = await saved(store, location("LOC1", audience=["DE*MSP"]))
    assert await ids(store, viewer_keys=["FR*ABC"]) == ([], 0)
    widened = await store.mirror.save(private.model_copy(update={"audience": ["FR*ABC"]}))
    assert await ids(store, viewer_keys=["FR*ABC"]) == (["LOC1"], 1)
    assert await ids(store, viewer_keys=["DE*MSP"]) == ([], 0)
    published = await store.mirror.save(widened.model_copy(update={"audience": None}))
    assert await ids(store, viewer_keys=["BE*XXX"]) == (["LOC1"], 1)
    assert await store.mirror.get("locations", "NL", "TNM", "LOC1") == published


# Delete


async def test_a_deleted_record_is_gone(store: Store) -> None:
    await saved(store, location("LOC1", audience=["DE*MSP"]), location("LOC2"))
    assert await store.mirror.delete("locations", "nl", "tnm", "loc1") is True
    assert await store.mirror.delete("locations", "NL", "TNM", "LOC1") is False
    assert await store.mirror.get("locations", "NL", "TNM", "LOC1") is None
    assert await store.mirror.find("locations", "LOC1") == []
    assert await ids(store, viewer_keys=["DE*MSP"]) == (["LOC2"], 1)
    # The key is free again: a new insert is a new record.
    (again,) = await saved(store, location("LOC1"))
    assert again.version == 1


async def test_deleting_a_token_needs_its_type(store: Store) -> None:
    await saved(store, token("0102", None), token("0102", "APP_USER"))
    assert await store.mirror.delete("tokens", "DE", "MSP", "0102", "APP_USER") is True
    assert await store.mirror.get("tokens", "DE", "MSP", "0102") is not None
