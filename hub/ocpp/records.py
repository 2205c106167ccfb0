"""What the hub keeps of a station attached over OCPP: one document per station.

Pure. The station belongs to a hosted CPO (``hub.hosted``); its id is the identity in the websocket
URL, unique without regard to case (``key``), because the OCPI ids made from it are CiStrings. The
record keeps what the station last said (boot, connector statuses, already mapped to OCPI), so a
hub process that did not see the messages can still build the Location.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from hub.ocpi.types import utc_now
from hub.ocpi.v2_2_1.locations import Status
from hub.platforms import party_key

OCPP16 = "ocpp1.6"
OCPP201 = "ocpp2.0.1"


class BootInfo(BaseModel):
    """What a BootNotification told about the station (guide §3.2)."""

    vendor: str
    model: str
    serial_number: str | None = None
    firmware_version: str | None = None
    meter_serial_number: str | None = None
    reason: str | None = None  # 2.0.1 only: why it booted
    booted_at: datetime


class ConnectorState(BaseModel):
    """The last status one connector reported. 1.6 numbers connectors only: ``evse`` is its
    connectorId and ``connector`` always 1 (one OCPI EVSE per 1.6 connector)."""

    evse: int
    connector: int
    ocpp_status: str  # as the station sent it
    status: Status  # its OCPI reading (``hub.ocpp.mapping``)
    error_code: str | None = None
    received_at: datetime


class Station(BaseModel):
    id: str
    country_code: str
    party_id: str
    password_hash: str  # ``hub.ocpp.passwords``; never shown
    location_id: str
    # The operator's Location file (``hub.ocpp.template``), kept as given.
    template: dict[str, Any]
    protocol: str | None = None  # the subprotocol of the last connection
    boot: BootInfo | None = None
    # 1.6 connectorId 0 Unavailable/Faulted: every EVSE of the station reads as this (guide §4.1).
    station_status: Status | None = None
    connectors: list[ConnectorState] = Field(default_factory=list)
    connected: bool = False
    connected_at: datetime | None = None
    disconnected_at: datetime | None = None
    # The last_updated of the Location last published, so the next one is never older, and the EVSE
    # statuses it showed (by EVSE number), so a message that changes nothing eMSPs see is not pushed.
    published_at: datetime | None = None
    published_statuses: dict[str, Status] = Field(default_factory=dict)
    # OCPP ids the hub hands out for this station (``hub.ocpp.ocpp_ids``): the last one given, and
    # which OCPI object holds which, so the same object always gets the same id. Reservations are
    # keyed ``{eMSP party key}*{RESERVATION_ID}``, charging profiles by upper-cased session id.
    last_ocpp_id: int = 0
    reservation_ids: dict[str, int] = Field(default_factory=dict)
    profile_ids: dict[str, int] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=utc_now)
    revision: int = 0

    @property
    def key(self) -> str:
        return self.id.upper()

    @property
    def cpo_key(self) -> str:
        return party_key(self.country_code, self.party_id)

    @property
    def location_key(self) -> str:
        """``NL*ABC*LOC1``: a Location id belongs to one station of its CPO."""
        return f"{self.cpo_key}*{self.location_id.upper()}"

    def connector(self, evse: int, connector: int) -> ConnectorState | None:
        return next((c for c in self.connectors if c.evse == evse and c.connector == connector), None)
