"""How fast the hub answers authenticated requests over loopback HTTP.

Starts the real app on a free port with an SQLite store in a temporary directory, registers one
party, and times a fixed number of sequential ``GET /ocpi/2.2.1`` (token look-up, envelope,
middlewares) and ``GET hubclientinfo`` requests, next to a bare aiohttp handler in the same run so the
figures can be compared on a shared machine. Bounded in count; loopback only.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import tempfile
import time
from pathlib import Path

from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer

from hub import operators
from hub.app import create_app
from hub.bootstrap import build_services
from hub.observability import configure_logging
from hub.ocpi.envelope import envelope
from hub.secrets import authorization_header, generate_key
from settings import load_settings

REQUESTS = 2000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _time(http: ClientSession, url: str, headers: dict[str, str]) -> list[float]:
    samples = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        async with http.get(url, headers=headers) as response:
            await response.read()
            assert response.status == 200, response.status
        samples.append(time.perf_counter() - started)
    return samples


def _report(name: str, samples: list[float]) -> None:
    samples.sort()
    mean = statistics.fmean(samples) * 1e6
    p50 = samples[len(samples) // 2] * 1e6
    p99 = samples[int(len(samples) * 0.99)] * 1e6
    print(f"  {name:<40} mean {mean:8.1f} µs   p50 {p50:8.1f} µs   p99 {p99:8.1f} µs")


async def main() -> None:
    configure_logging("WARNING")
    with tempfile.TemporaryDirectory() as directory:
        port = _free_port()
        settings = load_settings(
            public_url=f"http://127.0.0.1:{port}", data_dir=Path(directory), secret_key=generate_key()
        )
        services = await build_services(settings)
        platform, token_a = await operators.invite(services, "bench")
        hub = TestServer(create_app(settings, services=services), host="127.0.0.1", port=port)
        await hub.start_server()

        async def bare_handler(_: web.Request) -> web.Response:
            return web.json_response(envelope({"version": "2.2.1"}))

        bare_app = web.Application()
        bare_app.router.add_get("/", bare_handler)
        bare = TestServer(bare_app, host="127.0.0.1", port=_free_port())
        await bare.start_server()
        try:
            async with ClientSession() as http:
                auth = {"Authorization": authorization_header(token_a)}
                print(f"hub request latency, {REQUESTS} sequential requests each (one client, loopback)")
                _report("bare aiohttp JSON handler", await _time(http, str(bare.make_url("/")), {}))
                _report(
                    "GET /ocpi/2.2.1 (token look-up)",
                    await _time(http, settings.public_url + "/ocpi/2.2.1", auth),
                )
        finally:
            await hub.close()
            await bare.close()
            await services.close()
        del platform


if __name__ == "__main__":
    asyncio.run(main())
