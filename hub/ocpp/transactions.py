"""OCPP transactions of hosted stations: OCPI Sessions in the mirror and at the token's eMSP.

The shell around ``hub.ocpp.sessions`` (1.6) and ``hub.ocpp.transaction_events`` (2.0.1). Every
transaction lives in the store (``TransactionStore``), nothing in this process: each change is a
compare-and-set on its record, retried when another writer got there first, so a hub restarted in the
middle of a transaction carries it on. Each Session change is applied to the mirror (so the eMSP can
list it through the hub) and, when the token's eMSP is on a platform with a sessions RECEIVER
endpoint, recorded in the outbox as a delivery from the station's CPO to that eMSP (PUT for the whole
Session, PATCH after), then handed to the job port. An ended transaction's CDR goes to clearing
(``hub.ocpp.cdrs``) once: the record says it ended, so the end sent again changes nothing.

Stations replay queued messages after an outage (guide §11 item 14): a 1.6 start sent again gets the
same transaction id (start key), a stop sent again is ignored, a 2.0.1 event whose ``seqNo`` is not
above the last one applied is a repeat.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import structlog

from hub.mirror.service import Mirror
from hub.ocpi.types import parse_datetime
from hub.ocpi.v2_2_1.versions import ModuleID
from hub.ocpp import cdrs, sessions, signed, transaction_events
from hub.ocpp.ingest import StationGone
from hub.ocpp.records import OCPP16, OCPP201, Station
from hub.ocpp.sessions import ACTIVE, COMPLETED, PENDING, Transaction
from hub.ocpp.transaction_events import Identified, TransactionEvent
from hub.ocpp.transaction_records import (
    REMOTE_START_WINDOW,
    RemoteStart,
    RunningTransaction,
    TransactionRecord,
    TransactionStatus,
    start_key,
)
from hub.outbox.records import Delivery
from hub.routing.forwarder import join
from hub.routing.requests import ObjectUrl
from hub.routing.table import PartyRef
from hub.services import Services
from hub.store import Conflict, StaleWrite
from hub.store.port import TransactionStore

log = structlog.get_logger(__name__)

# The mirrored OCPI Token of a uid and type (``hub.ocpp.authorize.Authorizer.token``).
FindToken = Callable[[str, str], Awaitable[Mapping[str, Any] | None]]
# A change to a record: the record to write and the Session documents to publish; None: nothing to do.
Change = Callable[[TransactionRecord], tuple[TransactionRecord, list[tuple[str, dict[str, Any]]]] | None]
_TRIES = 5


class UnknownTransaction(Exception):
    """A transaction id no station of the hub reported (or one of another station)."""


def _status(transaction: Transaction) -> TransactionStatus:
    if transaction.ended_at is None and transaction.status in (PENDING, ACTIVE):
        return TransactionStatus.OPEN
    return TransactionStatus.STOPPED if transaction.status == COMPLETED else TransactionStatus.INVALID


class Transactions:
    def __init__(
        self,
        services: Services,
        mirror: Mirror,
        deliver: Callable[[Sequence[str]], Awaitable[None]],
        find_token: FindToken,
    ) -> None:
        self._services = services
        self._mirror = mirror
        self._deliver = deliver
        self._find_token = find_token

    @property
    def _store(self) -> TransactionStore:
        return self._services.store.transactions

    # --- OCPP 1.6 -----------------------------------------------------------------------------------

    async def started(
        self,
        station_id: str,
        *,
        connector: int,
        id_tag: str,
        meter_start: int,
        timestamp: str,
        accepted: bool,
    ) -> int:
        """The transaction id for a StartTransaction; an accepted one opens an ACTIVE Session."""
        key = start_key(station_id, connector, id_tag, meter_start, timestamp)
        known = await self._store.by_start_key(key)
        if known is not None:
            return int(known.transaction_id)
        station = await self._station(station_id)
        transaction_id = await self._store.next_id()
        now = self._services.clock()
        record = TransactionRecord(
            station_id=station_id,
            protocol=OCPP16,
            transaction_id=str(transaction_id),
            session_id=sessions.session_id(station_id, transaction_id),
            status=TransactionStatus.INVALID,
            start_key=key,
            created_at=now,
        )
        if not accepted:
            log.info("station_transaction_refused", station=station_id, transaction=transaction_id)
            return await self._add(record, [])
        remote = await self._take_remote_start(
            station_id, record.session_id, lambda r: r.evse == connector and r.id_tag == id_tag
        )
        token = remote.token if remote is not None else await self._find_token(id_tag, "RFID")
        transaction = Transaction(
            station_id=station_id,
            transaction_id=str(transaction_id),
            session_id=record.session_id,
            id_tag=id_tag,
            country_code=station.country_code,
            party_id=station.party_id,
            location_id=station.location_id,
            evse=connector,
            meter_start_wh=Decimal(meter_start),
            started_at=parse_datetime(timestamp),
            token=dict(token) if token is not None else None,
            auth_method=_auth_method(remote, token),
            authorization_reference=remote.authorization_reference if remote is not None else None,
        )
        transaction, session = sessions.started(transaction, now=now)
        record = record.model_copy(update={"status": TransactionStatus.OPEN, "transaction": transaction})
        return await self._add(record, [("PUT", session)])

    async def metered(
        self, station_id: str, transaction_id: int | None, meter_value: Sequence[Mapping[str, Any]]
    ) -> None:
        """MeterValues of a running transaction: the Session's energy so far, and signed readings.
        A reading older than the last one applied (sent late) changes no figure."""
        register = sessions.register_wh(meter_value)
        records = signed.from_v16(meter_value)
        if transaction_id is None or (register is None and not records):
            return
        at = max((parse_datetime(str(m["timestamp"])) for m in meter_value), default=self._services.clock())
        now = self._services.clock()

        def change(record: TransactionRecord) -> tuple[TransactionRecord, list[tuple[str, Any]]] | None:
            transaction = record.transaction
            if transaction is None or record.status is not TransactionStatus.OPEN:
                return None
            changes: list[tuple[str, dict[str, Any]]] = []
            if records:
                transaction = transaction.model_copy(
                    update={"signed": signed.merged(transaction.signed, records)}
                )
            if register is not None and (transaction.read_at is None or at > transaction.read_at):
                transaction, patch = sessions.metered(transaction, register, at=at, now=now)
                changes.append(("PATCH", patch))
            if transaction == record.transaction:
                return None
            return record.model_copy(update={"transaction": transaction}), changes

        await self._change(station_id, str(transaction_id), change)

    async def charging(self, station_id: str, evse: int, charging: bool, *, at: datetime) -> None:
        """A 1.6 connector started or stopped charging: a new charging period for its transaction."""
        now = self._services.clock()
        for open_record in await self._store.open_of(station_id):
            if open_record.transaction is None or open_record.transaction.evse != evse:
                continue

            def change(record: TransactionRecord) -> tuple[TransactionRecord, list[tuple[str, Any]]] | None:
                transaction = record.transaction
                if transaction is None or record.status is not TransactionStatus.OPEN:
                    return None
                transaction, patch = sessions.charging_changed(transaction, charging, at=at, now=now)
                if patch is None:
                    return None
                return record.model_copy(update={"transaction": transaction}), [("PATCH", patch)]

            await self._change(station_id, open_record.transaction_id, change)

    async def stopped(
        self,
        station_id: str,
        transaction_id: int,
        *,
        meter_stop: int,
        timestamp: str,
        transaction_data: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """StopTransaction: the Session is COMPLETED with its final energy, and its CDR is issued.
        A stop sent again changes nothing; ``UnknownTransaction`` for an id the hub never gave out."""
        at: datetime = parse_datetime(timestamp)
        records = signed.from_v16(transaction_data, default_context="Transaction.End")
        now = self._services.clock()

        def change(record: TransactionRecord) -> tuple[TransactionRecord, list[tuple[str, Any]]] | None:
            transaction = record.transaction
            if transaction is None or record.status is not TransactionStatus.OPEN:
                return None
            if records:
                transaction = transaction.model_copy(
                    update={"signed": signed.merged(transaction.signed, records)}
                )
            transaction, patch = sessions.stopped(transaction, Decimal(meter_stop), at=at, now=now)
            return record.model_copy(
                update={"transaction": transaction, "status": TransactionStatus.STOPPED}
            ), [("PATCH", patch)]

        if await self._store.get(station_id, str(transaction_id)) is None:
            raise UnknownTransaction(f"transaction {transaction_id} of {station_id} is not known")
        stored = await self._change(station_id, str(transaction_id), change)
        if stored is not None and stored.transaction is not None:
            await cdrs.issue_cdr(self._services, self._deliver, stored.transaction, end=at)

    # --- OCPP 2.0.1 ---------------------------------------------------------------------------------

    async def event(self, station_id: str, event: TransactionEvent, identified: Identified | None) -> None:
        """A 2.0.1 TransactionEvent: the Session it starts, changes or ends (and the CDR at the end)."""
        now = self._services.clock()
        record = await self._store.get(station_id, event.transaction_id)
        if record is None:
            record = await self._open(station_id, event, now)
        remote = None
        if record.transaction is not None and record.transaction.auth_method != "COMMAND":
            wanted = event.remote_start_id
            if wanted is not None:
                remote = await self._take_remote_start(
                    station_id, record.session_id, lambda r: r.remote_start_id == wanted
                )
        if remote is not None:
            identified = Identified(
                uid=remote.id_tag,
                accepted=True,
                token=remote.token,
                auth_method="COMMAND",
                authorization_reference=remote.authorization_reference,
            )

        def change(record: TransactionRecord) -> tuple[TransactionRecord, list[tuple[str, Any]]] | None:
            transaction = record.transaction
            if transaction is None or transaction_events.is_repeat(record.seq_no, event.seq_no):
                return None
            if record.status is not TransactionStatus.OPEN:
                return record.model_copy(update={"seq_no": event.seq_no}), []
            transaction, changes = transaction_events.apply(transaction, event, identified, now=now)
            update = {"transaction": transaction, "seq_no": event.seq_no, "status": _status(transaction)}
            return record.model_copy(update=update), changes

        before = record.status
        stored = await self._change(station_id, event.transaction_id, change)
        if stored is None or stored.transaction is None:
            return
        if before is TransactionStatus.OPEN and stored.status is TransactionStatus.STOPPED:
            end = stored.transaction.ended_at or event.timestamp
            await cdrs.issue_cdr(self._services, self._deliver, stored.transaction, end=end)

    async def _open(self, station_id: str, event: TransactionEvent, now: datetime) -> TransactionRecord:
        """The record of a transaction first heard of: PENDING, not yet published, no event applied."""
        station = await self._station(station_id)
        session_id = sessions.session_id(station_id)
        transaction = Transaction(
            station_id=station_id,
            protocol=OCPP201,
            transaction_id=event.transaction_id,
            session_id=session_id,
            id_tag=None,
            country_code=station.country_code,
            party_id=station.party_id,
            location_id=station.location_id,
            evse=event.evse_number or 0,
            connector_id=str(event.connector_number or 1),
            meter_start_wh=None,
            started_at=event.timestamp,
            token=None,
            auth_method="AUTH_REQUEST",
            status=PENDING,
        )
        record = TransactionRecord(
            station_id=station_id,
            protocol=OCPP201,
            transaction_id=event.transaction_id,
            session_id=session_id,
            status=TransactionStatus.OPEN,
            transaction=transaction,
            created_at=now,
        )
        try:
            await self._store.add(record)
        except Conflict:
            found: TransactionRecord | None = await self._store.get(station_id, event.transaction_id)
            if found is None:
                raise
            return found
        return record

    # --- remote starts --------------------------------------------------------------------------------

    async def expect_remote_start(
        self,
        station_id: str,
        *,
        evse: int,
        id_tag: str,
        token: Mapping[str, Any],
        authorization_reference: str | None,
        remote_start_id: int,
    ) -> None:
        """Record a start the hub asked the station for (OCPI START_SESSION). Within five minutes, a
        1.6 StartTransaction on that connector with that id tag, or a 2.0.1 TransactionEvent with that
        ``remoteStartId``, takes it: its Session is a COMMAND one, with this token and reference. Until
        then the id tag is accepted at that station without asking anyone (guide §7.1)."""
        await self._store.add_remote_start(
            RemoteStart(
                id=str(uuid.uuid4()),
                station_id=station_id,
                evse=evse,
                id_tag=id_tag,
                token=dict(token),
                authorization_reference=authorization_reference,
                remote_start_id=remote_start_id,
                created_at=self._services.clock(),
            )
        )

    async def remote_start_accepts(self, station_id: str, uid: str) -> bool:
        """Whether a remote start the hub asked this station for recently vouches for this token."""
        return await self._remote_vouches(station_id, uid)

    async def by_session(self, session_id: str) -> RunningTransaction | None:
        """The transaction behind a Session id, as OCPI commands need it; None when unknown."""
        record: TransactionRecord | None = await self._store.by_session(session_id)
        if record is None or record.transaction is None:
            return None
        transaction = record.transaction
        connector = int(transaction.connector_id) if transaction.connector_id.isdigit() else 1
        return RunningTransaction(
            station_id=record.station_id,
            protocol=record.protocol,
            transaction_id=record.transaction_id,
            evse=transaction.evse,
            connector=connector,
            status=transaction.status,
        )

    async def _remote_vouches(self, station_id: str, uid: str) -> bool:
        since = self._services.clock() - REMOTE_START_WINDOW
        starts: list[RemoteStart] = await self._store.remote_starts(station_id, since)
        return any(start.id_tag == uid for start in starts)

    async def _take_remote_start(
        self, station_id: str, session_id: str, matches: Callable[[RemoteStart], bool]
    ) -> RemoteStart | None:
        """The oldest fresh remote start of the station that ``matches`` and no transaction took, now
        taken by ``session_id``."""
        for _ in range(_TRIES):
            since = self._services.clock() - REMOTE_START_WINDOW
            starts: list[RemoteStart] = await self._store.remote_starts(station_id, since)
            found = next((s for s in starts if matches(s) and s.session_id in (None, session_id)), None)
            if found is None:
                return None
            if found.session_id == session_id:
                return found
            try:
                return await self._store.update_remote_start(
                    found.model_copy(update={"session_id": session_id})
                )
            except StaleWrite:
                continue
        return None

    # --- the shell ----------------------------------------------------------------------------------

    async def _station(self, station_id: str) -> Station:
        station: Station | None = await self._services.store.stations.get(station_id)
        if station is None:
            raise StationGone(f"station {station_id} is no longer attached to the hub")
        return station

    async def _add(self, record: TransactionRecord, documents: list[tuple[str, dict[str, Any]]]) -> int:
        """Store a new 1.6 transaction and publish its Session; the id of the one stored first when
        the same start arrived twice at once."""
        try:
            await self._store.add(record)
        except Conflict:
            known = await self._store.by_start_key(record.start_key or "")
            if known is None:
                raise
            return int(known.transaction_id)
        if record.transaction is not None:
            for method, document in documents:
                await self._publish(record.transaction, method, document)
        return int(record.transaction_id)

    async def _change(self, station_id: str, transaction_id: str, change: Change) -> TransactionRecord | None:
        """Apply ``change`` to the stored record by compare-and-set, then publish its documents; the
        record as stored, or None when it is unknown or the change was nothing."""
        for _ in range(_TRIES):
            record: TransactionRecord | None = await self._store.get(station_id, transaction_id)
            if record is None:
                return None
            outcome = change(record)
            if outcome is None:
                log.info("station_transaction_repeat", station=station_id, transaction=transaction_id)
                return None
            changed, documents = outcome
            try:
                stored: TransactionRecord = await self._store.update(changed)
            except StaleWrite:
                continue
            if stored.transaction is not None:
                for method, document in documents:
                    await self._publish(stored.transaction, method, document)
            return stored
        raise StaleWrite(f"transaction {transaction_id} keeps changing; gave up after {_TRIES} tries")

    async def _publish(self, transaction: Transaction, method: str, document: dict[str, Any]) -> None:
        body = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
        cpo = PartyRef(transaction.country_code, transaction.party_id)
        url = ObjectUrl(cpo, (transaction.session_id,))
        prepared = self._mirror.prepare(ModuleID.SESSIONS.value, method, url, None, body.encode())
        assert prepared is not None  # sessions are mirrored
        outcome = await self._mirror.apply_in_order(prepared, strict=True)
        if outcome is None or not outcome.changed:
            return
        delivery = await self._delivery(transaction, method, body, outcome.key, outcome.version)
        if delivery is None:
            log.warning(
                "session_emsp_missing", station=transaction.station_id, session=transaction.session_id
            )
            return
        await self._services.store.outbox.add([delivery])
        await self._deliver([delivery.id])
        log.info("session_published", session=transaction.session_id, method=method)

    async def _delivery(
        self, transaction: Transaction, method: str, body: str, key: str, version: str
    ) -> Delivery | None:
        emsp = transaction.emsp
        if emsp is None:
            return None
        found = await self._services.store.platforms.by_party(*emsp)
        platform = next(
            (
                p
                for p in found
                if p.registered and not p.hosted and p.endpoint(ModuleID.SESSIONS.value, "RECEIVER")
            ),
            None,
        )
        if platform is None:
            return None
        endpoint = platform.endpoint(ModuleID.SESSIONS.value, "RECEIVER")
        assert endpoint is not None
        now = self._services.clock()
        tail = f"/{transaction.country_code}/{transaction.party_id}/{transaction.session_id}"
        return Delivery(
            target_platform_id=platform.id,
            to_country_code=emsp[0],
            to_party_id=emsp[1],
            from_country_code=transaction.country_code,
            from_party_id=transaction.party_id,
            method=method,
            url=join(endpoint.url, tail),
            body=body,
            module=ModuleID.SESSIONS.value,
            object_key=key,
            object_version=version,
            correlation_id=str(uuid.uuid4()),
            created_at=now,
            next_attempt_at=now,
        )


def _auth_method(remote: RemoteStart | None, token: Mapping[str, Any] | None) -> str:
    if remote is not None:
        return "COMMAND"
    whitelisted = token is not None and token.get("whitelist") in ("ALWAYS", "ALLOWED")
    return "WHITELIST" if whitelisted else "AUTH_REQUEST"
