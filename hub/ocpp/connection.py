"""The websocket under the ``ocpp`` library: an aiohttp ``WebSocketResponse`` with the
``recv()``/``send()`` pair the library expects (guide §2.1)."""

from __future__ import annotations

from aiohttp import WSCloseCode, WSMsgType, web


class StationDisconnected(ConnectionError):
    """The station's websocket closed (or was closed); nothing more can be read from or sent to it."""


class AiohttpConnection:
    """One station's socket. Exactly one task reads (``recv``); any task may ``send``."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self._ws = ws

    async def recv(self) -> str:
        """The next text frame. Raises ``StationDisconnected`` once the socket closes, so a loop over
        ``recv`` ends instead of spinning on empty reads."""
        message = await self._ws.receive()
        if message.type is WSMsgType.TEXT:
            return str(message.data)
        if message.type is WSMsgType.BINARY:
            # OCPP-J sends JSON in text frames only (1.6-J §4.1.3, 2.0.1 part 4 §4.1.3).
            await self._ws.close(code=WSCloseCode.UNSUPPORTED_DATA, message=b"OCPP-J uses text frames")
        raise StationDisconnected(f"websocket closed ({message.type.name})")

    async def send(self, text: str) -> None:
        if self._ws.closed:
            raise StationDisconnected("websocket closed")
        await self._ws.send_str(text)

    async def close(self, code: int, message: str) -> None:
        await self._ws.close(code=code, message=message.encode())
