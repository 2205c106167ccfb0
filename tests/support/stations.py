"""Charging stations for the tests: the ``ocpp`` library's client side (its ``ChargePoint`` for 1.6
and 2.0.1) over aiohttp's websocket client, talking to the hub on loopback."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientSession, ClientWebSocketResponse, WSMsgType, encode_basic_auth
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import ChargePoint as ChargePoint201

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


class Station16(ChargePoint16):
    """A 1.6 station that accepts TriggerMessage, unless told to stay silent."""

    silent = False
    triggered: list[str]

    @on(Action16.trigger_message)
    async def on_trigger_message(self, requested_message: str, **_: Any) -> result16.TriggerMessage:
        self.triggered.append(requested_message)
        if self.silent:
            await asyncio.sleep(3600)
        return result16.TriggerMessage(status="Accepted")


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
        cp = ChargePoint201(station_id, connection, response_timeout=5)
    task = asyncio.create_task(cp.start())
    return RunningStation(ws, cp, task)
