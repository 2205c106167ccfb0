"""The evidence chain: how entries are hashed and linked, and what verification finds."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.signing.ledger import GENESIS_HASH, LedgerEntry, entry_hash, next_entry, verify_chain
from tests.support.json_values import json_values

T0 = datetime(2025, 3, 1, 12, 0, 0, 250000, tzinfo=UTC)


def chain(length: int) -> list[LedgerEntry]:
    entries: list[LedgerEntry] = []
    for n in range(length):
        previous = entries[-1] if entries else None
        entries.append(
            next_entry(
                prev_seq=previous.seq if previous else 0,
                prev_hash=previous.hash if previous else GENESIS_HASH,
                kind="CDR_ACCEPTED" if n % 2 == 0 else "DELIVERY_OUTCOME",
                subject=f"NL*CPO*CDR-{n}",
                data={"n": n, "total": 12.5, "to": ["DE*MSP"]},
                at=T0 + timedelta(seconds=n),
            )
        )
    return entries


def tampered(entry: LedgerEntry, **fields: Any) -> LedgerEntry:
    return entry.model_copy(update=fields)


def test_the_first_entry_follows_the_genesis_hash() -> None:
    first = chain(1)[0]
    assert first.seq == 1
    assert first.prev_hash == "0" * 64


def test_an_entry_hash_is_sha256_over_the_canonical_json_of_its_fields() -> None:
    entry = next_entry(kind="CDR_ACCEPTED", subject="NL*CPO*CDR-1", data={"b": 1, "a": "x"}, at=T0)
    # Written out by hand: members sorted, no spaces, ``at`` in UTC to the microsecond.
    canonical = (
        '{"at":"2025-03-01T12:00:00.250000Z","data":{"a":"x","b":1},"kind":"CDR_ACCEPTED",'
        f'"prev_hash":"{"0" * 64}","seq":1,"subject":"NL*CPO*CDR-1"}}'
    )
    assert entry.hash == hashlib.sha256(canonical.encode()).hexdigest()


def test_each_entry_links_to_the_hash_of_the_one_before() -> None:
    entries = chain(3)
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[1].prev_hash == entries[0].hash
    assert entries[2].prev_hash == entries[1].hash


def test_data_is_kept_as_what_was_hashed() -> None:
    entry = next_entry(kind="K", subject="s", data={"t": (1, 2), "f": 2.0}, at=T0)
    assert entry.data == {"t": [1, 2], "f": 2}
    assert json.loads(json.dumps(entry.data)) == entry.data


def test_a_moment_without_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_entry(kind="K", subject="s", data={}, at=datetime(2025, 3, 1))  # noqa: DTZ001


def test_an_untouched_chain_is_intact() -> None:
    entries = chain(5)
    result = verify_chain(entries)
    assert result.intact
    assert result.checked == 5
    assert result.last == entries[-1]
    assert verify_chain([]).intact


def test_a_tampered_data_field_breaks_that_entry() -> None:
    entries = chain(5)
    entries[2] = tampered(entries[2], data={"n": 2, "total": 1.25, "to": ["DE*MSP"]})
    result = verify_chain(entries)
    assert not result.intact
    assert (result.broken_seq, result.checked) == (3, 2)
    assert result.reason is not None and result.reason.startswith("hash mismatch")


@pytest.mark.parametrize("field", ["kind", "subject"])
def test_any_tampered_field_breaks_that_entry(field: str) -> None:
    entries = chain(3)
    entries[1] = tampered(entries[1], **{field: "CHANGED"})
    assert verify_chain(entries).broken_seq == 2


def test_a_tampered_moment_breaks_that_entry() -> None:
    entries = chain(3)
    entries[1] = tampered(entries[1], at=entries[1].at + timedelta(microseconds=1))
    assert verify_chain(entries).broken_seq == 2


def test_a_tampered_hash_breaks_that_entry() -> None:
    entries = chain(4)
    entries[1] = tampered(entries[1], hash="f" * 64)
    result = verify_chain(entries)
    assert result.broken_seq == 2
    assert result.reason is not None and result.reason.startswith("hash mismatch")


def test_a_rewritten_entry_with_a_recomputed_hash_breaks_the_next_link() -> None:
    entries = chain(4)
    changed = {"n": 1, "total": 0, "to": []}
    forged_hash = entry_hash(
        seq=2, at=entries[1].at, kind=entries[1].kind, subject=entries[1].subject, data=changed,
        prev_hash=entries[1].prev_hash,
    )  # fmt: skip
    entries[1] = tampered(entries[1], data=changed, hash=forged_hash)
    result = verify_chain(entries)
    assert result.broken_seq == 3
    assert result.reason == "prev_hash mismatch: it is not the hash of entry 2"


def test_a_removed_entry_leaves_a_gap_named_at_the_entry_after_it() -> None:
    entries = chain(5)
    del entries[2]
    result = verify_chain(entries)
    assert result.broken_seq == 4
    assert result.reason == "seq gap: expected 3, found 4 (entry 3 is missing)"


def test_a_removed_first_entry_is_found() -> None:
    result = verify_chain(chain(3)[1:])
    assert (result.intact, result.broken_seq, result.checked) == (False, 2, 0)


def test_a_renumbered_chain_after_a_removal_still_breaks() -> None:
    """Closing the gap by renumbering changes the hashes the entries were sealed with."""
    entries = chain(4)
    del entries[1]
    entries[1:] = [tampered(e, seq=e.seq - 1) for e in entries[1:]]
    assert verify_chain(entries).broken_seq == 2


def test_a_chain_verifies_page_by_page_as_it_does_whole() -> None:
    entries = chain(7)
    entries[5] = tampered(entries[5], subject="CHANGED")
    previous = None
    checked = 0
    for start in range(0, 7, 3):
        result = verify_chain(entries[start : start + 3], previous=previous)
        checked += result.checked
        if not result.intact:
            break
        previous = result.last
    assert (result.broken_seq, checked) == (6, 5)
    assert verify_chain(entries).broken_seq == 6


_values = json_values(width=3, key_size=6, max_leaves=10)


@settings(max_examples=200, deadline=None)
@given(data=st.dictionaries(st.text(max_size=6), _values, max_size=4), kind=st.text(), subject=st.text())
def test_the_hash_is_that_of_rfc_8785_over_the_whole_entry(
    data: dict[str, Any], kind: str, subject: str
) -> None:
    try:
        expected = json.loads(rfc8785.dumps(data))
        rfc8785.dumps(expected)
    except ValueError:  # what JSON cannot carry once read back (2.0**53 …) is refused
        with pytest.raises(rfc8785.IntegerDomainError):
            next_entry(kind=kind, subject=subject, data=data, at=T0)
        return
    entry = next_entry(prev_seq=41, prev_hash="ab" * 32, kind=kind, subject=subject, data=data, at=T0)
    assert entry.data == expected
    covered = {
        "seq": 42,
        "at": "2025-03-01T12:00:00.250000Z",
        "kind": kind,
        "subject": subject,
        "data": entry.data,
        "prev_hash": "ab" * 32,
    }
    assert entry.hash == hashlib.sha256(rfc8785.dumps(covered)).hexdigest()
    recomputed = entry_hash(
        seq=42, at=entry.at, kind=kind, subject=subject, data=entry.data, prev_hash=entry.prev_hash
    )
    assert recomputed == entry.hash
