"""A pull run by a real Celery worker, killed in the middle, resumes where it stopped: the hub
pulls a new CPO's 5,000 Locations in pages of 50, the worker dies half-way, another worker carries
on from the last completed page, and the mirror ends with exactly 5,000."""

from __future__ import annotations

import asyncio

from aiohttp import web

from hub.ocpi.envelope import envelope
from tests.conftest import Hub
from tests.integration.conftest import StartParty
from tests.support import objects
from tests.support.network import CPO_MODULES
from tests.support.paging import Paging
from tests.support.party import PartyBehaviour, Received, role
from tests.workers.conftest import StartProcess, eventually

COUNT = 5_000


async def mirrored(hub: Hub) -> int:
    _, total = await hub.services.store.mirror.page(
        "locations", viewer_keys=None, date_from=None, date_to=None, after_seq=None, offset=0, limit=1
    )
    return total


async def test_a_pull_killed_in_the_middle_resumes_and_mirrors_every_location_once(
    hub: Hub, start_party: StartParty, start_process: StartProcess
) -> None:
    async def slowly(_: int) -> None:
        await asyncio.sleep(0.03)

    paging = Paging(
        [objects.location(location_id=f"L{n:04d}", evses=1) for n in range(COUNT)],
        max_limit=50,
        before_page=slowly,
    )

    async def sender(request: web.Request, received: Received) -> web.StreamResponse:
        if received.module == "locations":
            return await paging(request, received)
        return web.json_response(envelope([]))

    cpo = await start_party(token_b="cpo-token-b", behaviour=PartyBehaviour(modules=list(CPO_MODULES)))
    cpo.handler = sender
    worker = await start_process("worker", name="worker-one")
    await start_process("beat")
    # Registering starts a full pull at once, on the worker.
    await hub.register(cpo, await hub.invite("cpo"), [role("CPO", "NL", "CPO")])

    async def some_pages_done() -> bool:
        return await mirrored(hub) >= 1_000

    await eventually(some_pages_done, within=60, what="1,000 Locations mirrored")
    await worker.kill()
    [platform] = await hub.services.store.platforms.by_party("NL", "CPO")
    checkpoint = await hub.services.store.pulls.get(platform.id, "locations")
    assert checkpoint is not None and checkpoint.next_url is not None and checkpoint.last_completed_at is None
    done_at_kill = checkpoint.pages
    assert 20 <= done_at_kill < COUNT // 50, done_at_kill
    served_at_kill = len(paging.served)

    await start_process("worker", name="worker-two")

    async def all_mirrored() -> bool:
        current = await hub.services.store.pulls.get(platform.id, "locations")
        return current is not None and current.last_completed_at is not None

    await eventually(all_mirrored, within=120, what="the pull to complete")
    assert await mirrored(hub) == COUNT
    # The second worker carried on from the last completed page: it never went back to the start.
    offsets = [s.offset for s in paging.served]
    assert offsets.count(0) == 1
    assert min(offsets[served_at_kill:]) >= (done_at_kill - 1) * 50
    assert sorted(set(offsets)) == list(range(0, COUNT, 50))
