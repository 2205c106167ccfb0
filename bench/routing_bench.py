"""Routing figures (printed, never asserted): a routed PUT of a ~3 KB Location between two party
processes through the hub, against the same load through a bare aiohttp pass-through proxy and
straight to the party, in the same run; and GET all via the hub over 10,000 mirrored Locations.

Everything listens on 127.0.0.1; request counts are fixed, so the run ends by itself.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import ClientSession, TCPConnector, web

from bench.party_server import make_app as party_app
from bench.processes import ROOT, free_port, start, stop
from hub.mirror.records import MirroredModule, MirrorRecord
from hub.ocpi.types import parse_datetime
from hub.secrets import generate_key
from hub.store.sqlite import SqliteStore
from tests.support import objects

REQUESTS = 3000
CONCURRENCY = 16
MIRRORED = 10_000

# Walks through every page that are timed (after one that warms up).
WALKS = 5


def token_header(token: str) -> str:
    return "Token " + base64.b64encode(token.encode()).decode()


async def load(url_of: object, headers: dict[str, str], bodies: list[bytes]) -> tuple[float, list[float]]:
    """PUT every body with CONCURRENCY requests in flight; (requests/s, latencies)."""
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(bodies)):
        queue.put_nowait(index)
    async with ClientSession(connector=TCPConnector(limit=CONCURRENCY)) as http:

        async def worker() -> None:
            while not queue.empty():
                index = queue.get_nowait()
                started = time.perf_counter()
                async with http.put(url_of(index), data=bodies[index], headers=headers) as response:  # type: ignore[operator]
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"HTTP {response.status}: {await response.text()}")
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    return len(bodies) / elapsed, latencies


def quantile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


async def seed_mirror(path: Path) -> None:
    store = await SqliteStore.open(path)
    try:
        for index in range(MIRRORED):
            document = objects.location("NL", "CPO", f"M{index:05d}", evses=1)
            await store.mirror.save(
                MirrorRecord(
                    module=MirroredModule.LOCATIONS,
                    country_code="NL",
                    party_id="CPO",
                    object_id=document["id"],
                    document=document,
                    last_updated=parse_datetime(document["last_updated"]),
                )
            )
    finally:
        await store.close()


async def register(
    http: ClientSession, hub: str, env: dict[str, str], name: str, body: dict[str, object]
) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub",
        "parties",
        "invite",
        "--name",
        name,
        "--json",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    output, _ = await process.communicate()
    token_a = json.loads(output)["token_a"]
    async with http.post(
        f"{hub}/ocpi/2.2.1/credentials", json=body, headers={"Authorization": token_header(token_a)}
    ) as response:
        answer = await response.json()
    if answer["status_code"] != 1000:
        raise RuntimeError(f"registration failed: {answer}")
    return str(answer["data"]["token"])


async def main() -> None:
    for event_loop in ("uvloop", "asyncio"):
        await compare(event_loop, with_get_all=event_loop == "uvloop")


async def compare(event_loop: str, *, with_get_all: bool) -> None:
    with tempfile.TemporaryDirectory() as directory:
        data_dir = Path(directory)
        hub_port, party_port, bare_port, cpo_port = free_port(), free_port(), free_port(), free_port()
        hub = f"http://127.0.0.1:{hub_port}"
        party = f"http://127.0.0.1:{party_port}"
        env = {
            **os.environ,
            "HUB_DATA_DIR": str(data_dir),
            "HUB_PUBLIC_URL": hub,
            "HUB_EVENT_LOOP": event_loop,
            "HUB_SECRET_KEY": generate_key(),
            "HUB_LOG_LEVEL": "WARNING",
        }
        if with_get_all:
            await seed_mirror(data_dir / "hub.sqlite3")

        processes = [
            await start(
                ["bench/party_server.py", str(party_port), "emsp-token-b"], ready_url=f"{party}/ocpi/versions"
            ),
            await start(["-m", "hub", "serve", "--port", str(hub_port)], env=env, ready_url=f"{hub}/healthz"),
            await start(
                ["bench/bare_proxy.py", str(bare_port), party],
                env=env,
                ready_url=f"http://127.0.0.1:{bare_port}/",
            ),
        ]
        # The CPO's own versions endpoint, needed only while it registers.
        runner = web.AppRunner(party_app(cpo_port, "cpo-token-b"))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", cpo_port).start()
        try:
            async with ClientSession() as http:

                def credentials(token: str, port: int, role: str, cc: str, pid: str) -> dict[str, object]:
                    return {
                        "token": token,
                        "url": f"http://127.0.0.1:{port}/ocpi/versions",
                        "roles": [
                            {
                                "role": role,
                                "business_details": {"name": pid},
                                "country_code": cc,
                                "party_id": pid,
                            }
                        ],
                    }

                await register(
                    http, hub, env, "emsp", credentials("emsp-token-b", party_port, "EMSP", "DE", "MSP")
                )
                cpo_token = await register(
                    http, hub, env, "cpo", credentials("cpo-token-b", cpo_port, "CPO", "NL", "CPO")
                )
            await runner.cleanup()

            bodies = [
                json.dumps(objects.location(location_id=f"L{i:05d}", evses=3)).encode()
                for i in range(REQUESTS)
            ]
            size = statistics.fmean(len(b) for b in bodies)
            path = "/ocpi/2.2.1/receiver/locations/NL/CPO/L{:05d}"
            routing = {
                "OCPI-from-country-code": "NL",
                "OCPI-from-party-id": "CPO",
                "OCPI-to-country-code": "DE",
                "OCPI-to-party-id": "MSP",
                "Content-Type": "application/json",
            }
            cases = {
                "straight to the party": (
                    lambda i: party + path.format(i),
                    {**routing, "Authorization": token_header("emsp-token-b")},
                ),
                "bare aiohttp proxy": (
                    lambda i: f"http://127.0.0.1:{bare_port}" + path.format(i),
                    {**routing, "Authorization": token_header("emsp-token-b")},
                ),
                "through the hub": (
                    lambda i: hub + path.format(i),
                    {**routing, "Authorization": token_header(cpo_token)},
                ),
            }
            print(
                f"routed PUT of a {size:,.0f}-byte Location, {REQUESTS} requests, {CONCURRENCY} in flight, "
                f"hub and proxy on {event_loop}"
            )
            results: dict[str, tuple[float, list[float]]] = {}
            for name, (url_of, headers) in cases.items():
                await load(url_of, headers, bodies[:200])  # warm up connections and caches
                results[name] = await load(url_of, headers, bodies)
                rate, latencies = results[name]
                print(
                    f"  {name:<24} {rate:8.0f} req/s   p50 {quantile(latencies, 0.5):6.2f} ms"
                    f"   p99 {quantile(latencies, 0.99):6.2f} ms"
                )
            hub_rate, hub_lat = results["through the hub"]
            bare_rate, bare_lat = results["bare aiohttp proxy"]
            _, direct_lat = results["straight to the party"]
            print(f"  hub / bare proxy throughput: {hub_rate / bare_rate:.2f}x")
            direct_p99 = quantile(direct_lat, 0.99)
            print(
                f"  added p99 over straight to the party: hub {quantile(hub_lat, 0.99) - direct_p99:.2f} ms,"
                f" bare proxy {quantile(bare_lat, 0.99) - direct_p99:.2f} ms"
            )
            if with_get_all:
                await get_all(hub, env)
        finally:
            for process in processes:
                await stop(process)


async def get_all(hub: str, env: dict[str, str]) -> None:
    """Walk every page of the mirror as an eMSP, following Link."""
    runner_port = free_port()
    runner = web.AppRunner(party_app(runner_port, "reader-token-b"))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", runner_port).start()
    try:
        async with ClientSession() as http:
            token = await register(
                http,
                hub,
                env,
                "reader",
                {
                    "token": "reader-token-b",
                    "url": f"http://127.0.0.1:{runner_port}/ocpi/versions",
                    "roles": [
                        {
                            "role": "EMSP",
                            "business_details": {"name": "R"},
                            "country_code": "BE",
                            "party_id": "RDR",
                        }
                    ],
                },
            )
            headers = {
                "Authorization": token_header(token),
                "OCPI-from-country-code": "BE",
                "OCPI-from-party-id": "RDR",
                "OCPI-to-country-code": "NL",
                "OCPI-to-party-id": "HUB",
            }
            objects_seen = 0
            rates: list[float] = []
            for walk in range(1 + WALKS):  # the first walk warms up and counts the objects
                url: str | None = f"{hub}/ocpi/2.2.1/sender/locations?limit=100"
                pages = 0
                started = time.perf_counter()
                while url is not None:
                    async with http.get(url, headers=headers) as response:
                        body = await response.read()
                        link = response.links.get("next")
                    if walk == 0:  # the measured walks leave parsing to the client's taste
                        objects_seen += len(json.loads(body)["data"])
                    pages += 1
                    url = str(link["url"]) if link else None
                if walk > 0:
                    rates.append(pages / (time.perf_counter() - started))
            print(f"GET all via the hub over {MIRRORED:,} mirrored Locations, pages of 100:")
            print(
                f"  {pages} pages ({objects_seen:,} objects) per walk, {WALKS} walks: "
                f"best {max(rates):.0f} pages/s, median {statistics.median(rates):.0f} pages/s"
            )
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
