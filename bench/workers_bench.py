"""Worker figures (printed, never asserted): outbox deliveries per second to one receiver through
real Celery worker processes on a real Redis, and the time from one broadcast Location to its
delivery at 200 receivers.

Redis, the receiving party and the workers are separate processes on 127.0.0.1; the store is an
SQLite file in a temporary directory. Counts are fixed, so the run ends by itself.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from bench.processes import ROOT, free_port, start, stop
from hub.app import create_app
from hub.bootstrap import build_services
from hub.observability import configure_logging
from hub.ocpi.v2_2_1.common import Role
from hub.ocpi.v2_2_1.hubclientinfo import ConnectionStatus
from hub.outbox.records import Delivery
from hub.platforms import IssuedToken, PartyRole, Platform, PlatformEndpoint, TokenKind
from hub.queue import CeleryJobs, sending_app
from hub.secrets import generate_key, token_digest
from hub.services import Services
from settings import Settings, load_settings
from tests.support import objects
from tests.support.processes import RedisServer, hub_environment

DELIVERIES = 6_000
RECEIVERS = 200
FAN_OUT_ROUNDS = 5
TOKEN_B = "bench-receiver-token"  # noqa: S105 - a benchmark's party
CPO_TOKEN = "bench-cpo-token-c"  # noqa: S105


async def main() -> None:
    configure_logging("WARNING", "json")
    print("Workers: Celery on Redis, SQLite store, every process on 127.0.0.1")
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        party_port, hub_port = free_port(), free_port()
        redis = RedisServer(workdir / "redis")
        await redis.start()
        party = await start(
            ["bench/party_server.py", str(party_port), TOKEN_B],
            ready_url=f"http://127.0.0.1:{party_port}/ocpi/versions",
        )
        settings = load_settings(
            public_url=f"http://127.0.0.1:{hub_port}",
            data_dir=workdir / "var",
            secret_key=generate_key(),
            broker_url=redis.url,
            log_level="WARNING",
        )
        services = await build_services(settings)
        try:
            for processes in (1, 2):
                await deliveries_per_second(settings, services, party_port, processes, workdir)
            await fan_out(settings, services, party_port, hub_port, workdir)
        finally:
            await services.close()
            await stop(party)
            await redis.stop()


async def start_workers(
    settings: Settings, processes: int, workdir: Path
) -> list[asyncio.subprocess.Process]:
    started = []
    for number in range(processes):
        log = await asyncio.to_thread((workdir / f"worker-{processes}-{number}.log").open, "ab")
        started.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "hub",
                "worker",
                "--name",
                f"bench-{processes}-{number}@%h",
                cwd=ROOT,
                env=hub_environment(settings, HUB_LOG_LEVEL="WARNING"),
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        )
        await asyncio.to_thread(log.close)
    return started


async def stop_workers(workers: list[asyncio.subprocess.Process]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        await worker.wait()


def receiver(number: int, party_port: int, services: Services) -> Platform:
    base = f"http://127.0.0.1:{party_port}/ocpi/2.2.1"
    return Platform(
        name=f"receiver {number}",
        status=ConnectionStatus.CONNECTED,
        registered=True,
        roles=[PartyRole(role=Role.EMSP, country_code="DE", party_id=f"{number:03d}")],
        version="2.2.1",
        endpoints=[
            PlatformEndpoint(identifier="locations", role="RECEIVER", url=f"{base}/receiver/locations")
        ],
        outgoing_token=services.cipher.encrypt(TOKEN_B),
    )


def delivered(database: Path, since: float) -> int:
    with sqlite3.connect(database) as connection:
        row = connection.execute(
            "SELECT count(*) FROM outbox WHERE state = 'DELIVERED' AND created_at >= ?", (int(since * 1e6),)
        ).fetchone()
    return int(row[0])


async def wait_delivered(settings: Settings, count: int, since: float, *, within: float = 300) -> float:
    database = settings.sqlite_path
    assert database is not None
    deadline = time.perf_counter() + within
    while (done := await asyncio.to_thread(delivered, database, since)) < count:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"only {done} of {count} delivered")
        await asyncio.sleep(0.02)
    return time.perf_counter()


def location_delivery(platform: Platform, number: int, body: str, now: float) -> Delivery:
    from datetime import UTC, datetime

    moment = datetime.fromtimestamp(now, UTC)
    return Delivery(
        target_platform_id=platform.id,
        to_country_code="DE",
        to_party_id=platform.roles[0].party_id,
        from_country_code="NL",
        from_party_id="HUB",
        method="PUT",
        url=f"{platform.endpoints[0].url}/NL/CPO/LOC{number}",
        body=body,
        module="locations",
        object_key=f"locations|NL|CPO|LOC{number}",
        object_version="2025-01-01T10:00:00Z",
        created_at=moment,
        next_attempt_at=moment,
    )


async def deliveries_per_second(
    settings: Settings, services: Services, party_port: int, processes: int, workdir: Path
) -> None:
    platform = receiver(processes, party_port, services)
    await services.store.platforms.add(platform)
    body = json.dumps(objects.location(evses=10))
    jobs = CeleryJobs(sending_app(settings))
    workers = await start_workers(settings, processes, workdir)
    try:
        # Warm up: the workers start, open the store and the HTTP pool.
        since = time.time()
        warm = [location_delivery(platform, -n - 1, body, since) for n in range(200)]
        await services.store.outbox.add(warm)
        for start_at in range(0, len(warm), 100):
            await jobs.deliver([d.id for d in warm[start_at : start_at + 100]])
        await wait_delivered(settings, len(warm), since, within=120)

        since = time.time()
        batch = [location_delivery(platform, n, body, since) for n in range(DELIVERIES)]
        await services.store.outbox.add(batch)
        began = time.perf_counter()
        for start_at in range(0, len(batch), 100):
            await jobs.deliver([d.id for d in batch[start_at : start_at + 100]])
        ended = await wait_delivered(settings, DELIVERIES, since)
        rate = DELIVERIES / (ended - began)
        print(
            f"  {DELIVERIES} deliveries of a {len(body) / 1024:.1f} KB Location to one receiver, "
            f"{processes} worker process{'es' if processes > 1 else ''}: "
            f"{rate:,.0f} deliveries/s ({rate / processes:,.0f} per process)"
        )
    finally:
        await jobs.close()
        await stop_workers(workers)


async def fan_out(
    settings: Settings, services: Services, party_port: int, hub_port: int, workdir: Path
) -> None:
    for number in range(RECEIVERS):
        await services.store.platforms.add(receiver(100 + number, party_port, services))
    cpo = Platform(
        name="cpo",
        status=ConnectionStatus.CONNECTED,
        registered=True,
        roles=[PartyRole(role=Role.CPO, country_code="NL", party_id="CPO")],
        version="2.2.1",
        tokens=[IssuedToken(digest=token_digest(CPO_TOKEN), kind=TokenKind.CREDENTIALS)],
    )
    await services.store.platforms.add(cpo)
    # Earlier platforms of this run also receive broadcasts; count every receiver.
    receivers = sum(1 for p in await services.store.platforms.all() if p.endpoints)
    workers = await start_workers(settings, 2, workdir)
    server = TestServer(create_app(settings, services=services), host="127.0.0.1", port=hub_port)
    await server.start_server()
    headers = {
        "Authorization": "Token " + base64.b64encode(CPO_TOKEN.encode()).decode(),
        "OCPI-from-country-code": "NL",
        "OCPI-from-party-id": "CPO",
        "OCPI-to-country-code": "NL",
        "OCPI-to-party-id": "HUB",
    }
    timings = []
    try:
        async with ClientSession() as http:
            for round_ in range(FAN_OUT_ROUNDS + 1):
                location = objects.location(evses=10, last_updated=f"2025-01-01T10:00:{round_:02d}Z")
                since = time.time()
                began = time.perf_counter()
                async with http.put(
                    f"{settings.public_url}/ocpi/2.2.1/receiver/locations/NL/CPO/LOC1",
                    json=location,
                    headers=headers,
                ) as response:
                    assert (await response.json())["status_code"] == 1000
                ended = await wait_delivered(settings, receivers, since, within=120)
                if round_:  # the first round warms the workers up
                    timings.append(ended - began)
        print(
            f"  one Location broadcast to {receivers} receivers, 2 worker processes: all delivered in "
            f"{statistics.median(timings) * 1000:,.0f} ms (median of {FAN_OUT_ROUNDS})"
        )
    finally:
        await server.close()
        await stop_workers(workers)
