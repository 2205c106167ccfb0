"""Charging stations for the tests: the ``ocpp`` library's client side (its ``ChargePoint`` for 1.6
and 2.0.1) over aiohttp's websocket client, talking to the hub on loopback."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import ClientSession, ClientWebSocketResponse, WSMsgType, encode_basic_auth
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201

# The password the tests give station CS001 of the hosted CPO.
STATION_PASSWORD = "a-long-station-password-01"

TEMPLATE: dict[str, Any] = {
    "name": "Depot Noord",
    "address": "Stationsplein 1",
    "city": "Utrecht",
    "postal_code": "3511ED",
    "country": "NLD",
    "coordinates": {"latitude": "52.090000", "longitude": "5.110000"},
    "time_zone": "Europe/Amsterdam",
    "parking_type": "ON_STREET",
    "connector": {
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "max_voltage": 230,
        "max_amperage": 32,
    },
    "evses": {"1": {"evse_id": "NL*ABC*E1001", "physical_reference": "L"}},
}


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": encode_basic_auth(user, password)}


class ClientConnection:
    """The station side of the socket, with the recv()/send() the library expects."""

    def __init__(self, ws: ClientWebSocketResponse) -> None:
        self.ws = ws

    async def recv(self) -> str:
        message = await self.ws.receive()
        if message.type is WSMsgType.TEXT:
            return str(message.data)
        raise ConnectionError(f"closed ({message.type.name})")

    async def send(self, text: str) -> None:
        await self.ws.send_str(text)


@dataclass
class Answers:
    """What a test station answers to the hub's commands: a status word per action (the default
    when absent), never an answer for actions in ``silent``; every call it got, in ``calls``.

    Charging profiles: the station holds the ids of the profiles it accepted, and its composite
    schedule (``schedule``, snake_case as the library hands it over) is the schedule of the last one;
    clearing a profile it holds removes both, clearing one it does not hold is Unknown. GetCompositeSchedule
    is Accepted with ``schedule`` (a test may set it), Rejected without one."""

    status: dict[str, str] = field(default_factory=dict)
    silent: set[str] = field(default_factory=set)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    profile_ids: set[int] = field(default_factory=set)
    schedule: dict[str, Any] | None = None
    # When the composite schedule starts, unless the schedule has a start of its own.
    schedule_start: str = "2026-01-01T10:00:00Z"

    async def __call__(self, action: str, payload: dict[str, Any], default: str = "Accepted") -> str:
        self.calls.append((action, payload))
        if action in self.silent:
            await asyncio.sleep(3600)
        return self.status.get(action, default)

    async def set_profile(self, action: str, payload: dict[str, Any], profile_id: int, schedule: Any) -> str:
        status = await self(action, payload)
        if status == "Accepted":
            self.profile_ids.add(profile_id)
            self.schedule = plain(schedule)
        return status

    async def clear_profile(self, action: str, payload: dict[str, Any], profile_id: int | None) -> str:
        held = profile_id is None or profile_id in self.profile_ids
        status = await self(action, payload, "Accepted" if held and self.profile_ids else "Unknown")
        if status == "Accepted":
            self.profile_ids -= self.profile_ids if profile_id is None else {profile_id}
            if not self.profile_ids:
                self.schedule = None
        return status

    async def composite(self, action: str, payload: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
        """The status and the composite schedule for ``payload["duration"]`` seconds."""
        status = await self(action, payload, "Accepted" if self.schedule is not None else "Rejected")
        if status != "Accepted" or self.schedule is None:
            return status, None
        keep = ("charging_rate_unit", "charging_schedule_period", "min_charging_rate")
        schedule = {k: v for k, v in self.schedule.items() if k in keep}
        start = str(self.schedule.get("start_schedule") or self.schedule_start)
        return status, schedule | {"duration": payload["duration"], "start_schedule": start}


def plain(value: Any) -> Any:
    """``value`` with its Decimals as floats: the 1.6 library hands over a checked charging profile
    with Decimal rates, and cannot send Decimals back."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


class Station16(ChargePoint16):
    """A 1.6 station that accepts TriggerMessage, unless told to stay silent, and answers commands
    and charging profile calls as ``answers`` says."""

    silent = False
    triggered: list[str]
    answers: Answers

    @on(Action16.remote_start_transaction)
    async def on_remote_start(self, **payload: Any) -> result16.RemoteStartTransaction:
        return result16.RemoteStartTransaction(status=await self.answers("RemoteStartTransaction", payload))

    @on(Action16.remote_stop_transaction)
    async def on_remote_stop(self, **payload: Any) -> result16.RemoteStopTransaction:
        return result16.RemoteStopTransaction(status=await self.answers("RemoteStopTransaction", payload))

    @on(Action16.unlock_connector)
    async def on_unlock(self, **payload: Any) -> result16.UnlockConnector:
        return result16.UnlockConnector(status=await self.answers("UnlockConnector", payload, "Unlocked"))

    @on(Action16.reserve_now)
    async def on_reserve(self, **payload: Any) -> result16.ReserveNow:
        return result16.ReserveNow(status=await self.answers("ReserveNow", payload))

    @on(Action16.cancel_reservation)
    async def on_cancel(self, **payload: Any) -> result16.CancelReservation:
        return result16.CancelReservation(status=await self.answers("CancelReservation", payload))

    @on(Action16.set_charging_profile)
    async def on_set_profile(self, **payload: Any) -> result16.SetChargingProfile:
        profile = payload["cs_charging_profiles"]
        status = await self.answers.set_profile(
            "SetChargingProfile", payload, profile["charging_profile_id"], profile["charging_schedule"]
        )
        return result16.SetChargingProfile(status=status)

    @on(Action16.clear_charging_profile)
    async def on_clear_profile(self, **payload: Any) -> result16.ClearChargingProfile:
        status = await self.answers.clear_profile("ClearChargingProfile", payload, payload.get("id"))
        return result16.ClearChargingProfile(status=status)

    @on(Action16.get_composite_schedule)
    async def on_composite_schedule(self, **payload: Any) -> result16.GetCompositeSchedule:
        status, schedule = await self.answers.composite("GetCompositeSchedule", payload)
        if schedule is None:
            return result16.GetCompositeSchedule(status=status)
        return result16.GetCompositeSchedule(
            status=status,
            connector_id=payload["connector_id"],
            schedule_start=schedule["start_schedule"],
            charging_schedule=schedule,
        )

    @on(Action16.trigger_message)
    async def on_trigger_message(self, requested_message: str, **_: Any) -> result16.TriggerMessage:
        self.triggered.append(requested_message)
        if self.silent:
            await asyncio.sleep(3600)
        return result16.TriggerMessage(status="Accepted")


class Station201(ChargePoint201):
    """A 2.0.1 station that answers commands and charging profile calls as ``answers`` says."""

    answers: Answers

    @on(Action201.request_start_transaction)
    async def on_request_start(self, **payload: Any) -> result201.RequestStartTransaction:
        return result201.RequestStartTransaction(
            status=await self.answers("RequestStartTransaction", payload)
        )

    @on(Action201.request_stop_transaction)
    async def on_request_stop(self, **payload: Any) -> result201.RequestStopTransaction:
        return result201.RequestStopTransaction(status=await self.answers("RequestStopTransaction", payload))

    @on(Action201.unlock_connector)
    async def on_unlock(self, **payload: Any) -> result201.UnlockConnector:
        return result201.UnlockConnector(status=await self.answers("UnlockConnector", payload, "Unlocked"))

    @on(Action201.reserve_now)
    async def on_reserve(self, **payload: Any) -> result201.ReserveNow:
        return result201.ReserveNow(status=await self.answers("ReserveNow", payload))

    @on(Action201.cancel_reservation)
    async def on_cancel(self, **payload: Any) -> result201.CancelReservation:
        return result201.CancelReservation(status=await self.answers("CancelReservation", payload))

    @on(Action201.set_charging_profile)
    async def on_set_profile(self, **payload: Any) -> result201.SetChargingProfile:
        profile = payload["charging_profile"]
        status = await self.answers.set_profile(
            "SetChargingProfile", payload, profile["id"], profile["charging_schedule"][0]
        )
        return result201.SetChargingProfile(status=status)

    @on(Action201.clear_charging_profile)
    async def on_clear_profile(self, **payload: Any) -> result201.ClearChargingProfile:
        status = await self.answers.clear_profile(
            "ClearChargingProfile", payload, payload.get("charging_profile_id")
        )
        return result201.ClearChargingProfile(status=status)

    @on(Action201.get_composite_schedule)
    async def on_composite_schedule(self, **payload: Any) -> result201.GetCompositeSchedule:
        status, schedule = await self.answers.composite("GetCompositeSchedule", payload)
        if schedule is None:
            return result201.GetCompositeSchedule(status=status)
        composite = {
            "evse_id": payload["evse_id"],
            "duration": schedule["duration"],
            "schedule_start": schedule["start_schedule"],
            "charging_rate_unit": schedule["charging_rate_unit"],
            "charging_schedule_period": schedule["charging_schedule_period"],
        }
        return result201.GetCompositeSchedule(status=status, schedule=composite)


@dataclass
class RunningStation:
    ws: ClientWebSocketResponse
    cp: Any
    task: asyncio.Task[None]

    async def close(self) -> None:
        await self.ws.close()
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await self.task


async def connect_station(
    http: ClientSession, base_url: str, station_id: str, password: str, protocol: str
) -> RunningStation:
    url = base_url.replace("http://", "ws://") + f"/ocpp/{station_id}"
    ws = await http.ws_connect(url, protocols=(protocol,), headers=basic(station_id, password))
    assert ws.protocol == protocol
    connection = ClientConnection(ws)
    cp: Any
    if protocol == "ocpp1.6":
        cp = Station16(station_id, connection, response_timeout=5)
        cp.triggered = []
    else:
        cp = Station201(station_id, connection, response_timeout=5)
    cp.answers = Answers()
    task = asyncio.create_task(cp.start())
    return RunningStation(ws, cp, task)
