"""OCPP Authorize for hosted stations: the token cache first, then the token's eMSP in real time.

The shell around ``hub.ocpp.authorization``. The cache is the mirror of the tokens eMSPs pushed to
the hub; a token the cache cannot decide is asked for with ``POST {tokens sender}/{uid}/authorize``
at the eMSP platform holding the token's owner, sent from the station's hosted CPO. Everything,
lookups included, runs within ``settings.authorize_timeout``: the station waits on its own timeout.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any
from urllib.parse import quote

import structlog

from hub.errors import RoutingError
from hub.mirror.service import Mirror
from hub.ocpi.v2_2_1.hubclientinfo import ConnectionStatus
from hub.ocpi.v2_2_1.versions import ModuleID
from hub.ocpp import authorization
from hub.ocpp.authorization import Decision
from hub.ocpp.ingest import StationGone
from hub.ocpp.records import Station
from hub.platforms import Platform
from hub.routing.forwarder import Forwarder, join
from hub.routing.table import PartyRef
from hub.services import Services

log = structlog.get_logger(__name__)


class Authorizer:
    def __init__(self, services: Services, mirror: Mirror, forwarder: Forwarder | None) -> None:
        self._services = services
        self._mirror = mirror
        self._forwarder = forwarder

    async def authorize(self, station_id: str, uid: str, token_type: str) -> Decision:
        station = await self._services.store.stations.get(station_id)
        if station is None:
            raise StationGone(f"station {station_id} is no longer attached to the hub")
        token: dict[str, Any] | None = None
        budget = self._services.settings.authorize_timeout
        try:
            async with asyncio.timeout(budget):
                token = await self._cached(uid, token_type)
                cached = authorization.from_cache(token)
                if cached is not None:
                    decision = cached
                else:
                    assert token is not None  # from_cache decides an unknown token
                    decision = await self._ask(station, token, uid, token_type, within=budget)
        except (TimeoutError, RoutingError) as error:
            log.warning("authorize_unanswered", station=station.id, token_type=token_type, reason=str(error))
            decision = authorization.unreachable(token)
        log.info("station_authorize", station=station.id, token_type=token_type, outcome=decision.outcome)
        return decision

    async def token(self, uid: str, token_type: str) -> dict[str, Any] | None:
        """The mirrored token a station's id tag is, as ``authorize`` finds it; None: no eMSP pushed it."""
        return await self._cached(uid, token_type)

    async def _cached(self, uid: str, token_type: str) -> dict[str, Any] | None:
        """The mirrored token with this uid and type; the latest pushed when several parties have one."""
        records = [
            r
            for r in await self._mirror.find(ModuleID.TOKENS.value, uid)
            if (r.token_type or "RFID").upper() == token_type.upper()
        ]
        if not records:
            return None
        return max(records, key=lambda r: r.last_updated).document

    async def _ask(
        self, station: Station, token: dict[str, Any], uid: str, token_type: str, *, within: float
    ) -> Decision:
        owner = PartyRef(str(token["country_code"]), str(token["party_id"]))
        platform = await self._emsp(owner)
        endpoint = platform.endpoint(ModuleID.TOKENS.value, "SENDER") if platform is not None else None
        if platform is None or endpoint is None or self._forwarder is None:
            log.warning("authorize_no_emsp", token_owner=owner.key)
            return authorization.unreachable(token)
        url = join(endpoint.url, f"{quote(uid, safe='')}/authorize") + f"?type={token_type}"
        body = json.dumps({"location_id": station.location_id}, separators=(",", ":")).encode()
        relayed = await self._forwarder.send(
            platform,
            "POST",
            url,
            body=body,
            to=owner,
            sender=PartyRef(station.country_code, station.party_id),
            correlation_id=str(uuid.uuid4()),
            within=within,
        )
        return authorization.answered(relayed.status, relayed.body, token)

    async def _emsp(self, owner: PartyRef) -> Platform | None:
        """The connected platform holding ``owner`` that publishes a tokens SENDER endpoint."""
        found = await self._services.store.platforms.by_party(owner.country_code, owner.party_id)
        return next(
            (
                p
                for p in found
                if p.registered
                and p.status is ConnectionStatus.CONNECTED
                and p.endpoint(ModuleID.TOKENS.value, "SENDER") is not None
            ),
            None,
        )
