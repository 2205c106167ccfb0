"""What any store does with cleared CDRs; runs on SQLite always, and on MongoDB when
``HUB_TEST_MONGODB_URL`` points at a server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from hub.clearing.records import ClearedCdr, ClearingState, Evidence, cdr_key, digest
from hub.outbox.records import Delivery
from hub.store import Conflict, StaleWrite, Store

T0 = datetime(2025, 3, 1, 12, 0, 0, 250000, tzinfo=UTC)


def record(cdr_id: str = "CDR1", *, ended: datetime = T0, delivery_id: str | None = "d-1") -> ClearedCdr:
    document = '{"id":"' + cdr_id + '"}'
    return ClearedCdr(
        key=cdr_key("nl", "tnm", cdr_id),
        country_code="nl",
        party_id="tnm",
        cdr_id=cdr_id,
        sender_platform_id="p-cpo",
        receiver_country_code="DE",
        receiver_party_id="MSP",
        receiver_platform_id="p-msp",
        received_at=T0,
        document=document,
        sha256=digest(document),
        signature="e30..c2ln",
        kid="kid-1",
        verdict={"status": "ok", "findings": []},
        delivery_id=delivery_id,
        end_date_time=ended,
    )


async def test_a_cleared_cdr_reads_back_equal_by_key_in_any_case_and_by_delivery(store: Store) -> None:
    stored = await store.clearing.add(record())
    assert stored.revision == 1
    assert await store.clearing.get("NL*TNM*CDR1") == stored
    assert await store.clearing.get("nl*tnm*cdr1") == stored
    assert await store.clearing.by_delivery("d-1") == stored
    assert await store.clearing.get("NL*TNM*CDR2") is None
    assert await store.clearing.by_delivery("d-2") is None


async def test_a_key_is_accepted_once_even_when_two_writers_race(store: Store) -> None:
    results = await asyncio.gather(
        store.clearing.add(record()), store.clearing.add(record()), return_exceptions=True
    )
    assert sorted(type(r).__name__ for r in results) == ["ClearedCdr", "Conflict"]
    with pytest.raises(Conflict):
        await store.clearing.add(record())


async def test_an_update_is_a_compare_and_set(store: Store) -> None:
    stored = await store.clearing.add(record())
    delivered = await store.clearing.update(stored.model_copy(update={"state": ClearingState.DELIVERED}))
    assert delivered.revision == 2
    assert await store.clearing.get(stored.key) == delivered
    with pytest.raises(StaleWrite):
        await store.clearing.update(stored.model_copy(update={"state": ClearingState.DEAD}))


async def test_ended_between_cuts_by_the_end_of_charging_from_inclusive_to_exclusive(store: Store) -> None:
    for number, offset in enumerate([-1, 0, 30, 59, 60, 61]):
        await store.clearing.add(record(f"C{number}", ended=T0 + timedelta(minutes=offset), delivery_id=None))
    found = await store.clearing.ended_between(T0, T0 + timedelta(minutes=60))
    assert [r.cdr_id for r in found] == ["C1", "C2", "C3"]


async def test_accept_stores_the_record_its_delivery_and_its_ledger_entry_once(store: Store) -> None:
    delivery = Delivery(
        id="d-1", target_platform_id="p-msp", to_country_code="DE", to_party_id="MSP",
        from_country_code="NL", from_party_id="TNM", method="POST", url="http://127.0.0.1:9/cdrs",
        body='{"id":"CDR1"}', module="cdrs", object_key="cdrs|NL|TNM|CDR1",
    )  # fmt: skip
    evidence = Evidence(
        "CDR_ACCEPTED", T0, lambda stored: {"sha256": stored.sha256, "revision": stored.revision}
    )
    stored = await store.clearing.accept(record(), [delivery], evidence)
    assert await store.clearing.get(stored.key) == stored
    assert await store.outbox.get("d-1") == delivery
    [entry] = await store.ledger.entries()
    assert (entry.kind, entry.subject, entry.data) == (
        "CDR_ACCEPTED",
        "NL*TNM*CDR1",
        {"sha256": stored.sha256, "revision": 1},
    )

    again = delivery.model_copy(update={"id": "d-2"})
    with pytest.raises(Conflict):
        await store.clearing.accept(record(), [again], evidence)
    assert await store.outbox.get("d-2") is None
    assert len(await store.ledger.entries()) == 1
