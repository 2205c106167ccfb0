"""Calls from the hub to a station, wherever the station is connected.

``StationCalls.call`` is what commands and charging profiles use: it sends one OCPP CALL (an
``ocpp.v16.call`` / ``ocpp.v201.call`` dataclass) to the station and returns the CALLRESULT
dataclass. A station connected to this process is called directly through its ``StationLink``;
one held by another hub process is reached through the ``Relay`` when one is configured
(``hub.ocpp.relay``). Which process holds a station is shared through the relay as well.

Errors: ``StationDisconnected`` when no process holds the station (or it dropped while the call
waited), ``TimeoutError`` when it did not answer in time, the library's ``OCPPError`` subclass for a
CALLERROR.
"""

from __future__ import annotations

from typing import Any, Protocol

from hub.ocpp.connection import StationDisconnected
from hub.ocpp.link import StationLink


class Links(Protocol):
    """The stations connected to this process (``hub.ocpp.server.Registry``)."""

    def get(self, station_id: str) -> StationLink | None: ...


class Relay(Protocol):
    """Calls to stations held by other hub processes."""

    async def holder(self, station_id: str) -> str | None:
        """The id of the process that holds the station, or None when none does."""
        ...

    async def call(self, station_id: str, request: Any) -> Any:
        """Send ``request`` to the process that holds the station and return the station's answer."""
        ...


class StationCalls:
    def __init__(self, links: Links, relay: Relay | None = None) -> None:
        self._links = links
        self._relay = relay

    async def connected(self, station_id: str) -> bool:
        """Whether some hub process holds an open connection of the station."""
        if self._links.get(station_id) is not None:
            return True
        return self._relay is not None and await self._relay.holder(station_id) is not None

    async def call(self, station_id: str, request: Any) -> Any:
        link = self._links.get(station_id)
        if link is not None:
            return await link.call(request)
        if self._relay is not None:
            return await self._relay.call(station_id, request)
        raise StationDisconnected(f"station {station_id} is not connected")
