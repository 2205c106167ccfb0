"""OCPI 2.2.1 hub client info module (digest §6)."""

from __future__ import annotations

from enum import StrEnum

from hub.ocpi.base import OcpiModel
from hub.ocpi.types import CiString2, CiString3, OcpiDateTime
from hub.ocpi.v2_2_1.common import Role


class ConnectionStatus(StrEnum):
    CONNECTED = "CONNECTED"
    OFFLINE = "OFFLINE"
    PLANNED = "PLANNED"
    SUSPENDED = "SUSPENDED"


class ClientInfo(OcpiModel):
    """OCPI 2.2.1, hubclientinfo, 'ClientInfo object'."""

    party_id: CiString3
    country_code: CiString2
    role: Role
    status: ConnectionStatus
    last_updated: OcpiDateTime
