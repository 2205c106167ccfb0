from __future__ import annotations

import base64
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import ClientResponse, ClientSession
from aiohttp.test_utils import TestServer
from blockbuster import blockbuster_ctx

from hub import operators
from hub.app import create_app
from hub.bootstrap import build_services
from hub.secrets import generate_key
from hub.services import Services
from settings import Settings, load_settings
from tests.support.party import Party, PartyBehaviour

if TYPE_CHECKING:
    from tests.support.processes import RedisServer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def token_header(token: str, *, raw: bool = False) -> dict[str, str]:
    value = token if raw else base64.b64encode(token.encode()).decode()
    return {"Authorization": f"Token {value}"}


@pytest.fixture
def hub_port() -> int:
    return free_port()


@pytest.fixture
async def redis(tmp_path: Path) -> AsyncIterator[RedisServer]:
    """A real ``redis-server`` on a free loopback port, keeping nothing on disk."""
    from tests.support.processes import RedisServer

    server = RedisServer(tmp_path / "redis")
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def settings(tmp_path: Path, hub_port: int) -> Settings:
    return load_settings(
        public_url=f"http://127.0.0.1:{hub_port}",
        data_dir=tmp_path / "var",
        secret_key=generate_key(),
        country_code="NL",
        party_id="HUB",
        request_timeout=5,
    )


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    built = await build_services(settings)
    yield built
    await built.close()


class Hub:
    """The hub under test, reached over real HTTP on loopback."""

    def __init__(self, server: TestServer, services: Services, http: ClientSession) -> None:
        self.server = server
        self.services = services
        self.http = http
        self.base_url = services.settings.public_url

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    async def invite(self, name: str = "party") -> str:
        _, token_a = await operators.invite(self.services, name)
        return token_a

    async def call(
        self, method: str, path: str, token: str | None = None, *, raw: bool = False, **kwargs: Any
    ) -> ClientResponse:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers.update(token_header(token, raw=raw))
        response = await self.http.request(method, self.url(path), headers=headers, **kwargs)
        await response.read()
        return response

    async def register(self, party: Party, token_a: str, roles: list[dict[str, Any]]) -> str:
        """The whole party-initiated handshake; returns token C."""
        response = await self.call("POST", "/ocpi/2.2.1/credentials", token_a, json=party.credentials(roles))
        body = await response.json()
        assert body["status_code"] == 1000, body
        return str(body["data"]["token"])


@pytest.fixture
async def hub(settings: Settings, services: Services, hub_port: int) -> AsyncIterator[Hub]:
    server = TestServer(create_app(settings, services=services), host="127.0.0.1", port=hub_port)
    await server.start_server()
    async with ClientSession() as http:
        yield Hub(server, services, http)
    await server.close()


@pytest.fixture
async def start_party() -> AsyncIterator[Callable[..., Awaitable[Party]]]:
    servers: list[TestServer] = []

    async def start(token_b: str = "party-token-b-0001", behaviour: PartyBehaviour | None = None) -> Party:
        party = Party(token_b, behaviour)
        server = TestServer(party.app, host="127.0.0.1", port=free_port())
        await server.start_server()
        party.base_url = str(server.make_url("")).rstrip("/")
        servers.append(server)
        return party

    yield start
    for server in servers:
        await server.close()


@pytest.fixture
async def party(start_party: Callable[..., Awaitable[Party]]) -> Party:
    return await start_party()


@pytest.fixture(autouse=True)
def no_blocking_calls_in_the_event_loop() -> Iterator[None]:
    """Any blocking call (file, socket, sleep) made inside the event loop fails the test."""
    with blockbuster_ctx(scanned_modules=["hub", "settings", "workers", "tests"]) as blockbuster:
        yield
        del blockbuster
