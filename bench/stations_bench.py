"""OCPP ingest figures (printed, never asserted): how many idle OCPP 1.6 stations one hub process
holds with heartbeats, the memory and CPU each costs, and transaction events per second.

The hub is a real ``python -m hub serve`` on an SQLite file in a temporary directory; the stations
are raw OCPP-J websocket clients in separate processes (``bench/station_clients.py``), so their CPU
does not come out of the hub's. Memory is the hub's VmRSS and CPU its utime + stime, from ``/proc``.

    python -m bench.stations_bench --stations 1000    # a quick run (default 10,000, or BENCH_STATIONS)

Station passwords are stored with scrypt at a bench strength (the hash carries its parameters and the
hub checks with those): at the production strength every connection costs a check of some 50 ms of
CPU, which for 10,000 stations alone would be minutes on two cores. That check is measured on its own
and printed beside the connect figures.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import os
import resource
import secrets
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiohttp import ClientSession

from bench.processes import ROOT, free_port, start, stop
from hub.bootstrap import build_services
from hub.observability import configure_logging
from hub.ocpi.v2_2_1.common import Role
from hub.ocpi.v2_2_1.hubclientinfo import ConnectionStatus
from hub.ocpp import operators
from hub.ocpp.passwords import check_password, hash_password
from hub.ocpp.records import Station
from hub.ocpp.tariffs import put_tariff
from hub.ocpp.template import check_template
from hub.platforms import IssuedToken, PartyRole, Platform, PlatformEndpoint, TokenKind
from hub.secrets import generate_key, token_digest
from hub.services import Services
from settings import load_settings
from tests.support import objects
from tests.support.processes import hub_environment
from tests.support.stations import TEMPLATE as STATION_TEMPLATE

STATIONS = int(os.environ.get("BENCH_STATIONS", "10000"))
# Client processes: every core but the one the hub runs on.
CLIENTS = max(1, min(4, (os.cpu_count() or 2) - 1))
BATCH = 1_000  # stations opened per ramp step, across the client processes
HEARTBEAT_SPREAD = 10.0  # seconds one heartbeat round is spread over
TRANSACTION_STATIONS = 50
TRANSACTION_WARMUP, TRANSACTION_WINDOW = 3.0, 15.0
PASSWORD = "bench-station-password-0001"  # noqa: S105 - a benchmark's stations
MSP_TOKEN = "bench-msp-token-c"  # noqa: S105
PARTY_TOKEN = "bench-msp-token-b"  # noqa: S105 - what the hub presents to the eMSP's app
ID_TAG = "BENCHTAG1"
# The tests' Location file, without their EVSE ids (those name the tests' CPO).
TEMPLATE: dict[str, Any] = {k: v for k, v in STATION_TEMPLATE.items() if k != "evses"} | {
    "name": "Bench Depot"
}


def bench_hash(password: str) -> str:
    """A ``hub.ocpp.passwords`` hash at scrypt N=16 instead of 2**14: same format, a cheap check."""
    n, r, p = 16, 8, 1
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    stored = f"scrypt${n}${r}${p}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
    assert check_password(password, stored)
    return stored


def vm_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """utime + stime of the whole process (every thread), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def prepare(services: Services, count: int, party_port: int) -> list[str]:
    """A hosted CPO with a tariff and ``count`` stations, and an eMSP (the party app on ``party_port``)
    whose token the stations' id tag is, receiving the Sessions and CDRs."""
    await operators.add_cpo(services, country_code="NL", party_id="BEN", name="Bench Charging")
    await put_tariff(services, cpo="NL*BEN", document=objects.tariff("NL", "BEN", "T1"))
    base = f"http://127.0.0.1:{party_port}/ocpi/2.2.1/receiver"
    msp = Platform(
        name="bench msp",
        status=ConnectionStatus.CONNECTED,
        registered=True,
        roles=[PartyRole(role=Role.EMSP, country_code="DE", party_id="MSP")],
        version="2.2.1",
        tokens=[IssuedToken(digest=token_digest(MSP_TOKEN), kind=TokenKind.CREDENTIALS)],
        endpoints=[
            PlatformEndpoint(identifier=module, role="RECEIVER", url=f"{base}/{module}")
            for module in ("sessions", "cdrs")
        ],
        outgoing_token=services.cipher.encrypt(PARTY_TOKEN),
    )
    await services.store.platforms.add(msp)
    now = services.clock()
    template = check_template(TEMPLATE, country_code="NL", party_id="BEN", location_id="BENCH00000", now=now)
    stored = await asyncio.to_thread(bench_hash, PASSWORD)
    ids = [f"BENCH{n:05d}" for n in range(count + 1)]  # one more: the warm-up station
    for station_id in ids:
        station = Station(
            id=station_id,
            country_code="NL",
            party_id="BEN",
            password_hash=stored,
            location_id=station_id,
            template=template,
            created_at=now,
        )
        await services.store.stations.add(station)
    return ids


async def push_token(http: ClientSession, base_url: str) -> None:
    """The eMSP pushes the id tag's Token, so the hub accepts it from its cache."""
    headers = {
        "Authorization": "Token " + base64.b64encode(MSP_TOKEN.encode()).decode(),
        "OCPI-from-country-code": "DE",
        "OCPI-from-party-id": "MSP",
        "OCPI-to-country-code": "NL",
        "OCPI-to-party-id": "HUB",
    }
    token = objects.token(uid=ID_TAG) | {"whitelist": "ALWAYS"}
    url = f"{base_url}/ocpi/2.2.1/receiver/tokens/DE/MSP/{ID_TAG}"
    async with http.put(url, json=token, headers=headers) as response:
        answer = await response.json()
    if answer.get("status_code") != 1000:
        raise RuntimeError(f"the token push was refused: {answer}")


class Clients:
    """The station client processes, driven one JSON line at a time."""

    def __init__(self, processes: list[asyncio.subprocess.Process]) -> None:
        self.processes = processes

    @classmethod
    async def start(cls, count: int, base_url: str) -> Clients:
        processes = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "bench/station_clients.py",
                base_url,
                PASSWORD,
                cwd=ROOT,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=2**20,
            )
            for _ in range(count)
        ]
        return cls(processes)

    async def _ask(self, process: asyncio.subprocess.Process, command: dict[str, Any]) -> dict[str, Any]:
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write(json.dumps(command).encode() + b"\n")
        await process.stdin.drain()
        line = await process.stdout.readline()
        if not line:
            raise RuntimeError(f"a station client process ended (exit status {await process.wait()})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def each(self, commands: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        asked = (self._ask(p, c) for p, c in zip(self.processes, commands, strict=True))
        return list(await asyncio.gather(*asked))

    async def all(self, command: dict[str, Any]) -> list[dict[str, Any]]:
        return await self.each([command] * len(self.processes))

    async def close(self) -> None:
        for process in self.processes:
            if process.returncode is None and process.stdin is not None:
                with contextlib.suppress(ConnectionError):
                    process.stdin.write(b'{"op": "exit"}\n')
                    await process.stdin.drain()
        for process in self.processes:
            try:
                await asyncio.wait_for(process.wait(), timeout=30)
            except TimeoutError:
                process.kill()
                await process.wait()


def split(items: Sequence[str], parts: int) -> list[list[str]]:
    return [list(items[n::parts]) for n in range(parts)]


async def ramp(clients: Clients, ids: Sequence[str]) -> tuple[int, int, list[str], float]:
    """Open the stations in steps of ``BATCH``; (held, failed, first errors, seconds)."""
    began = time.perf_counter()
    held = failed = 0
    errors: list[str] = []
    for start_at in range(0, len(ids), BATCH):
        answers = await clients.each(
            [{"op": "connect", "ids": part} for part in split(ids[start_at : start_at + BATCH], CLIENTS)]
        )
        held = sum(a["held"] for a in answers)
        failed += sum(a["failed"] for a in answers)
        errors += [e for a in answers for e in a["errors"]]
    return held, failed, errors[:3], time.perf_counter() - began


async def heartbeat_round(clients: Clients) -> tuple[int, int, int, list[str]]:
    """(stations, still open, answered in this round, first errors)."""
    answers = await clients.all({"op": "heartbeat", "spread": HEARTBEAT_SPREAD})
    return (
        sum(a["stations"] for a in answers),
        sum(a["open"] for a in answers),
        sum(a["answered"] for a in answers),
        [e for a in answers for e in a["errors"]][:3],
    )


def password_check_ms() -> float:
    stored = hash_password(PASSWORD)
    began = time.process_time()
    for _ in range(5):
        check_password(PASSWORD, stored)
    return (time.process_time() - began) / 5 * 1000


async def idle_cpu_rate(pid: int, seconds: float = 3.0) -> float:
    """CPU seconds per second the hub spends with nothing sent to it (websocket pings, chores)."""
    before = cpu_seconds(pid)
    await asyncio.sleep(seconds)
    return (cpu_seconds(pid) - before) / seconds


async def idle_stations(clients: Clients, pid: int, ids: Sequence[str], warm_up: str) -> int:
    """Connect every station, heartbeat twice, print the figures; the stations held."""
    # One station connects, boots, heartbeats and stays: what the first connection loads (code
    # paths, caches) belongs to the idle hub, not to the connections measured.
    await clients.each([{"op": "connect", "ids": part} for part in split([warm_up], CLIENTS)])
    await clients.all({"op": "heartbeat", "spread": 0})
    await asyncio.sleep(1)
    idle_kb = vm_rss_kb(pid)

    held, failed, errors, seconds = await ramp(clients, ids)
    held -= 1  # the warm-up station
    print(
        f"  connected {held:,} of {len(ids):,} stations (subprotocol, Basic auth, BootNotification) "
        f"in {seconds:.1f} s: {held / seconds:,.0f} stations/s"
        + (f"; {failed} failed, e.g. {errors}" if failed else "")
    )
    print(
        f"  a password check at production strength (scrypt N=2**14) costs {password_check_ms():.0f} ms "
        "of CPU per connection on top (these stations' hashes use N=16)"
    )
    await heartbeat_round(clients)  # every connection has answered once before the figures
    idle_rate = await idle_cpu_rate(pid)
    began, cpu_before = time.perf_counter(), cpu_seconds(pid)
    total, still_open, answered, errors = await heartbeat_round(clients)
    busy = cpu_seconds(pid) - cpu_before - idle_rate * (time.perf_counter() - began)
    held_kb = vm_rss_kb(pid)
    print(
        f"  after two heartbeat rounds ({HEARTBEAT_SPREAD:.0f} s each): {still_open - 1:,} of {total - 1:,} "
        f"connections open, {answered - 1:,} heartbeats answered in the last round"
        + (f"; e.g. {errors}" if errors else "")
    )
    print(
        f"  hub memory (VmRSS): {idle_kb / 1024:,.1f} MB idle, {held_kb / 1024:,.1f} MB holding "
        f"{held:,}: {(held_kb - idle_kb) / max(held, 1):,.1f} KB per connection"
    )
    print(
        f"  hub CPU per heartbeat: {busy / max(answered, 1) * 1e6:,.0f} µs (beyond the "
        f"{idle_rate * 1000:,.1f} ms/s it spends holding the idle connections)"
    )
    return held


async def transactions(clients: Clients, pid: int, held: int) -> None:
    count = min(TRANSACTION_STATIONS, held)
    shares = [count // CLIENTS + (1 if n < count % CLIENTS else 0) for n in range(CLIENTS)]
    cpu_before = cpu_seconds(pid)
    answers = await clients.each(
        [
            {
                "op": "transactions",
                "count": share,
                "id_tag": ID_TAG,
                "warmup": TRANSACTION_WARMUP,
                "window": TRANSACTION_WINDOW,
            }
            for share in shares
        ]
    )
    cpu_per_event = (cpu_seconds(pid) - cpu_before) / max(sum(a["all_events"] for a in answers), 1)
    events = sum(a["events"] for a in answers)
    trouble = [e for a in answers for e in a["errors"] + a["refused"]]
    print(
        f"  transactions: {count} stations loop StartTransaction, 3 MeterValues, StopTransaction "
        f"(Sessions to the eMSP, one priced, signed CDR each; {held - count:,} idle stations still connected)"
    )
    print(
        f"    {events / TRANSACTION_WINDOW:,.0f} events/s over {TRANSACTION_WINDOW:.0f} s, "
        f"hub CPU {cpu_per_event * 1e6:,.0f} µs per event" + (f"; trouble: {trouble[:3]}" if trouble else "")
    )


def deliveries(database: Path, since: float) -> str:
    """Sessions and CDRs the outbox delivered since ``since`` (epoch seconds), by module."""
    query = (
        "SELECT json_extract(document, '$.module') || ' ' || state, count(*) FROM outbox "
        "WHERE created_at >= ? GROUP BY 1"
    )
    with sqlite3.connect(database) as connection:
        rows = connection.execute(query, (int(since * 1e6),)).fetchall()
    return ", ".join(f"{count:,} {module}" for module, count in sorted(rows)) or "nothing"


def raise_open_files_limit(stations: int) -> None:
    """Let this process and the ones it starts (hub, clients) hold a socket per station, and more."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = stations + 1_000 if hard == resource.RLIM_INFINITY else min(hard, stations + 1_000)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


async def main(stations: int = STATIONS) -> None:
    configure_logging("WARNING", "json")
    raise_open_files_limit(stations)
    print(
        f"OCPP ingest: one hub process (SQLite), {stations:,} idle OCPP 1.6 stations from {CLIENTS} client "
        f"process{'es' if CLIENTS > 1 else ''}, then {TRANSACTION_STATIONS} stations in transactions"
    )
    with tempfile.TemporaryDirectory() as directory:
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        settings = load_settings(
            public_url=base_url, data_dir=Path(directory), secret_key=generate_key(), log_level="WARNING"
        )
        party_port = free_port()
        party = await start(
            ["bench/party_server.py", str(party_port), PARTY_TOKEN],
            ready_url=f"http://127.0.0.1:{party_port}/ocpi/versions",
        )
        services = await build_services(settings)
        began = time.perf_counter()
        try:
            warm_up, *ids = await prepare(services, stations, party_port)
        finally:
            await services.close()
        print(f"  prepared a hosted CPO and {stations:,} stations in {time.perf_counter() - began:.1f} s")

        hub = await start(
            ["-m", "hub", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=hub_environment(settings, HUB_LOG_LEVEL="WARNING"),
            ready_url=f"{base_url}/ocpi/versions",
        )
        clients: Clients | None = None
        try:
            async with ClientSession() as http:
                await push_token(http, base_url)
            clients = await Clients.start(CLIENTS, base_url)
            held = await idle_stations(clients, hub.pid, ids, warm_up)
            since = time.time()
            await transactions(clients, hub.pid, held)
            database = settings.sqlite_path
            assert database is not None
            await asyncio.sleep(2)  # the last deliveries of the window
            delivered = await asyncio.to_thread(deliveries, database, since)
            print(f"    delivered to the eMSP meanwhile: {delivered}")
        finally:
            await stop(hub)  # the hub first: a hub going down records nothing per closed connection
            await stop(party)
            if clients is not None:
                await clients.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="OCPP ingest figures: idle stations held, transactions.")
    parser.add_argument("--stations", type=int, default=STATIONS, help="idle stations to connect")
    asyncio.run(main(parser.parse_args().stations))
