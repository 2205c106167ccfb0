"""What the hub needs from storage, as ports; ``sqlite.py`` and ``mongo.py`` implement them.

All keys that OCPI declares CiString (country codes, party ids, object ids) are compared without
regard to case: adapters index the upper-cased key and keep the original spelling in the document.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from hub.clearing.records import ClearedCdr, Evidence
from hub.mirror.records import MirrorRecord
from hub.ocpp.records import Station
from hub.ocpp.transaction_records import RemoteStart, TransactionRecord
from hub.outbox.records import Delivery, DeliveryState
from hub.platforms import Platform
from hub.pulls.records import PullCheckpoint
from hub.routing.links import ProxyLink
from hub.signing.keys import SigningKey
from hub.signing.ledger import LedgerEntry


class StoreError(Exception):
    """Base of the store's own errors."""


class Conflict(StoreError):
    """The write would give a role or a token to two platforms."""


class StaleWrite(StoreError):
    """The document changed (or vanished) since it was read; read it again and retry."""


def purgeable(states: Sequence[DeliveryState]) -> list[str]:
    """The state values ``OutboxStore.purge`` may delete; ``ValueError`` for PENDING."""
    values = [DeliveryState(state) for state in states]
    if DeliveryState.PENDING in values:
        raise ValueError("PENDING deliveries are still owed and are never purged")
    return sorted({state.value for state in values})


class PlatformStore(Protocol):
    """Where the hub keeps the platforms it routes between."""

    async def add(self, platform: Platform) -> None:
        """Store a new platform; ``Conflict`` if one of its roles or tokens belongs to another."""

    async def get(self, platform_id: str) -> Platform | None: ...

    async def by_token(self, digest: str) -> Platform | None:
        """The platform that was issued the token with this digest."""

    async def by_party(self, country_code: str, party_id: str) -> list[Platform]:
        """Platforms that list this party among their roles (held or not), case-insensitively."""

    async def all(self) -> list[Platform]:
        """Every platform, oldest first."""

    async def update(self, platform: Platform) -> Platform:
        """Replace the stored platform if it still has ``platform.revision``.

        Returns the platform with its new revision; ``StaleWrite`` if someone else wrote first,
        ``Conflict`` as for ``add``.
        """

    async def remove(self, platform_id: str) -> bool: ...


class MirrorStore(Protocol):
    """The mirrored OCPI objects, one record per object key (see ``hub.mirror.records``)."""

    async def get(
        self, module: str, country_code: str, party_id: str, object_id: str, token_type: str | None = None
    ) -> MirrorRecord | None:
        """The record with this key, case-insensitively (tokens: ``token_type`` None means RFID)."""

    async def find(self, module: str, object_id: str) -> list[MirrorRecord]:
        """Records of any owner with this object id, case-insensitively, oldest first (open routing)."""

    async def held(self, keys: Sequence[str]) -> set[str]:
        """Which of these keys (``hub.mirror.records.storage_key``) have a record: one look-up for
        several objects, their documents left unread."""

    async def save(self, record: MirrorRecord) -> MirrorRecord:
        """Insert (``record.version == 0``) or replace the record if it still has ``record.version``.

        Returns the record as stored: ``seq`` given at first insert and kept, ``version`` bumped.
        ``StaleWrite`` if the key exists on insert, or the version moved on replace.
        """

    async def delete(
        self, module: str, country_code: str, party_id: str, object_id: str, token_type: str | None = None
    ) -> bool: ...

    async def page(
        self,
        module: str,
        *,
        viewer_keys: Sequence[str] | None,
        date_from: datetime | None,
        date_to: datetime | None,
        after_seq: int | None,
        offset: int,
        limit: int,
    ) -> tuple[list[MirrorRecord], int]:
        """One page in creation order (``seq``) and the number of records matching the filters.

        ``viewer_keys``: the caller's party keys; records whose audience is set are returned only when
        it shares one of them (None: no visibility filter). ``date_from`` inclusive, ``date_to``
        exclusive on ``last_updated``. ``after_seq`` (keyset) starts after that seq; ``offset`` skips
        that many further records. The total ignores ``after_seq``, ``offset`` and ``limit``.
        """

    async def page_json(
        self,
        module: str,
        *,
        viewer_keys: Sequence[str] | None,
        date_from: datetime | None,
        date_to: datetime | None,
        after_seq: int | None,
        offset: int,
        limit: int,
        with_total: bool = True,
    ) -> tuple[list[tuple[int, str]], int]:
        """As ``page``, but each record as ``(seq, document as stored JSON text)``, parsed by no one:
        GET all relays documents, and parsing them only to write them again costs more than the query.

        ``with_total=False`` skips counting (the total comes back as -1): the count is what costs most,
        and the pages of one walk can share it."""


class OutboxStore(Protocol):
    """Deliveries the hub owes to parties (see ``hub.outbox.records``)."""

    async def add(self, deliveries: Sequence[Delivery]) -> None:
        """Record all of them, atomically, before anyone is told they were accepted."""

    async def get(self, delivery_id: str) -> Delivery | None: ...

    async def update(self, delivery: Delivery) -> Delivery:
        """Replace if it still has ``delivery.revision`` and return it with the revision bumped.

        The body is what was added and is never rewritten (a delivery's request does not change).

        ``StaleWrite`` if another writer got there first.
        """

    async def get_many(self, delivery_ids: Sequence[str]) -> list[Delivery]:
        """The deliveries with these ids that exist, in no particular order (one round trip)."""

    async def update_many(self, deliveries: Sequence[Delivery]) -> list[Delivery | None]:
        """``update`` for each, in one round trip: each is written if it still has its revision.

        Returns, in order, each as stored with its revision bumped, or None where the write was
        stale (nothing is raised; the caller reads that one again).
        """

    async def due(self, now: datetime, *, limit: int) -> list[Delivery]:
        """PENDING deliveries whose ``next_attempt_at`` has come, oldest first."""

    async def for_target(
        self, target_platform_id: str, *, states: Sequence[DeliveryState], limit: int
    ) -> list[Delivery]:
        """A receiver's deliveries in these states, oldest first."""

    async def for_object(self, target_platform_id: str, object_key: str) -> list[Delivery]:
        """Every delivery of one object to one receiver, oldest first (coalescing)."""

    async def for_objects(self, target_platform_id: str, object_keys: Sequence[str]) -> list[Delivery]:
        """``for_object`` for several objects of one receiver, in one round trip, oldest first; without
        their bodies (coalescing compares versions, and bodies are most of what a delivery weighs)."""

    async def by_state(self, state: DeliveryState, *, limit: int, offset: int = 0) -> list[Delivery]: ...

    async def purge(self, states: Sequence[DeliveryState], *, before: datetime | None) -> int:
        """Delete the deliveries in these finished states created before ``before`` (None: whenever);
        returns how many. PENDING is work still owed: asking for it is a ``ValueError``."""


class LinkStore(Protocol):
    """Hub URLs standing in for parties' URLs (see ``hub.routing.links``)."""

    async def add(self, link: ProxyLink) -> None: ...

    async def get(self, link_id: str) -> ProxyLink | None:
        """The link, whether or not it has expired (the caller decides)."""

    async def purge(self, before: datetime) -> int:
        """Forget links that expired before this moment; returns how many."""


class PullStore(Protocol):
    """Checkpoints of pulls, one per platform and module (see ``hub.pulls.records``)."""

    async def get(self, platform_id: str, module: str) -> PullCheckpoint | None: ...

    async def save(self, checkpoint: PullCheckpoint) -> PullCheckpoint:
        """Insert (``checkpoint.revision == 0``) or replace the checkpoint if it still has
        ``checkpoint.revision``; returns it as stored, with the revision bumped.

        ``StaleWrite`` if one exists for the pair on insert, or its revision moved on replace: another
        run got there first, and holds the pull.
        """

    async def all(self) -> list[PullCheckpoint]:
        """Every checkpoint, by platform id and module."""


class KeyStore(Protocol):
    """The hub's signing keys (see ``hub.signing.keys``); none is ever removed, so old signatures
    keep verifying."""

    async def add(self, key: SigningKey) -> SigningKey:
        """Store a new key after the newest: it becomes current. Returns it with its ``generation``.

        Two adds at once both succeed, with consecutive generations (the newer one is current);
        ``Conflict`` if a key with this kid is stored already.
        """

    async def add_first(self, key: SigningKey) -> SigningKey:
        """Store ``key`` as generation 1 unless some key exists; returns the current key after.

        Whichever of several processes starting together gets there first makes the one first key;
        the others get that key back and store nothing.
        """

    async def all(self) -> list[SigningKey]:
        """Every key, oldest (lowest generation) first."""

    async def current(self) -> SigningKey | None:
        """The newest key (highest generation), or None while there is none."""


class LedgerStore(Protocol):
    """The evidence ledger, one hash chain (see ``hub.signing.ledger``); append-only."""

    async def append(self, kind: str, subject: str, data: Mapping[str, Any], at: datetime) -> LedgerEntry:
        """Chain a new entry after the newest and return it.

        The newest entry is read and the new one written in one step, so appenders in several
        processes still make one chain: ``seq`` unique and without gaps, each ``prev_hash`` the hash
        of the entry before.
        """

    async def entries(self, *, after_seq: int = 0, limit: int = 1000) -> list[LedgerEntry]:
        """At most ``limit`` entries with ``seq`` above ``after_seq``, in ``seq`` order."""

    async def get(self, seq: int) -> LedgerEntry | None: ...


class ClearingStore(Protocol):
    """CDRs accepted for clearing, one record per CDR key (see ``hub.clearing.records``)."""

    async def add(self, record: ClearedCdr) -> ClearedCdr:
        """Store a newly accepted CDR (revision 1); ``Conflict`` if its key was accepted before."""

    async def accept(
        self, record: ClearedCdr, deliveries: Sequence[Delivery], evidence: Evidence
    ) -> ClearedCdr:
        """``add`` the record, and with it add its deliveries to the outbox and append its ledger entry
        (subject: the record's key). One transaction where the store has them (SQLite); otherwise in
        that order, so what a crash can leave is a record whose delivery is missing, which the
        intake repairs when the owner sends the CDR again."""

    async def get(self, key: str) -> ClearedCdr | None:
        """The record with this CDR key (``CC*PID*ID``), case-insensitively."""

    async def by_delivery(self, delivery_id: str) -> ClearedCdr | None: ...

    async def update(self, record: ClearedCdr) -> ClearedCdr:
        """Replace if it still has ``record.revision``; ``StaleWrite`` otherwise."""

    async def ended_between(self, start: datetime, end: datetime) -> list[ClearedCdr]:
        """Records whose charging ended in [start, end), by end time."""


class StationStore(Protocol):
    """Charging stations attached to the hub over OCPP, one record per station (see
    ``hub.ocpp.records``); ids and Location keys compared without regard to case."""

    async def add(self, station: Station) -> None:
        """Store a new station; ``Conflict`` if its id, or its CPO's Location id, is taken."""

    async def get(self, station_id: str) -> Station | None: ...

    async def update(self, station: Station) -> Station:
        """Replace if it still has ``station.revision``; returns it with the revision bumped.
        ``StaleWrite`` if someone else wrote first (or it was removed)."""

    async def all(self) -> list[Station]:
        """Every station, oldest first."""


class TransactionStore(Protocol):
    """OCPP transactions and the remote starts asked for (see ``hub.ocpp.transaction_records``);
    station ids compared without regard to case."""

    async def add(self, record: TransactionRecord) -> None:
        """Store a new transaction; ``Conflict`` if the station's transaction id, the Session id or the
        1.6 start key is taken."""

    async def get(self, station_id: str, transaction_id: str) -> TransactionRecord | None: ...

    async def by_start_key(self, start_key: str) -> TransactionRecord | None: ...

    async def open_of(self, station_id: str) -> list[TransactionRecord]:
        """The station's transactions that are still open, oldest first."""
        ...

    async def by_session(self, session_id: str) -> TransactionRecord | None:
        """The transaction of this Session id, case-insensitively."""

    async def update(self, record: TransactionRecord) -> TransactionRecord:
        """Replace if it still has ``record.revision``; returns it with the revision bumped.
        ``StaleWrite`` if someone else wrote first."""

    async def next_id(self) -> int:
        """A new 1.6 transaction id (positive, 32 bits), never handed out before by any process."""

    async def add_remote_start(self, start: RemoteStart) -> None: ...

    async def remote_starts(self, station_id: str, since: datetime) -> list[RemoteStart]:
        """The station's remote starts asked for at or after ``since``, oldest first."""

    async def update_remote_start(self, start: RemoteStart) -> RemoteStart:
        """Replace if it still has ``start.revision``; ``StaleWrite`` otherwise."""


class Store(Protocol):
    @property
    def platforms(self) -> PlatformStore: ...

    @property
    def mirror(self) -> MirrorStore: ...

    @property
    def outbox(self) -> OutboxStore: ...

    @property
    def links(self) -> LinkStore: ...

    @property
    def pulls(self) -> PullStore: ...

    @property
    def keys(self) -> KeyStore: ...

    @property
    def ledger(self) -> LedgerStore: ...

    @property
    def clearing(self) -> ClearingStore: ...

    @property
    def stations(self) -> StationStore: ...

    @property
    def transactions(self) -> TransactionStore: ...

    async def close(self) -> None: ...
