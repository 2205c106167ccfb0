"""The OCPP-J endpoint: ``GET /ocpp/{station_id}`` upgraded to a websocket (guide §2.2).

A station authenticates with HTTP Basic (user name: its id, password: its own) before the upgrade,
so a refusal is a plain HTTP 401. The subprotocol picks the library class; a station offering none
the hub speaks gets the handshake completed and the socket closed at once, as OCPP-J asks. Open
connections are kept per process in ``Registry``; a station that connects again replaces its
older connection, and only the current connection's end marks the station's EVSEs UNKNOWN.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
from collections.abc import AsyncIterator
from decimal import Decimal

import ocpp.messages
import structlog
from aiohttp import WSCloseCode, web

from hub.keys import background_key, forwarder_key, jobs_key, router_key, services_key
from hub.mirror.service import Mirror
from hub.ocpp.authorize import Authorizer
from hub.ocpp.calls import StationCalls
from hub.ocpp.charge_points import CHARGE_POINTS, SCHEMA_ACTIONS
from hub.ocpp.connection import AiohttpConnection
from hub.ocpp.ingest import Ingest, StationGone
from hub.ocpp.link import StationLink
from hub.ocpp.passwords import VerifiedPasswords, check_password
from hub.ocpp.records import OCPP16, OCPP201
from hub.ocpp.relay import RedisRelay
from hub.ocpp.remote_control import RemoteControl
from hub.ocpp.transactions import Transactions

log = structlog.get_logger(__name__)

# What the hub speaks, preferred first; aiohttp takes the first of the station's list it finds here.
PROTOCOLS = (OCPP201, OCPP16)
# Seconds the hub waits for a station to answer a CALL; shorter than what eMSPs are promised for commands.
RESPONSE_TIMEOUT = 30
# Seconds between websocket pings from the hub; a station that stops answering them is dropped.
PING_INTERVAL = 60
# The library logs every frame, id tokens included, at INFO: its own logger stays at WARNING.
_library_log = logging.getLogger("hub.ocpp.library")


class Registry:
    """The stations connected to this hub process, by station key (upper-cased id)."""

    def __init__(self) -> None:
        self._links: dict[str, StationLink] = {}
        self.closing = False

    def get(self, station_id: str) -> StationLink | None:
        return self._links.get(station_id.upper())

    async def attach(self, link: StationLink) -> None:
        """Make ``link`` the station's connection; an older one is closed (stations reconnect before
        the hub notices their old TCP connection died)."""
        older = self._links.get(link.key)
        self._links[link.key] = link
        if older is not None:
            await older.close(WSCloseCode.POLICY_VIOLATION, "replaced by a newer connection of this station")

    async def drop(self, station_id: str) -> None:
        """Close the station's connection here because it connected to another hub process; that
        is no disconnect (the station's EVSEs keep their statuses)."""
        link = self._links.pop(station_id.upper(), None)
        if link is not None:
            await link.close(WSCloseCode.POLICY_VIOLATION, "replaced by a connection to another hub process")

    def detach(self, link: StationLink) -> bool:
        """Forget ``link``; whether it was still the station's current connection."""
        if self._links.get(link.key) is link:
            del self._links[link.key]
            return True
        return False

    async def close_all(self) -> None:
        self.closing = True
        for link in list(self._links.values()):
            await link.close(WSCloseCode.GOING_AWAY, "hub shutting down")


stations_key = web.AppKey("ocpp_stations", Registry)
ingest_key = web.AppKey("ocpp_ingest", Ingest)
transactions_key = web.AppKey("ocpp_transactions", Transactions)
calls_key = web.AppKey("ocpp_calls", StationCalls)
relay_key = web.AppKey("ocpp_relay", RedisRelay)
passwords_key = web.AppKey("ocpp_passwords", VerifiedPasswords)


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """``(user, password)`` from ``Authorization: Basic …``, or None when it is missing or malformed."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else None


def _unauthorized(reason: str) -> web.Response:
    return web.Response(
        status=401,
        text=f"{reason}\n",
        headers={"WWW-Authenticate": 'Basic realm="ocpp", charset="UTF-8"'},
    )


async def _authenticated(request: web.Request, user: str, password: str) -> str | None:
    """The id of the station the URL names, if ``user`` and ``password`` are its own; None otherwise.

    Only the id is returned: the handler lives as long as the connection, and the whole station
    record held in its frame would cost every open connection a few KB for nothing."""
    station = await request.app[services_key].store.stations.get(request.match_info["station_id"])
    if station is None or user.upper() != station.key:
        return None
    verified = request.app[passwords_key]
    if not verified.known(password, station.password_hash):
        if not await asyncio.to_thread(check_password, password, station.password_hash):
            return None
        verified.remember(password, station.password_hash)
    return station.id


async def station_socket(request: web.Request) -> web.StreamResponse:
    services = request.app[services_key]
    credentials = basic_credentials(request.headers.get("Authorization"))
    if credentials is None:
        return _unauthorized("HTTP Basic authentication is required: the station id and its password")
    station_id = await _authenticated(request, *credentials)
    # The same answer for an unknown station and a wrong password: nothing tells which ids exist.
    if station_id is None:
        log.info("station_refused", station=request.match_info["station_id"])
        return _unauthorized("unknown station or wrong password")

    ws = web.WebSocketResponse(protocols=PROTOCOLS, heartbeat=PING_INTERVAL)
    await ws.prepare(request)
    protocol = ws.ws_protocol
    if protocol not in PROTOCOLS:
        log.info(
            "station_without_subprotocol",
            station=station_id,
            offered=request.headers.get("Sec-WebSocket-Protocol"),
        )
        await ws.close(
            code=WSCloseCode.PROTOCOL_ERROR,
            message=f"no OCPP version in common; offer one of {', '.join(PROTOCOLS)}".encode(),
        )
        return ws

    ingest, registry = request.app[ingest_key], request.app[stations_key]
    relay = request.app.get(relay_key)
    connection = AiohttpConnection(ws)
    charge_point = CHARGE_POINTS[protocol](
        station_id,
        connection,
        ingest,
        clock=services.clock,
        response_timeout=RESPONSE_TIMEOUT,
        logger=_library_log,
    )
    link = StationLink(station_id, protocol, connection, charge_point)
    with structlog.contextvars.bound_contextvars(station=station_id):
        await registry.attach(link)
        if relay is not None:
            await relay.hold(station_id)
        try:
            await ingest.connected(station_id, protocol)
            log.info("station_connected", protocol=protocol)
            await link.run()
        except StationGone:
            await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"station removed from the hub")
        finally:
            current = registry.detach(link)
            log.info("station_disconnected", replaced=not current, shutting_down=registry.closing)
            if current and relay is not None:
                await relay.release(station_id)
            # A newer connection of the same station carries on; a hub going down says nothing.
            if current and not registry.closing:
                with contextlib.suppress(StationGone):
                    await ingest.disconnected(station_id)
    return ws


# The 1.6 messages the library checks with numbers read as Decimals (their rates are ``multipleOf
# 0.1``). Its cache keeps one validator per schema whatever it was read with, so these must be read
# the same way here: a validator read with floats fails on the Decimals of every later check.
_DECIMAL_SCHEMAS_16 = frozenset(
    {
        (ocpp.messages.MessageType.Call, "SetChargingProfile"),
        (ocpp.messages.MessageType.Call, "RemoteStartTransaction"),
        (ocpp.messages.MessageType.CallResult, "GetCompositeSchedule"),
    }
)


def load_schemas() -> None:
    """Read the JSON schemas the hub validates with, once (the library caches them); it reads them
    from disk on first use otherwise, inside the event loop."""
    for version, actions in SCHEMA_ACTIONS.items():
        for action in actions:
            for message_type in (ocpp.messages.MessageType.Call, ocpp.messages.MessageType.CallResult):
                decimals = version == "1.6" and (message_type, action) in _DECIMAL_SCHEMAS_16
                ocpp.messages.get_validator(
                    message_type, action, version, parse_float=Decimal if decimals else float
                )


async def lifetime(app: web.Application) -> AsyncIterator[None]:
    """Set the library up, and the ingest on the services the hub's own lifetime opened."""
    # Validation in the event loop: the thread-pool hop costs more than it saves (guide §2.5).
    ocpp.messages.ASYNC_VALIDATION = False
    if _library_log.level == logging.NOTSET:
        _library_log.setLevel(logging.WARNING)
    await asyncio.to_thread(load_schemas)
    services = app[services_key]
    mirror = Mirror(services.store.mirror)
    authorizer = Authorizer(services, mirror, app.get(forwarder_key))
    transactions = Transactions(services, mirror, app[jobs_key].deliver, authorizer.token)
    app[transactions_key] = transactions
    app[ingest_key] = Ingest(
        services,
        mirror,
        app[jobs_key].deliver,
        authorize=authorizer.authorize,
        transactions=transactions,
        find_token=authorizer.token,
    )
    registry = Registry()
    app[stations_key] = registry
    app[passwords_key] = VerifiedPasswords()
    relay: RedisRelay | None = None
    if services.settings.station_relay_url is not None:
        relay = RedisRelay(
            services.settings.station_relay_url,
            registry,
            drop=registry.drop,
            answer_within=RESPONSE_TIMEOUT + 5,
        )
        await relay.start()
        app[relay_key] = relay
    app[calls_key] = StationCalls(registry, relay)
    # Commands and charging profiles for hosted CPOs are answered by the hub.
    remote = RemoteControl(
        services,
        mirror,
        app[calls_key],
        app[jobs_key].deliver,
        app[background_key],
        starts=transactions,
        running=transactions,
        timeout=services.settings.station_command_timeout,
    )
    app[router_key].answer_hosted_with(remote)
    try:
        yield
    finally:
        if relay is not None:
            await relay.close()


async def _close_stations(app: web.Application) -> None:
    registry = app.get(stations_key)
    if registry is not None:
        await registry.close_all()


def install(app: web.Application) -> None:
    """Add the endpoint to the hub's app; call after the lifetime that opens the services."""
    app.cleanup_ctx.append(lifetime)
    app.on_shutdown.append(_close_stations)
    app.add_routes(
        [
            web.get("/ocpp/{station_id}", station_socket, name="ocpp_station", allow_head=False),
            web.get("/ocpp/{station_id}/", station_socket, allow_head=False),
        ]
    )
