"""OCPP 1.6 transactions of hosted stations: OCPI Sessions in the mirror and at the token's eMSP.

The shell around ``hub.ocpp.sessions``. Each Session change is applied to the mirror (so the eMSP
can list it through the hub) and, when the token's eMSP is on a platform with a sessions RECEIVER
endpoint, recorded in the outbox as a delivery from the station's CPO to that eMSP (PUT at the
start, PATCH after), then handed to the job port. Running transactions are kept in this process:
a restart in the middle of a transaction loses them (the Session stays ACTIVE in the mirror).
A stopped transaction's CDR goes to clearing (``hub.ocpp.cdrs``).
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
from hub.ocpp import cdrs, sessions
from hub.ocpp.ingest import StationGone
from hub.ocpp.sessions import Transaction
from hub.outbox.records import Delivery
from hub.routing.forwarder import join
from hub.routing.requests import ObjectUrl
from hub.routing.table import PartyRef
from hub.services import Services

log = structlog.get_logger(__name__)

# The mirrored OCPI Token of a uid and type (``hub.ocpp.authorize.Authorizer.token``).
FindToken = Callable[[str, str], Awaitable[Mapping[str, Any] | None]]
_MAX_TRANSACTION_ID = 0x7FFFFFFF
# A start the station sent again after a lost reply: station, connector, id tag, meter, time.
_StartKey = tuple[str, int, str, str, str]


class UnknownTransaction(Exception):
    """A transaction id this hub process did not hand out (or has forgotten)."""


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
        self._open: dict[tuple[str, int], Transaction] = {}
        self._starts: dict[_StartKey, int] = {}
        # Seeded from the clock, so ids stay unique across restarts at less than one start a second.
        self._last_id = int(services.clock().timestamp()) % _MAX_TRANSACTION_ID

    def _new_id(self) -> int:
        self._last_id = self._last_id % _MAX_TRANSACTION_ID + 1
        return self._last_id

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
        key = (station_id, connector, id_tag, str(meter_start), timestamp)
        if key in self._starts:
            return self._starts[key]
        transaction_id = self._new_id()
        self._starts[key] = transaction_id
        if not accepted:
            log.info("station_transaction_refused", station=station_id, transaction=transaction_id)
            return transaction_id
        station = await self._services.store.stations.get(station_id)
        if station is None:
            raise StationGone(f"station {station_id} is no longer attached to the hub")
        token = await self._find_token(id_tag, "RFID")
        whitelisted = token is not None and token.get("whitelist") in ("ALWAYS", "ALLOWED")
        transaction = Transaction(
            station_id=station_id,
            transaction_id=transaction_id,
            id_tag=id_tag,
            country_code=station.country_code,
            party_id=station.party_id,
            location_id=station.location_id,
            connector=connector,
            meter_start_wh=Decimal(meter_start),
            started_at=parse_datetime(timestamp),
            token=token,
            auth_method="WHITELIST" if whitelisted else "AUTH_REQUEST",
        )
        transaction, session = sessions.started(transaction, now=self._services.clock())
        self._open[(station_id, transaction_id)] = transaction
        await self._publish(transaction, "PUT", session)
        return transaction_id

    async def metered(
        self, station_id: str, transaction_id: int | None, meter_value: Sequence[Mapping[str, Any]]
    ) -> None:
        """MeterValues of a running transaction: the Session's energy so far."""
        transaction = self._open.get((station_id, transaction_id or 0))
        register = sessions.register_wh(meter_value)
        if transaction is None or register is None:
            return
        at = max((parse_datetime(str(m["timestamp"])) for m in meter_value), default=self._services.clock())
        transaction, patch = sessions.metered(transaction, register, at=at, now=self._services.clock())
        self._open[(station_id, transaction_id or 0)] = transaction
        await self._publish(transaction, "PATCH", patch)

    async def stopped(self, station_id: str, transaction_id: int, *, meter_stop: int, timestamp: str) -> None:
        """StopTransaction: the Session is COMPLETED with its final energy."""
        transaction = self._open.pop((station_id, transaction_id), None)
        if transaction is None:
            raise UnknownTransaction(f"transaction {transaction_id} of {station_id} is not known")
        at: datetime = parse_datetime(timestamp)
        transaction, patch = sessions.stopped(
            transaction, Decimal(meter_stop), at=at, now=self._services.clock()
        )
        await self._publish(transaction, "PATCH", patch)
        # Built from the stored transaction only; a StopTransaction sent again finds no open
        # transaction (above), and clearing takes a CDR id once.
        await cdrs.issue_cdr(self._services, self._deliver, transaction, end=at)

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
