"""A party platform written for the tests: versions, version details and every module over real HTTP.

It behaves as a CPO/eMSP platform would when the hub registers it, and can be told to misbehave
(no 2.2.1, missing endpoints, broken versions, raw-only tokens) to exercise the hub's errors. Its
module endpoints record every request they receive and answer 1000, or whatever ``handler`` says.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

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
        if not self._authorized(request):
            return web.json_response(envelope(status_code=2000, status_message="unauthorized"), status=401)
        module, role = request.match_info["module"], request.match_info["role"]
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
        return web.json_response(envelope())

    @property
    def versions_url(self) -> str:
        return f"{self.base_url}/ocpi/versions"

    def credentials(self, roles: list[dict[str, Any]], token: str | None = None) -> dict[str, Any]:
        return {"token": token or self.token_b, "url": self.versions_url, "roles": roles}

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        self.seen_authorizations.append(header)
        self.seen_ids.append((request.headers.get("X-Request-ID"), request.headers.get("X-Correlation-ID")))
        encoded = "Token " + base64.b64encode(self.token_b.encode()).decode()
        raw = f"Token {self.token_b}"
        accepted = {"base64": {encoded}, "raw": {raw}, "both": {encoded, raw}, "none": set()}[
            self.behaviour.accepts
        ]
        return header in accepted

    async def _versions(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
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
        if not self._authorized(request):
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
