"""What the hub does with what stations say: change the station record, rebuild the Location, push it.

The shell around ``hub.ocpp.mapping``. Every change is a compare-and-set on the station record,
retried when another writer (the CLI, another connection of the same station) got there first. A
change that alters what eMSPs see is published like a CPO's broadcast push: the whole Location is
PUT into the mirror, one delivery per receiving platform is recorded in the outbox, and the job port
is told the ids (digest §5.3).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog

from hub.mirror.service import Mirror
from hub.ocpi.v2_2_1.versions import ModuleID
from hub.ocpp import authorization, mapping, transaction_events
from hub.ocpp.authorization import Decision, Outcome
from hub.ocpp.publish import publish
from hub.ocpp.records import OCPP16, OCPP201, BootInfo, Station
from hub.ocpp.transaction_events import Identified
from hub.platforms import Platform
from hub.services import Services
from hub.store import StaleWrite

if TYPE_CHECKING:
    from hub.ocpp.transactions import Transactions

log = structlog.get_logger(__name__)

_TRIES = 5
Change = Callable[[Station], Station]
# ``hub.ocpp.authorize.Authorizer.authorize``: station id, token uid, OCPI token type → decision.
Authorize = Callable[[str, str, str], Awaitable[Decision]]
# ``hub.ocpp.authorize.Authorizer.token``: the mirrored OCPI Token of a uid and type.
FindToken = Callable[[str, str], Awaitable[Mapping[str, Any] | None]]


class StationGone(Exception):
    """The station was removed from the store while it was connected."""


class Ingest:
    def __init__(
        self,
        services: Services,
        mirror: Mirror,
        deliver: Callable[[Sequence[str]], Awaitable[None]],
        *,
        authorize: Authorize | None = None,
        transactions: Transactions | None = None,
        find_token: FindToken | None = None,
    ) -> None:
        self._services = services
        self._mirror = mirror
        self._deliver = deliver
        self._authorize = authorize
        self._transactions = transactions
        self._find_token = find_token

    async def connected(self, station_id: str, protocol: str) -> Station:
        now = self._services.clock()
        return await self._change(
            station_id, lambda s: mapping.connected(s, protocol, now=now), publish=False
        )

    async def booted(self, station_id: str, boot: BootInfo) -> Station:
        # Boot says nothing about EVSEs; the StatusNotifications that follow it do.
        return await self._change(station_id, lambda s: mapping.booted(s, boot), publish=False)

    async def status(
        self,
        station_id: str,
        protocol: str,
        *,
        evse: int,
        connector: int,
        ocpp_status: str,
        error_code: str | None,
        at: datetime | None = None,
    ) -> Station:
        """A connector's status; for 1.6 also where a charging period of its transaction ends."""
        now = self._services.clock()
        charging = mapping.CHARGING_16.get(ocpp_status) if protocol == OCPP16 else None
        if charging is not None and self._transactions is not None:
            await self._transactions.charging(station_id, evse, charging, at=at or now)
        return await self._change(
            station_id,
            lambda s: mapping.status_reported(
                s,
                protocol,
                evse=evse,
                connector=connector,
                ocpp_status=ocpp_status,
                error_code=error_code,
                now=now,
            ),
            publish=True,
        )

    async def disconnected(self, station_id: str) -> Station:
        """The station's EVSEs read UNKNOWN now (guide §4.4), and eMSPs are told."""
        now = self._services.clock()
        return await self._change(station_id, lambda s: mapping.disconnected(s, now=now), publish=True)

    async def authorize(self, station_id: str, uid: str, token_type: str) -> Decision:
        """Whether a station may let this token charge (guide §7): a token a remote start the hub asked
        this station for in the last five minutes named is accepted without asking anyone; then the
        authorizer decides (none: nobody is asked)."""
        if self._transactions is not None and await self._transactions.remote_start_accepts(station_id, uid):
            log.info("station_authorize", station=station_id, token_type=token_type, outcome="REMOTE_START")
            return Decision(Outcome.ALLOWED)
        if self._authorize is None:
            return Decision(Outcome.UNREACHABLE)
        return await self._authorize(station_id, uid, token_type)

    async def start_transaction(
        self, station_id: str, *, connector: int, id_tag: str, meter_start: int, timestamp: str
    ) -> tuple[int, Decision]:
        """1.6 StartTransaction: the id tag decided as by Authorize, and the hub's transaction id."""
        decision = await self.authorize(station_id, id_tag, "RFID")
        if self._transactions is None:
            return 0, decision
        transaction_id = await self._transactions.started(
            station_id,
            connector=connector,
            id_tag=id_tag,
            meter_start=meter_start,
            timestamp=timestamp,
            accepted=decision.outcome is Outcome.ALLOWED,
        )
        return transaction_id, decision

    async def meter_values(
        self, station_id: str, transaction_id: int | None, meter_value: Sequence[Mapping[str, Any]]
    ) -> None:
        if self._transactions is not None:
            await self._transactions.metered(station_id, transaction_id, meter_value)

    async def stop_transaction(
        self,
        station_id: str,
        transaction_id: int,
        *,
        meter_stop: int,
        timestamp: str,
        transaction_data: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        if self._transactions is not None:
            await self._transactions.stopped(
                station_id,
                transaction_id,
                meter_stop=meter_stop,
                timestamp=timestamp,
                transaction_data=transaction_data,
            )

    async def transaction_event(self, station_id: str, payload: Mapping[str, Any]) -> Decision | None:
        """2.0.1 TransactionEvent: its idToken decided as by Authorize (None without one), and the
        Session it starts, changes or ends."""
        event = transaction_events.read_event(payload)
        decision: Decision | None = None
        identified: Identified | None = None
        if event.id_token is not None and event.id_token.get("id_token"):
            uid = str(event.id_token["id_token"])
            token_type = authorization.token_type(OCPP201, str(event.id_token.get("type", "")))
            decision = await self.authorize(station_id, uid, token_type)
            identified = await self._identified(uid, token_type, decision)
        if self._transactions is not None:
            await self._transactions.event(station_id, event, identified)
        return decision

    async def _identified(self, uid: str, token_type: str, decision: Decision) -> Identified:
        token = await self._find_token(uid, token_type) if self._find_token is not None else None
        whitelisted = token is not None and token.get("whitelist") in ("ALWAYS", "ALLOWED")
        return Identified(
            uid=uid,
            accepted=decision.outcome is Outcome.ALLOWED,
            token=token,
            auth_method="WHITELIST" if whitelisted else "AUTH_REQUEST",
        )

    # --- the shell ----------------------------------------------------------------------------------

    async def _change(self, station_id: str, change: Change, *, publish: bool) -> Station:
        store = self._services.store.stations
        for _ in range(_TRIES):
            station = await store.get(station_id)
            if station is None:
                raise StationGone(f"station {station_id} is no longer attached to the hub")
            changed = change(station)
            if publish and mapping.needs_publishing(changed):
                changed = mapping.published(changed, now=self._services.clock())
            try:
                stored = await store.update(changed)
            except StaleWrite:
                continue
            if stored.published_at != station.published_at:
                await self._publish(stored)
            return stored
        raise StaleWrite(f"station {station_id} keeps changing; gave up after {_TRIES} tries")

    async def _publish(self, station: Station) -> None:
        platform = await self._owner(station)
        if platform is None:
            log.warning("station_cpo_missing", station=station.id, cpo=station.cpo_key)
            return
        _, deliveries = await publish(
            self._services, self._mirror, ModuleID.LOCATIONS, mapping.location(station), cpo=platform
        )
        if deliveries:
            await self._deliver([d.id for d in deliveries])
        log.info("station_location_published", station=station.id, receivers=len(deliveries))

    async def _owner(self, station: Station) -> Platform | None:
        found = await self._services.store.platforms.by_party(station.country_code, station.party_id)
        return next((p for p in found if p.hosted and p.registered), None)
