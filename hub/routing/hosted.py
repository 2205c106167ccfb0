"""The port through which the router hands a request for a hosted CPO to whoever answers for it.

A hosted CPO (``Platform.hosted``) has no OCPI platform of its own: its stations are attached to the
hub over OCPP, and the hub answers in its name. The router keeps to OCPI: it checks who is asking
(a party acts only as itself), finds that the receiver is hosted, and passes the request on here;
the answer comes back as OCPI data, which the router puts in the envelope with the routing headers
of a reply from the CPO. The OCPP side implements it (``hub.ocpp.remote_control``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from hub.ocpi.base import OcpiModel
from hub.ocpi.status import OcpiStatus
from hub.ocpi.v2_2_1.versions import ModuleID
from hub.platforms import Platform
from hub.routing.table import PartyRef

# What a hosted CPO answers through the port: the receiver interfaces of commands and profiles.
HOSTED_MODULES = frozenset({ModuleID.COMMANDS, ModuleID.CHARGING_PROFILES})


@dataclass(frozen=True)
class HostedRequest:
    """A request of ``origin`` (on ``origin_platform``) to the hosted CPO ``cpo``, already checked
    against its OCPI model (``parsed``)."""

    method: str
    module: ModuleID
    tail: tuple[str, ...]
    query: Mapping[str, str]
    parsed: OcpiModel | None
    origin: PartyRef
    origin_platform: Platform
    cpo: PartyRef
    correlation_id: str


@dataclass(frozen=True)
class HostedAnswer:
    """What the hosted CPO answers: the envelope's ``data`` and status."""

    data: Mapping[str, Any] | None
    status_code: int = OcpiStatus.SUCCESS
    message: str | None = None


class HostedParties(Protocol):
    async def answer(self, request: HostedRequest) -> HostedAnswer:
        """The hosted CPO's answer to a commands or chargingprofiles RECEIVER request."""
        ...
