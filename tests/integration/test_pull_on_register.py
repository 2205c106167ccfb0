"""A party that registers is pulled at once: its data is served by GET all via the hub, and
broadcast to the other parties, without waiting for the pull schedule."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hub.ocpi.envelope import envelope
from tests.conftest import Hub
from tests.integration.conftest import StartParty, of, settle
from tests.support import objects
from tests.support.network import CPO_MODULES, join
from tests.support.paging import Paging
from tests.support.party import PartyBehaviour, Received, role


async def test_a_new_cpo_is_pulled_right_after_it_registers(hub: Hub, start_party: StartParty) -> None:
    msp = await join(hub, start_party, "EMSP", "DE", "MSP")
    await settle(hub)
    msp.party.received.clear()

    cpo = await start_party(token_b="cpo-token-b", behaviour=PartyBehaviour(modules=list(CPO_MODULES)))
    documents = [objects.location(location_id=f"L{n}", evses=1) for n in range(12)]
    paging = Paging(documents, max_limit=5)

    async def sender(request: web.Request, received: Received) -> web.StreamResponse:
        if received.module == "locations":
            return await paging(request, received)
        return web.json_response(envelope([]))  # nothing else to pull

    cpo.handler = sender
    await hub.register(cpo, await hub.invite("cpo"), [role("CPO", "NL", "CPO")])
    await settle(hub)

    # A full pull: from the start, no date_from, page after page as the party's Link said.
    assert [(s.offset, s.limit, s.date_from) for s in paging.served] == [
        (0, 5, None),
        (5, 5, None),
        (10, 5, None),
    ]
    records, total = await hub.services.store.mirror.page(
        "locations", viewer_keys=None, date_from=None, date_to=None, after_seq=None, offset=0, limit=100
    )
    assert total == 12
    assert [r.object_id for r in records] == [f"L{n}" for n in range(12)]

    response = await msp.call("GET", "/ocpi/2.2.1/sender/locations", to=("NL", "HUB"))
    body: dict[str, Any] = await response.json()
    assert [d["id"] for d in body["data"]] == [f"L{n}" for n in range(12)]
    # ... and each Location reached the eMSP as a broadcast.
    assert sorted(r.path for r in of(msp, "locations")) == sorted(f"/NL/CPO/L{n}" for n in range(12))
