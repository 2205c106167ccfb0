"""A party platform written for the tests: versions, version details and every module over real HTTP.

It behaves as a CPO/eMSP platform would when the hub registers it, and can be told to misbehave
(no 2.2.1, missing endpoints, broken versions, raw-only tokens) to exercise the hub's errors. Its
module endpoints record every request they receive and answer 1000, or whatever ``handler`` says.

With a ``registration_token`` it is also the server of a hub-initiated handshake (digest §4.3): it
accepts that token A on versions, details and credentials, and its credentials endpoint answers a POST
(register) or PUT (update) as a party would: it reads the hub's versions and details with the token
the hub sent, replaces the token it accepts with a new one, and answers with its own credentials.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, web

from hub.ocpi.envelope import envelope


@dataclass
class PartyBehaviour:
    versions: list[str] = field(default_factory=lambda: ["2.1.1", "2.2.1"])
    modules: list[tuple[str, str]] = field(
        default_factory=lambda: [
            ("credentials", "SENDER"),
            ("locations", "SENDER"),
            ("tariffs", "SENDER"),
            ("sessions", "SENDER"),
            ("cdrs", "SENDER"),
            ("tokens", "RECEIVER"),
            ("commands", "RECEIVER"),
            ("hubclientinfo", "RECEIVER"),
        ]
    )
    versions_status: int = 200
    versions_body: bytes | None = None
    # "base64": only the 2.2.1 form is accepted; "raw": only the raw token; "both": either; "none".
    accepts: str = "base64"
    # The HTTP status a refused token gets (401 as OCPI says; some platforms answer 403).
    refusal_status: int = 401
    # Hub-initiated registration: the token A the party accepts until the hub has registered (None:
    # the party is no handshake server), and the roles it answers the hub's credentials with.
    registration_token: str | None = None
    roles: list[dict[str, Any]] = field(default_factory=list)
    # The endpoints the party publishes once a handshake has succeeded (None: unchanged).
    modules_after_handshake: list[tuple[str, str]] | None = None


@dataclass
class Handshake:
    """One credentials POST or PUT of the hub, as the party's handshake server saw it."""

    method: str
    authorization: str
    credentials: dict[str, Any]  # the hub's credentials, as sent
    hub_versions_status: int  # the hub's answer when the party read its versions with the hub's token
    hub_endpoints: list[dict[str, Any]] = field(default_factory=list)  # the hub's 2.2.1 endpoints
    issued: str | None = None  # the token the party answered with; None when it refused


@dataclass
class Received:
    """One request a party's module endpoint received."""

    method: str
    module: str
    role: str
    path: str  # raw path after the module URL
    query_string: str
    headers: dict[str, str]
    body: bytes


Handler = Callable[[web.Request, Received], Awaitable[web.StreamResponse]]


class Party:
    """One party platform: its app, its token B, and what it saw."""

    def __init__(self, token_b: str = "party-token-b-0001", behaviour: PartyBehaviour | None = None) -> None:
        self.token_b = token_b
        self.behaviour = behaviour or PartyBehaviour()
        self.base_url = ""
        self.seen_authorizations: list[str] = []
        self.seen_ids: list[tuple[str | None, str | None]] = []
        self.received: list[Received] = []
        self.handler: Handler | None = None
        # Handshake server: token A while unspent, the hub's token once registered, what it saw, and
        # a hook that runs after the party has checked the hub's token and before it answers.
        self.registration_token = self.behaviour.registration_token
        self.hub_token: str | None = None
        self.handshakes: list[Handshake] = []
        self.before_answer: Callable[[Handshake], Awaitable[None]] | None = None
        self.app = web.Application()
        self.app.add_routes(
            [
                web.get("/ocpi/versions", self._versions),
                web.get("/ocpi/{version}/details", self._details),
                web.route("*", "/ocpi/{version}/{role:sender|receiver}/{module}{tail:.*}", self._module),
            ]
        )

    def endpoint_url(self, module: str, role: str, version: str = "2.2.1") -> str:
        return f"{self.base_url}/ocpi/{version}/{role.lower()}/{module}"

    async def _module(self, request: web.Request) -> web.StreamResponse:
        module, role = request.match_info["module"], request.match_info["role"]
        handshake = self.behaviour.registration_token is not None and module == "credentials"
        if not self._authorized(request, registration=handshake):
            return web.json_response(envelope(status_code=2000, status_message="unauthorized"), status=401)
        prefix = f"/ocpi/{request.match_info['version']}/{role}/{module}"
        received = Received(
            method=request.method,
            module=module,
            role=role.upper(),
            path=request.rel_url.raw_path[len(prefix) :],
            query_string=request.query_string,
            headers=dict(request.headers),
            body=await request.read(),
        )
        self.received.append(received)
        if self.handler is not None:
            return await self.handler(request, received)
        if handshake and request.method in ("POST", "PUT"):
            return await self._handshake(request.method, received)
        if handshake and request.method == "DELETE":
            self.hub_token = None
        return web.json_response(envelope())

    async def _handshake(self, method: str, received: Received) -> web.Response:
        """The hub registers (POST) or updates its registration (PUT) with this party."""
        if (method == "POST") == (self.hub_token is not None):
            message = "already registered" if method == "POST" else "not registered"
            return web.json_response(envelope(status_code=2000, status_message=message), status=405)
        credentials = json.loads(received.body)
        status, endpoints = await self._read_hub(credentials["url"], credentials["token"])
        seen = Handshake(method, received.headers.get("Authorization", ""), credentials, status, endpoints)
        self.handshakes.append(seen)
        if status != 200:
            message = f"the hub's versions answered HTTP {status} to the hub's token"
            return web.json_response(envelope(status_code=3001, status_message=message))
        if self.before_answer is not None:
            await self.before_answer(seen)
        # From now on the party accepts only its new token; token A is spent.
        seen.issued = self.token_b = f"party-token-{secrets.token_hex(8)}"
        self.registration_token = None
        self.hub_token = credentials["token"]
        if self.behaviour.modules_after_handshake is not None:
            self.behaviour.modules = list(self.behaviour.modules_after_handshake)
        return web.json_response(envelope(self.credentials(self.behaviour.roles)))

    async def _read_hub(self, versions_url: str, token: str) -> tuple[int, list[dict[str, Any]]]:
        """Read the hub's versions and 2.2.1 endpoints with the hub's token, as a party must before
        it answers; the status of the versions answer, and the endpoints."""
        headers = {"Authorization": "Token " + base64.b64encode(token.encode()).decode()}
        async with ClientSession() as http:
            async with http.get(versions_url, headers=headers) as response:
                if response.status != 200:
                    return response.status, []
                versions = (await response.json())["data"]
            details_url = next(v["url"] for v in versions if v["version"] == "2.2.1")
            async with http.get(details_url, headers=headers) as response:
                if response.status != 200:
                    return response.status, []
                return response.status, (await response.json())["data"]["endpoints"]

    @property
    def versions_url(self) -> str:
        return f"{self.base_url}/ocpi/versions"

    def credentials(self, roles: list[dict[str, Any]], token: str | None = None) -> dict[str, Any]:
        return {"token": token or self.token_b, "url": self.versions_url, "roles": roles}

    def _authorized(self, request: web.Request, *, registration: bool = False) -> bool:
        """Is the request's token the party's own (or, where ``registration`` allows, token A)?"""
        header = request.headers.get("Authorization", "")
        self.seen_authorizations.append(header)
        self.seen_ids.append((request.headers.get("X-Request-ID"), request.headers.get("X-Correlation-ID")))
        tokens = [self.token_b]
        if registration and self.registration_token is not None:
            tokens.append(self.registration_token)
        return any(header in self._accepted_forms(token) for token in tokens)

    def _accepted_forms(self, token: str) -> set[str]:
        encoded = "Token " + base64.b64encode(token.encode()).decode()
        raw = f"Token {token}"
        return {"base64": {encoded}, "raw": {raw}, "both": {encoded, raw}, "none": set()}[
            self.behaviour.accepts
        ]

    async def _versions(self, request: web.Request) -> web.Response:
        if not self._authorized(request, registration=True):
            return web.json_response(
                envelope(status_code=2000, status_message="unauthorized"),
                status=self.behaviour.refusal_status,
            )
        if self.behaviour.versions_body is not None:
            return web.Response(body=self.behaviour.versions_body, status=self.behaviour.versions_status)
        if self.behaviour.versions_status != 200:
            return web.Response(status=self.behaviour.versions_status, text="down")
        data = [{"version": v, "url": f"{self.base_url}/ocpi/{v}/details"} for v in self.behaviour.versions]
        return web.json_response(envelope(data))

    async def _details(self, request: web.Request) -> web.Response:
        if not self._authorized(request, registration=True):
            return web.json_response(envelope(status_code=2000, status_message="unauthorized"), status=401)
        version = request.match_info["version"]
        endpoints = [
            {"identifier": module, "role": role, "url": self.endpoint_url(module, role, version)}
            for module, role in self.behaviour.modules
        ]
        return web.json_response(envelope({"version": version, "endpoints": endpoints}))


def role(role: str, country_code: str, party_id: str, name: str = "Test Party") -> dict[str, Any]:
    return {
        "role": role,
        "business_details": {"name": name},
        "party_id": party_id,
        "country_code": country_code,
    }
