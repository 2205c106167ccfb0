"""One open station connection: the reader, the worker for the station's CALLs, and hub→station calls.

The ``ocpp`` library handles one message at a time and awaits each handler, so a CALLRESULT for a
call the hub made could sit behind a handler that waits on it, until the call times out (guide §2.3).
Here the reader hands CALLRESULT and CALLERROR frames to the library at once (that only queues them
for the waiting ``call``) and queues the station's CALLs for one worker, which answers them in order.
When the socket closes, calls still waiting fail at once instead of at their timeout (gotcha 4).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import structlog
from aiohttp import WSCloseCode

from hub.ocpp.connection import AiohttpConnection, StationDisconnected

log = structlog.get_logger(__name__)

CALL, CALLRESULT, CALLERROR = 2, 3, 4
# CALLs read but not answered yet; a station that sends faster than the hub answers is slowed down by
# the socket instead of growing this queue (OCPP-J lets a station have one CALL outstanding anyway).
_BACKLOG = 16


def message_type(raw: str) -> int | None:
    """The MessageTypeId of an OCPP-J frame, or None when the frame is not one (the library's
    parser then says why in the log)."""
    try:
        frame = json.loads(raw)
    except ValueError:
        return None
    if isinstance(frame, list) and frame and isinstance(frame[0], int):
        return frame[0]
    return None


class StationLink:
    def __init__(
        self, station_id: str, protocol: str, connection: AiohttpConnection, charge_point: Any
    ) -> None:
        self.station_id = station_id
        self.protocol = protocol
        self._connection = connection
        self._charge_point = charge_point
        self._calls: asyncio.Queue[str] = asyncio.Queue(_BACKLOG)
        self._closed = asyncio.get_running_loop().create_future()

    @property
    def key(self) -> str:
        return self.station_id.upper()

    async def run(self) -> None:
        """Read until the socket closes."""
        worker = asyncio.create_task(self._answer_calls())
        try:
            while True:
                raw = await self._connection.recv()
                if message_type(raw) in (CALLRESULT, CALLERROR):
                    await self._charge_point.route_message(raw)
                else:
                    await self._calls.put(raw)
        except StationDisconnected:
            pass
        finally:
            if not self._closed.done():
                self._closed.set_result(None)
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    async def _answer_calls(self) -> None:
        while True:
            raw = await self._calls.get()
            try:
                await self._charge_point.route_message(raw)
            except StationDisconnected:
                return
            except Exception:
                # The library answers a handler's error itself; this is trouble past that (its
                # answer could not be sent). The reader notices a closed socket on its own.
                log.exception("ocpp_call_not_answered", station=self.station_id)

    async def call(self, payload: Any) -> Any:
        """Send a CALL and return the station's CALLRESULT payload.

        Raises the ``OCPPError`` subclass of a CALLERROR (never ``None``: ``suppress=False``),
        ``TimeoutError`` after the library's response timeout, ``StationDisconnected`` as soon as the
        socket closes. One call at a time per station (the library holds a lock while it waits).
        """
        if self._closed.done():
            raise StationDisconnected(f"station {self.station_id} is not connected")
        sent = asyncio.ensure_future(self._charge_point.call(payload, suppress=False))
        try:
            await asyncio.wait({sent, self._closed}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            sent.cancel()
            raise
        if not sent.done():
            sent.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sent
            raise StationDisconnected(f"station {self.station_id} disconnected while a call was waiting")
        return sent.result()

    async def close(self, code: int = WSCloseCode.GOING_AWAY, message: str = "") -> None:
        await self._connection.close(code, message)
