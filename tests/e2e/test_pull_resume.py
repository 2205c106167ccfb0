"""An operator's pull killed half-way, with real processes: ``python -m hub pull`` walks a party's
5,000 Locations in pages of 50, dies by SIGKILL in the middle, and the same command run again carries
on from the last page it had finished, ending with every Location mirrored exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from hub.ocpi.v2_2_1.common import Role
from hub.ocpi.v2_2_1.hubclientinfo import ConnectionStatus
from hub.platforms import PartyRole, Platform, PlatformEndpoint
from hub.services import Services
from settings import Settings
from tests.e2e.test_cli_and_serve import ROOT
from tests.support import objects
from tests.support.paging import Paging
from tests.support.party import Party

LOCATIONS = 5_000
PAGE = 50
KILLED_AT_PAGE = 40


def environment(settings: Settings) -> dict[str, str]:
    """The hub's settings for the CLI process: same data directory, same key (it decrypts the token
    the hub holds for the party), and a short lease so a killed run's claim soon runs out."""
    assert settings.secret_key is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    return env | {
        "HUB_DATA_DIR": str(settings.data_dir),
        "HUB_SECRET_KEY": settings.secret_key.get_secret_value(),
        "HUB_PUBLIC_URL": settings.public_url,
        "HUB_COUNTRY_CODE": settings.country_code,
        "HUB_PARTY_ID": settings.party_id,
        "HUB_PAGE_LIMITS": json.dumps({"locations": PAGE}),
        "HUB_REQUEST_TIMEOUT": "1",
        "HUB_CLAIM_MARGIN": "0.25",
        "HUB_LOG_FORMAT": "json",
    }


async def registered_cpo(services: Services, party: Party) -> Platform:
    """The party as the credentials handshake leaves it: registered, connected, its Sender endpoint
    known and its token B kept encrypted."""
    platform = Platform(
        name="CPO",
        registered=True,
        status=ConnectionStatus.CONNECTED,
        version="2.2.1",
        versions_url=party.versions_url,
        roles=[PartyRole(role=Role.CPO, country_code="NL", party_id="CPO")],
        endpoints=[
            PlatformEndpoint(
                identifier="locations", role="SENDER", url=party.endpoint_url("locations", "SENDER")
            )
        ],
        outgoing_token=services.cipher.encrypt(party.token_b),
    )
    await services.store.platforms.add(platform)
    return platform


async def start_pull(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub",
        "pull",
        "NL*CPO",
        "locations",
        *args,
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_a_killed_pull_is_carried_on_from_its_last_page_by_the_next_run(
    settings: Settings, services: Services, start_party: Callable[..., Awaitable[Party]], tmp_path: Path
) -> None:
    party = await start_party()
    running: list[asyncio.subprocess.Process] = []

    async def kill_in_the_middle(number: int) -> None:
        if number == KILLED_AT_PAGE and len(running) == 1:
            running[0].send_signal(signal.SIGKILL)  # while it waits for this page

    paging = Paging(
        [objects.location(location_id=f"L{i:05d}", evses=0) for i in range(LOCATIONS)],
        max_limit=PAGE,
        before_page=kill_in_the_middle,
    )
    party.handler = paging
    platform = await registered_cpo(services, party)
    env = environment(settings)

    first = await start_pull(env)
    running.append(first)
    await asyncio.wait_for(first.communicate(), timeout=60)
    assert first.returncode == -signal.SIGKILL

    checkpoint = await services.store.pulls.get(platform.id, "locations")
    assert checkpoint is not None
    assert checkpoint.in_progress
    assert (checkpoint.pages, checkpoint.objects) == (KILLED_AT_PAGE - 1, (KILLED_AT_PAGE - 1) * PAGE)
    assert checkpoint.next_url is not None and f"offset={(KILLED_AT_PAGE - 1) * PAGE}" in checkpoint.next_url
    _, total = await services.store.mirror.page(
        "locations", viewer_keys=None, date_from=None, date_to=None, after_seq=None, offset=0, limit=1
    )
    assert total == (KILLED_AT_PAGE - 1) * PAGE

    # The dead run's lease runs out; then the same command carries the pull on.
    assert checkpoint.running_until is not None
    await asyncio.sleep(max(0.0, (checkpoint.running_until - services.clock()).total_seconds()) + 0.1)
    served_before = len(paging.served)
    second = await start_pull(env, "--json")
    running.append(second)
    stdout, stderr = await asyncio.wait_for(second.communicate(), timeout=60)
    assert second.returncode == 0, stderr.decode()

    result = json.loads(stdout)
    assert result["status"] == "completed"
    assert (result["resumed"], result["pages_before"]) == (True, KILLED_AT_PAGE - 1)
    assert (result["pages"], result["objects"], result["invalid"]) == (LOCATIONS // PAGE, LOCATIONS, 0)
    carried_on = paging.served[served_before:]
    assert carried_on[0].offset == (KILLED_AT_PAGE - 1) * PAGE  # not page 1 again
    assert [s.offset for s in carried_on] == list(range((KILLED_AT_PAGE - 1) * PAGE, LOCATIONS, PAGE))
    # One pull, across both runs.
    assert {s.headers["X-Correlation-ID"] for s in paging.served} == {
        paging.served[0].headers["X-Correlation-ID"]
    }

    records, total = await services.store.mirror.page(
        "locations",
        viewer_keys=None,
        date_from=None,
        date_to=None,
        after_seq=None,
        offset=0,
        limit=LOCATIONS + 1,
    )
    assert total == LOCATIONS
    assert [r.object_id for r in records] == [f"L{i:05d}" for i in range(LOCATIONS)]
    done = await services.store.pulls.get(platform.id, "locations")
    assert done is not None
    assert not done.in_progress
    assert done.last_completed_at is not None
