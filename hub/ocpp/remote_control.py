"""Commands and charging profiles for hosted CPOs: the hub answers for the CPO and calls the station.

The shell around ``hub.ocpp.command_mapping`` and ``hub.ocpp.profile_mapping``, behind the router's
port (``hub.routing.hosted``). A request is checked at once against what the hub knows (the station
of the Location, its EVSEs and connectors, whether it is connected, whose token or session it is)
and answered with a CommandResponse or ChargingProfileResponse. When that answer is ACCEPTED, the
OCPP call runs off the answer's path (``Background``) through ``StationCalls``, and the result is
recorded in the outbox as a POST from the CPO to the eMSP's own ``response_url``, so a result is
never lost to an eMSP that is briefly away (guide §8, §9).

Transactions are kept by ``hub.ocpp.transactions``: a remote start is announced to ``RemoteStarts`` before it
is sent (so the station's StartTransaction finds it), and STOP_SESSION and charging profiles look the
session up in ``RunningTransactions``.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import Any, Protocol

import structlog
from ocpp.exceptions import OCPPError

from hub.background import Background
from hub.errors import InvalidParameters, MethodNotAllowed
from hub.mirror.service import Mirror
from hub.ocpi.base import OcpiModel
from hub.ocpi.status import OcpiStatus
from hub.ocpi.v2_2_1.chargingprofiles import (
    ActiveChargingProfileResult,
    ChargingProfileResponse,
    ChargingProfileResponseType,
    ChargingProfileResult,
    ChargingProfileResultType,
    ClearProfileResult,
    SetChargingProfile,
)
from hub.ocpi.v2_2_1.commands import (
    CancelReservation,
    CommandResponse,
    CommandResponseType,
    CommandResult,
    CommandType,
    ReserveNow,
    StartSession,
    StopSession,
    UnlockConnector,
)
from hub.ocpi.v2_2_1.common import DisplayText
from hub.ocpi.v2_2_1.locations import Status
from hub.ocpi.v2_2_1.versions import ModuleID
from hub.ocpp import command_mapping, ocpp_ids, profile_mapping
from hub.ocpp.connection import StationDisconnected
from hub.ocpp.mapping import evse_statuses
from hub.ocpp.records import OCPP16, Station
from hub.ocpp.template import evse_uid
from hub.ocpp.transaction_records import RunningTransaction
from hub.outbox.records import Delivery
from hub.routing.hosted import HostedAnswer, HostedRequest
from hub.routing.table import PartyRef
from hub.services import Services
from hub.store import StaleWrite

log = structlog.get_logger(__name__)

_TRIES = 5
# Seconds promised to the eMSP beyond the wait for the station: recording and sending the result.
_RESULT_MARGIN = 5
_OUT_OF_SERVICE = frozenset({Status.OUTOFORDER, Status.INOPERATIVE})
# How a call to a station fails (``hub.ocpp.calls``); each is a result the eMSP is told.
CALL_FAILURES = (TimeoutError, StationDisconnected, OCPPError)


class RemoteStarts(Protocol):
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
        """A remote start is about to be sent: the transaction the station starts for ``id_tag``
        (``evse`` 0: any) belongs to ``token``, with the eMSP's ``authorization_reference``."""
        ...


class RunningTransactions(Protocol):
    async def by_session(self, session_id: str) -> RunningTransaction | None:
        """The transaction behind an OCPI session id, or None when the hub knows none."""
        ...


class Calls(Protocol):
    """Hub → station calls (``hub.ocpp.calls.StationCalls``)."""

    async def connected(self, station_id: str) -> bool: ...

    async def call(self, station_id: str, request: Any) -> Any: ...


class Refused(Exception):
    """A request the hub answers at once, without calling the station."""

    def __init__(self, result: str, message: str, *, status_code: int = OcpiStatus.SUCCESS) -> None:
        super().__init__(message)
        self.result = result
        self.message = message
        self.status_code = status_code


Work = Coroutine[Any, Any, None]


class RemoteControl:
    def __init__(
        self,
        services: Services,
        mirror: Mirror,
        calls: Calls,
        deliver: Callable[[Sequence[str]], Awaitable[None]],
        background: Background,
        *,
        starts: RemoteStarts,
        running: RunningTransactions,
        timeout: float,
    ) -> None:
        self._services = services
        self._mirror = mirror
        self._calls = calls
        self._deliver = deliver
        self._background = background
        self._starts = starts
        self._running = running
        self._timeout = timeout
        # What the eMSP is told to wait for the result.
        self.promised = math.ceil(timeout) + _RESULT_MARGIN

    # --- the port ------------------------------------------------------------------------------------

    async def answer(self, request: HostedRequest) -> HostedAnswer:
        if request.module is ModuleID.COMMANDS:
            if request.method != "POST" or len(request.tail) != 1:
                raise MethodNotAllowed("commands: POST {commands_endpoint_url}/{command} only")
            return await self._command(CommandType(request.tail[0].upper()), request)
        if len(request.tail) != 1 or request.method not in ("PUT", "GET", "DELETE"):
            raise MethodNotAllowed("chargingprofiles: PUT, GET or DELETE …/{session_id} only")
        return await self._profile(request)

    # --- commands ------------------------------------------------------------------------------------

    async def _command(self, kind: CommandType, request: HostedRequest) -> HostedAnswer:
        parsed = request.parsed
        try:
            if isinstance(parsed, StartSession):
                work = await self._start(parsed, request)
            elif isinstance(parsed, StopSession):
                work = await self._stop(parsed, request)
            elif isinstance(parsed, UnlockConnector):
                work = await self._unlock(parsed, request)
            elif isinstance(parsed, ReserveNow):
                work = await self._reserve(parsed, request)
            elif isinstance(parsed, CancelReservation):
                work = await self._cancel(parsed, request)
            else:
                raise InvalidParameters(f"body: a {kind.value} command object is required")
        except Refused as refused:
            log.info("hosted_command_refused", command=kind.value, reason=refused.message)
            response = CommandResponse(
                result=CommandResponseType(refused.result),
                timeout=0,
                message=[DisplayText(language="en", text=refused.message)],
            )
            return HostedAnswer(response.to_json(), status_code=refused.status_code)
        await self._background.spawn(work)
        log.info("hosted_command_accepted", command=kind.value)
        return HostedAnswer(
            CommandResponse(result=CommandResponseType.ACCEPTED, timeout=self.promised).to_json()
        )

    async def _start(self, command: StartSession, request: HostedRequest) -> Work:
        token = command.token.to_json()
        self._own_token(token, request.origin)
        station = await self._station_at(request.cpo, command.location_id)
        evse = self._evse(station, command.evse_uid) if command.evse_uid else None
        if evse is not None and command.connector_id is not None:
            self._connector(station, evse, command.connector_id)
        await self._usable(station, evse)
        station, remote_start_id = await self._allocate(station.id, ocpp_ids.next_id)
        # 1.6 idTags are at most 20 characters (an alias stands in for a longer uid); 2.0.1 idTokens
        # take the uid as it is, and the transaction names it so.
        id_tag = (
            ocpp_ids.id_tag(command.token.country_code, command.token.party_id, command.token.uid)
            if station.protocol == OCPP16
            else command.token.uid
        )
        call = command_mapping.start_request(
            station.protocol, token=token, id_tag=id_tag, evse=evse, remote_start_id=remote_start_id
        )

        async def run() -> None:
            await self._starts.expect_remote_start(
                station.id,
                evse=evse or 0,
                id_tag=id_tag,
                token=token,
                authorization_reference=command.authorization_reference,
                remote_start_id=remote_start_id,
            )
            await self._command_call(
                station.id, call, CommandType.START_SESSION, command.response_url, request, evse=evse
            )

        return run()

    async def _stop(self, command: StopSession, request: HostedRequest) -> Work:
        running = await self._session(
            command.session_id, request, unknown=CommandResponseType.UNKNOWN_SESSION
        )
        if not await self._calls.connected(running.station_id):
            raise Refused(CommandResponseType.REJECTED, f"station {running.station_id} is not connected")
        call = command_mapping.stop_request(running.protocol, running.transaction_id)
        return self._command_call(
            running.station_id, call, CommandType.STOP_SESSION, command.response_url, request
        )

    async def _unlock(self, command: UnlockConnector, request: HostedRequest) -> Work:
        station = await self._station_at(request.cpo, command.location_id)
        evse = self._evse(station, command.evse_uid)
        connector = self._connector(station, evse, command.connector_id)
        # An EVSE out of service may well hold a cable stuck in its lock: unlocking is still tried.
        await self._usable(station, evse, in_service=False)
        call = command_mapping.unlock_request(station.protocol, evse=evse, connector=connector)
        return self._command_call(
            station.id, call, CommandType.UNLOCK_CONNECTOR, command.response_url, request
        )

    async def _reserve(self, command: ReserveNow, request: HostedRequest) -> Work:
        token = command.token.to_json()
        self._own_token(token, request.origin)
        station = await self._station_at(request.cpo, command.location_id)
        evse = self._evse(station, command.evse_uid) if command.evse_uid else None
        await self._usable(station, evse)
        if evse is None and station.protocol != "ocpp2.0.1":
            # 1.6 reserves a connector; connector 0 (any) is optional there, so the hub picks one.
            evse = next((n for n, s in evse_statuses(station).items() if s is Status.AVAILABLE), None)
            if evse is None:
                raise Refused(CommandResponseType.REJECTED, f"no EVSE of {command.location_id} is available")
        key = ocpp_ids.reservation_key(
            request.origin.country_code, request.origin.party_id, command.reservation_id
        )
        station, reservation_id = await self._allocate(station.id, lambda s: ocpp_ids.reservation_id(s, key))
        token_party = (command.token.country_code, command.token.party_id)
        group = command.token.group_id
        call = command_mapping.reserve_request(
            station.protocol,
            reservation_id=reservation_id,
            expiry=command.expiry_date,
            token=token,
            id_tag=ocpp_ids.id_tag(*token_party, command.token.uid),
            parent_id_tag=ocpp_ids.id_tag(*token_party, group) if group else None,
            evse=evse,
        )
        return self._command_call(station.id, call, CommandType.RESERVE_NOW, command.response_url, request)

    async def _cancel(self, command: CancelReservation, request: HostedRequest) -> Work:
        key = ocpp_ids.reservation_key(
            request.origin.country_code, request.origin.party_id, command.reservation_id
        )
        found = [
            (s, number)
            for s in await self._stations_of(request.cpo)
            if (number := ocpp_ids.known_reservation_id(s, key)) is not None
        ]
        if not found:
            raise Refused(CommandResponseType.REJECTED, f"no reservation {command.reservation_id} is known")
        station, number = found[0]
        await self._usable(station, None, in_service=False)
        call = command_mapping.cancel_request(station.protocol, number)
        return self._command_call(
            station.id, call, CommandType.CANCEL_RESERVATION, command.response_url, request
        )

    async def _command_call(
        self,
        station_id: str,
        call: Any,
        kind: CommandType,
        response_url: str,
        request: HostedRequest,
        *,
        evse: int | None = None,
    ) -> None:
        try:
            answer = await self._call(station_id, call)
        except CALL_FAILURES as error:
            result = command_mapping.failure_result(error)
            log.info("hosted_command_failed", command=kind.value, error=type(error).__name__)
        else:
            evse_status = None
            if evse is not None:
                station = await self._services.store.stations.get(station_id)
                evse_status = evse_statuses(station).get(evse) if station is not None else None
            result = command_mapping.command_result(kind, answer.status, evse_status=evse_status)
        await self._post_result(request, ModuleID.COMMANDS, response_url, CommandResult(result=result))

    # --- charging profiles ---------------------------------------------------------------------------

    async def _profile(self, request: HostedRequest) -> HostedAnswer:
        session_id = request.tail[0]
        try:
            work = await self._profile_work(session_id, request)
        except Refused as refused:
            log.info("hosted_profile_refused", method=request.method, reason=refused.message)
            response = ChargingProfileResponse(result=ChargingProfileResponseType(refused.result), timeout=0)
            return HostedAnswer(response.to_json(), status_code=refused.status_code, message=refused.message)
        await self._background.spawn(work)
        response = ChargingProfileResponse(result=ChargingProfileResponseType.ACCEPTED, timeout=self.promised)
        return HostedAnswer(response.to_json())

    async def _profile_work(self, session_id: str, request: HostedRequest) -> Work:
        if request.method == "PUT":
            if not isinstance(request.parsed, SetChargingProfile):
                raise InvalidParameters("body: a SetChargingProfile object is required")
            response_url = request.parsed.response_url
        else:
            response_url = _required(request.query, "response_url")
        running = await self._session(
            session_id, request, unknown=ChargingProfileResponseType.UNKNOWN_SESSION
        )
        if not await self._calls.connected(running.station_id):
            raise Refused(
                ChargingProfileResponseType.REJECTED, f"station {running.station_id} is not connected"
            )
        if request.method == "PUT":
            assert isinstance(request.parsed, SetChargingProfile)
            profile = request.parsed.charging_profile
            _, profile_id = await self._allocate(
                running.station_id, lambda s: ocpp_ids.profile_id(s, session_id)
            )
            call = profile_mapping.set_request(
                running.protocol,
                profile,
                profile_id=profile_id,
                transaction_id=running.transaction_id,
                evse=running.evse,
            )
            return self._set_profile(running, call, response_url, request)
        if request.method == "GET":
            duration = _required(request.query, "duration")
            if not duration.isdigit():
                raise InvalidParameters(f"duration: a number of seconds is required (got {duration!r})")
            call = profile_mapping.composite_request(
                running.protocol, evse=running.evse, duration=int(duration), unit=None
            )
            return self._active_profile(running, call, response_url, request)
        station = await self._services.store.stations.get(running.station_id)
        known = ocpp_ids.known_profile_id(station, session_id) if station is not None else None
        call = None if known is None else profile_mapping.clear_request(running.protocol, profile_id=known)
        return self._clear_profile(running, call, response_url, request)

    async def _set_profile(
        self, running: RunningTransaction, call: Any, url: str, request: HostedRequest
    ) -> None:
        try:
            answer = await self._call(running.station_id, call)
            result = profile_mapping.set_result(answer.status)
        except CALL_FAILURES as error:
            log.info("hosted_profile_failed", error=type(error).__name__)
            result = ChargingProfileResultType.REJECTED
        await self._post_result(
            request, ModuleID.CHARGING_PROFILES, url, ChargingProfileResult(result=result)
        )

    async def _active_profile(
        self, running: RunningTransaction, call: Any, url: str, request: HostedRequest
    ) -> None:
        outcome = ActiveChargingProfileResult(result=ChargingProfileResultType.REJECTED)
        try:
            answer = await self._call(running.station_id, call)
        except CALL_FAILURES as error:
            log.info("hosted_profile_failed", error=type(error).__name__)
        else:
            profile = profile_mapping.active_profile(running.protocol, answer, now=self._services.clock())
            if profile is not None:
                outcome = ActiveChargingProfileResult(
                    result=ChargingProfileResultType.ACCEPTED, profile=profile
                )
        await self._post_result(request, ModuleID.CHARGING_PROFILES, url, outcome)

    async def _clear_profile(
        self, running: RunningTransaction, call: Any | None, url: str, request: HostedRequest
    ) -> None:
        # No profile the hub set for this session: nothing on the station to clear.
        result = ChargingProfileResultType.UNKNOWN
        if call is not None:
            try:
                answer = await self._call(running.station_id, call)
                result = profile_mapping.clear_result(answer.status)
            except CALL_FAILURES as error:
                log.info("hosted_profile_failed", error=type(error).__name__)
                result = ChargingProfileResultType.REJECTED
        await self._post_result(request, ModuleID.CHARGING_PROFILES, url, ClearProfileResult(result=result))

    # --- checks ----------------------------------------------------------------------------------------

    @staticmethod
    def _own_token(token: Mapping[str, Any], origin: PartyRef) -> None:
        """An eMSP may only use its own tokens (digest §14.1)."""
        owner = PartyRef(str(token["country_code"]), str(token["party_id"]))
        if owner.key != origin.key:
            raise Refused(
                CommandResponseType.REJECTED, f"token {token['uid']} belongs to {owner.key}, not {origin.key}"
            )

    async def _stations_of(self, cpo: PartyRef) -> list[Station]:
        return [s for s in await self._services.store.stations.all() if s.cpo_key == cpo.key]

    async def _station_at(self, cpo: PartyRef, location_id: str) -> Station:
        for station in await self._stations_of(cpo):
            if station.location_id.upper() == location_id.upper():
                return station
        raise Refused(
            CommandResponseType.REJECTED,
            f"{cpo.key} has no location {location_id}",
            status_code=OcpiStatus.UNKNOWN_LOCATION,
        )

    @staticmethod
    def _evse(station: Station, uid: str) -> int:
        for number in sorted({c.evse for c in station.connectors}):
            if evse_uid(station.location_id, number).upper() == uid.upper():
                return number
        raise Refused(CommandResponseType.REJECTED, f"location {station.location_id} has no EVSE {uid}")

    @staticmethod
    def _connector(station: Station, evse: int, connector_id: str) -> int:
        for state in station.connectors:
            if state.evse == evse and str(state.connector) == connector_id:
                return state.connector
        raise Refused(
            CommandResponseType.REJECTED,
            f"EVSE {evse_uid(station.location_id, evse)} has no connector {connector_id}",
        )

    async def _usable(self, station: Station, evse: int | None, *, in_service: bool = True) -> None:
        if station.protocol is None or not await self._calls.connected(station.id):
            raise Refused(CommandResponseType.REJECTED, f"station {station.id} is not connected")
        if in_service and evse is not None and evse_statuses(station).get(evse) in _OUT_OF_SERVICE:
            raise Refused(
                CommandResponseType.REJECTED,
                f"EVSE {evse_uid(station.location_id, evse)} is out of service",
            )

    async def _session(self, session_id: str, request: HostedRequest, *, unknown: str) -> RunningTransaction:
        """The running transaction of the caller's session: unknown, another eMSP's or no longer
        running sessions are refused."""
        record = await self._mirror.get(ModuleID.SESSIONS.value, request.cpo, session_id)
        if record is None:
            raise Refused(unknown, f"{request.cpo.key} has no session {session_id}")
        token = record.document.get("cdr_token") or {}
        owner = PartyRef(str(token.get("country_code", "")), str(token.get("party_id", "")))
        if owner.key != request.origin.key:
            raise Refused(
                CommandResponseType.REJECTED, f"session {session_id} is not one of {request.origin.key}"
            )
        ended = record.document.get("status")
        if ended in ("COMPLETED", "INVALID"):
            raise Refused(CommandResponseType.REJECTED, f"session {session_id} is {str(ended).lower()}")
        running = await self._running.by_session(session_id)
        if running is None:
            raise Refused(unknown, f"{request.cpo.key} has no running transaction for session {session_id}")
        if running.status != "ACTIVE":
            raise Refused(CommandResponseType.REJECTED, f"session {session_id} is {running.status.lower()}")
        return running

    # --- station record, calls and results ---------------------------------------------------------

    async def _allocate(
        self, station_id: str, take: Callable[[Station], tuple[Station | None, int]]
    ) -> tuple[Station, int]:
        """A number from the station's sequence (``hub.ocpp.ocpp_ids``), stored compare-and-set."""
        for _ in range(_TRIES):
            station = await self._services.store.stations.get(station_id)
            if station is None:
                raise Refused(CommandResponseType.REJECTED, f"station {station_id} is no longer attached")
            changed, number = take(station)
            if changed is None:
                return station, number
            try:
                return await self._services.store.stations.update(changed), number
            except StaleWrite:
                continue
        raise Refused(CommandResponseType.REJECTED, f"station {station_id} is busy; try again")

    async def _call(self, station_id: str, call: Any) -> Any:
        async with asyncio.timeout(self._timeout):
            return await self._calls.call(station_id, call)

    async def _post_result(
        self, request: HostedRequest, module: ModuleID, url: str, result: OcpiModel
    ) -> None:
        """Record the result as a POST from the CPO to the eMSP's ``response_url`` and send it."""
        now = self._services.clock()
        delivery = Delivery(
            target_platform_id=request.origin_platform.id,
            to_country_code=request.origin.country_code,
            to_party_id=request.origin.party_id,
            from_country_code=request.cpo.country_code,
            from_party_id=request.cpo.party_id,
            method="POST",
            url=url,
            body=json.dumps(result.to_json(), separators=(",", ":"), ensure_ascii=False),
            module=module.value,
            correlation_id=request.correlation_id,
            created_at=now,
            next_attempt_at=now,
        )
        await self._services.store.outbox.add([delivery])
        await self._deliver([delivery.id])
        log.info("hosted_result_recorded", module=module.value, result=result.to_json().get("result"))


def _required(query: Mapping[str, str], name: str) -> str:
    value = query.get(name)
    if not value:
        raise InvalidParameters(f"{name}: query parameter is required")
    return value
