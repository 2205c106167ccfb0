"""The routing fixtures: a small roaming network around the hub."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from hub.keys import background_key, jobs_key
from hub.ocpp import operators
from hub.outbox.records import DeliveryState
from tests.conftest import Hub
from tests.support.network import Member, join
from tests.support.party import Party, Received
from tests.support.stations import STATION_PASSWORD, TEMPLATE, RunningStation, connect_station

StartParty = Callable[..., Awaitable[Party]]


@dataclass
class Network:
    hub: Hub
    cpo: Member
    msp: Member
    emp: Member


@pytest.fixture
async def net(hub: Hub, start_party: StartParty) -> Network:
    cpo = await join(hub, start_party, "CPO", "NL", "CPO")
    msp = await join(hub, start_party, "EMSP", "DE", "MSP")
    emp = await join(hub, start_party, "EMSP", "FR", "EMP")
    await settle(hub)
    for member in (cpo, msp, emp):
        member.party.received.clear()
    return Network(hub, cpo, msp, emp)


async def settle(hub: Hub) -> None:
    """Let the deliveries the hub started in the background finish."""
    await hub.server.app[background_key].idle()
    await hub.server.app[jobs_key].idle()


@pytest.fixture
async def hosted(net: Network) -> Network:
    """The network with a hosted CPO NL*ABC and its station CS001 (not connected yet); the Hub Client
    Info pushes announcing the CPO are delivered."""
    services = net.hub.services
    await operators.add_cpo(services, country_code="NL", party_id="ABC", name="Hub Charging")
    await operators.add_station(
        services, cpo="NL*ABC", station_id="CS001", template=TEMPLATE, password=STATION_PASSWORD
    )
    pending = await services.store.outbox.by_state(DeliveryState.PENDING, limit=100)
    await net.hub.server.app[jobs_key].deliver([d.id for d in pending])
    await settle(net.hub)
    return net


@pytest.fixture
async def stations(hosted: Network) -> AsyncIterator[list[RunningStation]]:
    """The stations a test connects (``connect``), closed at its end."""
    opened: list[RunningStation] = []
    yield opened
    for station in opened:
        await station.close()


async def connect(net: Network, opened: list[RunningStation], protocol: str) -> RunningStation:
    """Station CS001 of the hosted CPO, connected with ``protocol``."""
    station = await connect_station(net.hub.http, net.hub.base_url, "CS001", STATION_PASSWORD, protocol)
    opened.append(station)
    return station


def of(member: Member, module: str) -> list[Received]:
    return [r for r in member.party.received if r.module == module]
