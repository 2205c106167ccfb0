"""The evidence ledger: an append-only chain of what the hub did with the documents it took
responsibility for (a CDR accepted, a delivery's outcome …), each entry tied to the one before.

Every entry carries ``hash`` = SHA-256 (hex) of the RFC 8785 canonical JSON of
``{"seq", "at", "kind", "subject", "data", "prev_hash"}``, and ``prev_hash`` = the hash of the
entry before it (64 zeros for the first). Changing an entry's content breaks its own hash;
recomputing that hash breaks the next entry's ``prev_hash``; removing an entry leaves a gap in
``seq``. What the chain alone cannot show is the removal of its newest entries: note the head
``ledger verify`` prints somewhere else (a ticket, a signed report) to anchor it.

``kind`` stays an open string (``CDR_ACCEPTED``, ``DELIVERY_OUTCOME`` …) so new evidence needs no
change here. ``at`` enters the hash as its JSON text (UTC, microseconds, ``Z``), which is also
how the stores keep it, so it reads back exactly.

Pure: the stores call ``next_entry`` inside their write, and ``verify_chain`` walks what they read.
The canonical form is ``hub.signing.jws.canonical_json``'s: exactly RFC 8785, by its fast path for
the plain values entries carry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from hub.signing.jws import canonical_json

GENESIS_HASH = "0" * 64


class LedgerEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    seq: int
    at: datetime
    kind: str
    subject: str
    data: dict[str, Any]
    prev_hash: str
    hash: str


def moment_text(at: datetime) -> str:
    """``at`` as the hash covers it: UTC, to the microsecond, with ``Z``."""
    if at.tzinfo is None:
        raise ValueError("a ledger moment must be timezone-aware")
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def entry_hash(
    *, seq: int, at: datetime, kind: str, subject: str, data: Mapping[str, Any], prev_hash: str
) -> str:
    return _hash(seq, moment_text(at), kind, subject, canonical_json(data), prev_hash)


def _hash(seq: int, at: str, kind: str, subject: str, data: bytes, prev_hash: str) -> str:
    """SHA-256 of the canonical JSON of ``{"seq", "at", "kind", "subject", "data", "prev_hash"}``,
    ``data`` given in its canonical form already. RFC 8785 writes an object's members in the order
    of their names, so the object is these members in that order, each value in its canonical form:
    the document it hashes is that of ``canonical_json`` over the whole object."""
    covered = b"".join(
        (
            b'{"at":',
            canonical_json(at),
            b',"data":',
            data,
            b',"kind":',
            canonical_json(kind),
            b',"prev_hash":',
            canonical_json(prev_hash),
            b',"seq":',
            canonical_json(seq),
            b',"subject":',
            canonical_json(subject),
            b"}",
        )
    )
    return hashlib.sha256(covered).hexdigest()


def next_entry(
    *,
    prev_seq: int = 0,
    prev_hash: str = GENESIS_HASH,
    kind: str,
    subject: str,
    data: Mapping[str, Any],
    at: datetime,
) -> LedgerEntry:
    """The entry that follows the one with ``prev_seq`` and ``prev_hash`` (defaults: the first).

    ``data`` is kept as its canonical JSON reads back, so what is stored is exactly what was hashed
    (a tuple becomes a list, a float its shortest form); ``ValueError`` for what JSON cannot carry.
    """
    seq = prev_seq + 1
    moment = moment_text(at)
    stored: dict[str, Any] = json.loads(canonical_json(dict(data)))
    # Hashed as read back, as ``verify_chain`` will (2.0**53 reads back as an int JSON cannot carry).
    digest = _hash(seq, moment, kind, subject, canonical_json(stored), prev_hash)
    return LedgerEntry(
        seq=seq,
        at=datetime.fromisoformat(moment),
        kind=kind,
        subject=subject,
        data=stored,
        prev_hash=prev_hash,
        hash=digest,
    )


@dataclass(frozen=True)
class VerifyResult:
    """What a walk found: ``intact``, or the first broken entry (``broken_seq``) and ``reason``.

    ``checked`` counts the entries found intact; ``last`` is the last of them (None if none was),
    the ``previous`` to hand the next page's walk.
    """

    intact: bool
    checked: int
    last: LedgerEntry | None
    broken_seq: int | None = None
    reason: str | None = None


def verify_chain(entries: Iterable[LedgerEntry], *, previous: LedgerEntry | None = None) -> VerifyResult:
    """Check entries in ``seq`` order, continuing from ``previous`` (None: from the start).

    Checked for each entry, in this order: its ``seq`` follows on, its ``hash`` matches its
    content, its ``prev_hash`` is the hash of the entry before.
    """
    last = previous
    checked = 0
    for entry in entries:
        reason = _fault(entry, last)
        if reason is not None:
            return VerifyResult(False, checked, last, broken_seq=entry.seq, reason=reason)
        last = entry
        checked += 1
    return VerifyResult(True, checked, last)


def _fault(entry: LedgerEntry, previous: LedgerEntry | None) -> str | None:
    expected_seq = 1 if previous is None else previous.seq + 1
    if entry.seq != expected_seq:
        return f"seq gap: expected {expected_seq}, found {entry.seq} ({_gap(expected_seq, entry.seq)})"
    try:
        recomputed = entry_hash(
            seq=entry.seq,
            at=entry.at,
            kind=entry.kind,
            subject=entry.subject,
            data=entry.data,
            prev_hash=entry.prev_hash,
        )
    except ValueError as error:  # stored data JSON cannot carry (NaN …): it was not written by us
        return f"hash mismatch: the entry's content cannot be canonicalised ({error})"
    if recomputed != entry.hash:
        return "hash mismatch: the entry's content does not match its hash"
    expected_prev = GENESIS_HASH if previous is None else previous.hash
    if entry.prev_hash != expected_prev:
        where = "the genesis hash" if previous is None else f"the hash of entry {previous.seq}"
        return f"prev_hash mismatch: it is not {where}"
    return None


def _gap(expected: int, found: int) -> str:
    if found == expected + 1:
        return f"entry {expected} is missing"
    if found > expected:
        return f"entries {expected} to {found - 1} are missing"
    return "entries are out of order"
