"""A small roaming network for routing tests: the hub, one CPO and two eMSPs, all registered."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientResponse

from tests.conftest import Hub
from tests.support.party import Party, PartyBehaviour, role

CPO_MODULES = [
    ("credentials", "SENDER"),
    ("locations", "SENDER"),
    ("tariffs", "SENDER"),
    ("sessions", "SENDER"),
    ("cdrs", "SENDER"),
    ("tokens", "RECEIVER"),
    ("commands", "RECEIVER"),
    ("chargingprofiles", "RECEIVER"),
    ("hubclientinfo", "RECEIVER"),
]
EMSP_MODULES = [
    ("credentials", "SENDER"),
    ("locations", "RECEIVER"),
    ("tariffs", "RECEIVER"),
    ("sessions", "RECEIVER"),
    ("cdrs", "RECEIVER"),
    ("tokens", "SENDER"),
    ("commands", "SENDER"),
    ("chargingprofiles", "SENDER"),
    ("hubclientinfo", "RECEIVER"),
]


@dataclass
class Member:
    """A registered party platform and how it calls the hub."""

    hub: Hub
    party: Party
    token_c: str
    country_code: str
    party_id: str

    @property
    def key(self) -> str:
        return f"{self.country_code}*{self.party_id}"

    async def call(
        self,
        method: str,
        path: str,
        *,
        to: tuple[str, str] | None = None,
        sender: tuple[str, str] | bool | None = True,
        body: Any = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> ClientResponse:
        """Call the hub as this party; ``sender=True`` sends its own FROM pair, None sends none."""
        sent = {"Authorization": "Token " + base64.b64encode(self.token_c.encode()).decode()}
        if sender is True:
            sent |= {"OCPI-from-country-code": self.country_code, "OCPI-from-party-id": self.party_id}
        elif isinstance(sender, tuple):
            sent |= {"OCPI-from-country-code": sender[0], "OCPI-from-party-id": sender[1]}
        if to is not None:
            sent |= {"OCPI-to-country-code": to[0], "OCPI-to-party-id": to[1]}
        sent |= headers or {}
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            sent["Content-Type"] = "application/json"
        response = await self.hub.http.request(method, self.hub.url(path), data=data, headers=sent)
        await response.read()
        return response


async def join(
    hub: Hub, start_party: Any, role_name: str, country_code: str, party_id: str, **kwargs: Any
) -> Member:
    modules = CPO_MODULES if role_name == "CPO" else EMSP_MODULES
    party: Party = await start_party(
        token_b=f"{country_code}-{party_id}-token-b",
        behaviour=PartyBehaviour(modules=list(modules), **kwargs),
    )
    token_c = await hub.register(
        party,
        await hub.invite(f"{country_code}*{party_id}"),
        [role(role_name, country_code, party_id, f"{role_name} {party_id}")],
    )
    party.received.clear()
    return Member(hub, party, token_c, country_code, party_id)
