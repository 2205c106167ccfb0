"""The routing fixtures: a small roaming network around the hub."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from hub.keys import background_key, jobs_key
from tests.conftest import Hub
from tests.support.network import Member, join
from tests.support.party import Party, Received

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


def of(member: Member, module: str) -> list[Received]:
    return [r for r in member.party.received if r.module == module]
