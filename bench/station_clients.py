"""Charging stations for the OCPP ingest benchmark, in a process of their own: raw OCPP-J 1.6 frames
over aiohttp websocket clients (no ``ocpp`` library, so the client costs far less than the hub).

    python bench/station_clients.py BASE_URL PASSWORD

Driven by ``bench.stations_bench``: one JSON command a line on stdin, one JSON answer a line on
stdout. Commands: ``connect`` (ids: open, BootNotification), ``heartbeat`` (spread: every open
station sends one Heartbeat, spread evenly over that many seconds), ``transactions`` (count,
id_tag, warmup, window: that many stations loop StartTransaction, MeterValues, StopTransaction and
count the CALLRESULTs that arrive within the window) and ``exit``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import (
    ClientSession,
    ClientWebSocketResponse,
    ClientWSTimeout,
    TCPConnector,
    WSMsgType,
    encode_basic_auth,
)

CALL, CALLRESULT, CALLERROR = 2, 3, 4
# Connections a process opens at once; the hub's listen backlog (128) is shared by every process.
IN_FLIGHT = 64
CALL_TIMEOUT = 60.0
_ids = itertools.count(1)


class CallFailed(Exception):
    """A CALLERROR, a timeout or a closed socket instead of a CALLRESULT."""


class Station:
    """One station's socket: a reader that answers pings and hands CALLRESULTs to the waiting call."""

    def __init__(self, station_id: str, ws: ClientWebSocketResponse) -> None:
        self.station_id = station_id
        self.ws = ws
        self.heartbeat_round = 0  # the last round whose Heartbeat got a CALLRESULT
        self._waiting: tuple[str, asyncio.Future[Any]] | None = None
        self.reader = asyncio.create_task(self._read())

    @property
    def open(self) -> bool:
        return not self.ws.closed and not self.reader.done()

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type is not WSMsgType.TEXT:
                continue
            frame = json.loads(message.data)
            if frame[0] == CALL:  # the hub asks nothing of these stations: refuse politely
                await self.ws.send_str(json.dumps([CALLERROR, frame[1], "NotImplemented", "", {}]))
                continue
            if self._waiting is None or frame[1] != self._waiting[0]:
                continue
            future = self._waiting[1]
            if not future.done():
                if frame[0] == CALLRESULT:
                    future.set_result(frame[2])
                else:
                    future.set_exception(CallFailed(f"{frame[2]}: {frame[3]}"))
        if self._waiting is not None and not self._waiting[1].done():
            self._waiting[1].set_exception(CallFailed("socket closed"))

    async def call(self, action: str, payload: dict[str, Any]) -> Any:
        """Send a CALL and return the CALLRESULT payload (one call at a time, as OCPP-J asks)."""
        message_id = str(next(_ids))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting = (message_id, future)
        try:
            await self.ws.send_str(json.dumps([CALL, message_id, action, payload], separators=(",", ":")))
            async with asyncio.timeout(CALL_TIMEOUT):
                return await future
        except (TimeoutError, ConnectionError) as error:
            raise CallFailed(f"{action}: {type(error).__name__}") from None
        finally:
            self._waiting = None

    async def close(self) -> None:
        await self.ws.close()
        self.reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.reader


class Stations:
    def __init__(self, http: ClientSession, base_url: str, password: str) -> None:
        self.http = http
        self.base_url = base_url.replace("http://", "ws://")
        self.password = password
        self.held: list[Station] = []
        self.round = 0

    async def _connect_one(self, station_id: str) -> None:
        ws = await self.http.ws_connect(
            f"{self.base_url}/ocpp/{station_id}",
            protocols=("ocpp1.6",),
            headers={"Authorization": encode_basic_auth(station_id, self.password)},
            autoping=True,
            timeout=ClientWSTimeout(ws_receive=None, ws_close=5),
        )
        if ws.protocol != "ocpp1.6":
            await ws.close()
            raise CallFailed(f"subprotocol {ws.protocol!r}")
        station = Station(station_id, ws)
        booted = await station.call(
            "BootNotification", {"chargePointVendor": "Bench", "chargePointModel": "Idle-1"}
        )
        if booted.get("status") != "Accepted":
            await station.close()
            raise CallFailed(f"boot {booted.get('status')}")
        self.held.append(station)

    async def connect(self, ids: list[str]) -> dict[str, Any]:
        gate = asyncio.Semaphore(IN_FLIGHT)
        errors: list[str] = []

        async def one(station_id: str) -> None:
            async with gate:
                try:
                    await self._connect_one(station_id)
                except Exception as error:  # every failure is counted and reported, none stops the run
                    errors.append(f"{station_id}: {type(error).__name__}: {error}")

        await asyncio.gather(*(one(i) for i in ids))
        return {"held": len(self.held), "failed": len(errors), "errors": errors[:3]}

    async def heartbeat(self, spread: float) -> dict[str, Any]:
        """One round: every open station heartbeats once, at evenly spaced moments within ``spread``."""
        self.round += 1
        this_round = self.round
        began = time.monotonic()
        count = max(len(self.held), 1)
        errors: list[str] = []

        async def beat(number: int, station: Station) -> None:
            await asyncio.sleep(max(0.0, began + spread * number / count - time.monotonic()))
            try:
                await station.call("Heartbeat", {})
            except CallFailed as error:
                errors.append(f"{station.station_id}: {error}")
            else:
                station.heartbeat_round = this_round

        await asyncio.gather(*(beat(n, s) for n, s in enumerate(self.held)))
        return {
            "stations": len(self.held),
            "open": sum(1 for s in self.held if s.open),
            "answered": sum(1 for s in self.held if s.open and s.heartbeat_round == this_round),
            "seconds": time.monotonic() - began,
            "errors": errors[:3],
        }

    async def transactions(self, count: int, id_tag: str, warmup: float, window: float) -> dict[str, Any]:
        """``count`` stations loop StartTransaction → 3 MeterValues → StopTransaction; the CALLRESULTs
        received within ``window`` seconds after ``warmup`` are counted."""
        began = time.monotonic()
        opens, closes = began + warmup, began + warmup + window
        counted = [0, 0]  # within the window, in all
        errors: list[str] = []
        refused: list[str] = []

        def answered() -> None:
            counted[1] += 1
            if opens <= time.monotonic() < closes:
                counted[0] += 1

        async def loop(station: Station) -> None:
            base = datetime(2026, 1, 1, tzinfo=UTC)
            meter = 0
            # The EVSE the CDRs name: the hub publishes the Location once a connector reported.
            await station.call(
                "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
            )
            for number in itertools.count():
                if time.monotonic() >= closes:
                    return
                at = base + timedelta(hours=number)
                started = await station.call(
                    "StartTransaction",
                    {"connectorId": 1, "idTag": id_tag, "meterStart": meter, "timestamp": _stamp(at)},
                )
                answered()
                if started["idTagInfo"]["status"] != "Accepted":
                    refused.append(str(started["idTagInfo"]["status"]))
                    return
                transaction_id = started["transactionId"]
                for step in range(1, 4):
                    meter += 2_500
                    sample = {
                        "timestamp": _stamp(at + timedelta(minutes=10 * step)),
                        "sampledValue": [
                            {"value": str(meter), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
                        ],
                    }
                    await station.call(
                        "MeterValues",
                        {"connectorId": 1, "transactionId": transaction_id, "meterValue": [sample]},
                    )
                    answered()
                await station.call(
                    "StopTransaction",
                    {
                        "transactionId": transaction_id,
                        "meterStop": meter,
                        "timestamp": _stamp(at + timedelta(minutes=40)),
                    },
                )
                answered()

        async def guarded(station: Station) -> None:
            try:
                await loop(station)
            except (CallFailed, KeyError, TypeError) as error:
                errors.append(f"{station.station_id}: {type(error).__name__}: {error}")

        await asyncio.gather(*(guarded(s) for s in self.held[:count]))
        return {
            "events": counted[0],
            "all_events": counted[1],
            "refused": refused[:3],
            "errors": errors[:3],
            "failed": len(errors),
        }

    async def close(self) -> None:
        await asyncio.gather(*(s.close() for s in self.held), return_exceptions=True)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def serve(base_url: str, password: str) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async with ClientSession(connector=TCPConnector(limit=0)) as http:
        stations = Stations(http, base_url, password)
        try:
            while line := await reader.readline():
                command = json.loads(line)
                op = command.pop("op")
                if op == "exit":
                    break
                answer = await getattr(stations, op)(**command)
                sys.stdout.write(json.dumps(answer) + "\n")
                sys.stdout.flush()
        finally:
            await stations.close()


if __name__ == "__main__":
    try:
        import uvloop
    except ImportError:  # the standard loop does the same, with a little more CPU
        asyncio.run(serve(sys.argv[1], sys.argv[2]))
    else:
        uvloop.run(serve(sys.argv[1], sys.argv[2]))
