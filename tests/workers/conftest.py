"""The worker fixtures: a real Redis, the hub under test sending jobs to it, and real Celery worker
and scheduler processes sharing the hub's SQLite file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from hub.outbox.records import Delivery, DeliveryState
from hub.secrets import generate_key
from hub.services import Services
from settings import Settings, load_settings
from tests.support.processes import HubProcess, RedisServer, hub_environment


@pytest.fixture
def settings(tmp_path: Path, hub_port: int, redis: RedisServer) -> Settings:
    return load_settings(
        public_url=f"http://127.0.0.1:{hub_port}",
        data_dir=tmp_path / "var",
        secret_key=generate_key(),
        country_code="NL",
        party_id="HUB",
        broker_url=redis.url,
        request_timeout=2,
        connect_timeout=1,
        claim_margin=1,
        sweep_interval=0.5,
        retry_first_delay=0.2,
        retry_max_interval=1,
        scheduler_lock_timeout=3,
        platform_cache_seconds=0.2,
    )


StartProcess = Callable[..., Awaitable[HubProcess]]


@pytest.fixture
async def start_process(settings: Settings, tmp_path: Path) -> AsyncIterator[StartProcess]:
    """Start ``python -m hub <args>`` with the hub's settings; every one is stopped at the end."""
    started: list[HubProcess] = []

    async def start(*args: str, name: str | None = None) -> HubProcess:
        label = name or f"{args[0]}-{len(started)}"
        process = HubProcess(hub_environment(settings), tmp_path / f"{label}.log", *args)
        started.append(process)
        return await process.start()

    yield start
    for process in started:
        await process.stop()


async def eventually(
    check: Callable[[], Awaitable[bool]], *, within: float = 30, what: str = "condition"
) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.1)


async def deliveries(services: Services, state: DeliveryState) -> list[Delivery]:
    return await services.store.outbox.by_state(state, limit=100_000)
