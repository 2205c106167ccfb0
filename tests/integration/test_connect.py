"""Hub-initiated registration (digest §4.3, the hub as credentials Sender), over real HTTP on loopback:
the hub connects to a party app that acts as the server of the handshake."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from hub.connect import connect
from hub.errors import ClientApiUnusable, HubError, InvalidParameters, NoMatchingEndpoints, UnsupportedVersion
from hub.keys import jobs_key
from hub.ocpi.envelope import envelope
from hub.platforms import Platform, TokenKind
from tests.conftest import Hub, free_port
from tests.integration.conftest import settle
from tests.support.network import CPO_MODULES, join
from tests.support.party import Handshake, Party, PartyBehaviour, Received, role

StartParty = Callable[..., Awaitable[Party]]
TOKEN_A = "party-issued-token-a"
CPO = [role("CPO", "NL", "TNM", "Test CPO")]


def encoded(token: str) -> str:
    return "Token " + base64.b64encode(token.encode()).decode()


async def handshake_party(start_party: StartParty, **behaviour: Any) -> Party:
    settings: dict[str, Any] = {"registration_token": TOKEN_A, "roles": CPO, "modules": list(CPO_MODULES)}
    return await start_party(token_b="party-own-token", behaviour=PartyBehaviour(**settings | behaviour))


async def connect_to(hub: Hub, party: Party, token_a: str = TOKEN_A, **kwargs: Any) -> Platform:
    return await connect(hub.services, hub.http, versions_url=party.versions_url, token_a=token_a, **kwargs)


async def test_the_hub_registers_with_a_party_that_handed_over_token_a(
    hub: Hub, start_party: StartParty
) -> None:
    party = await handshake_party(start_party)

    platform = await connect_to(hub, party)

    assert platform.registered and platform.status == "CONNECTED"
    assert platform.name == "Test CPO"
    assert platform.role_keys() == ["NL*TNM*CPO"]
    assert platform.version == "2.2.1"
    assert platform.versions_url == party.versions_url
    assert platform.token_encoding == "base64"
    assert {(e.identifier, e.role, e.url) for e in platform.endpoints} == {
        (module, role_name, party.endpoint_url(module, role_name)) for module, role_name in CPO_MODULES
    }
    assert await hub.services.store.platforms.all() == [platform]

    # The party received the hub's credentials with token A, and checked the hub's token before answering.
    [handshake] = party.handshakes
    assert handshake.method == "POST"
    assert handshake.authorization == encoded(TOKEN_A)
    assert handshake.credentials["url"] == hub.url("/ocpi/versions")
    assert handshake.credentials["roles"] == [
        {"role": "HUB", "business_details": {"name": "ocpi-hub"}, "party_id": "HUB", "country_code": "NL"}
    ]
    assert handshake.hub_versions_status == 200
    assert ("credentials", "SENDER") in {(e["identifier"], e["role"]) for e in handshake.hub_endpoints}

    # The hub then read the party's versions and details again, with the token the party answered.
    issued = handshake.issued
    assert issued is not None and issued == party.token_b
    assert party.seen_authorizations == [encoded(TOKEN_A)] * 3 + [encoded(issued)] * 2
    assert len({request_id for request_id, _ in party.seen_ids}) == 5
    assert len({correlation_id for _, correlation_id in party.seen_ids}) == 1

    # The hub presents the party's token; the party calls the hub with the token it was given.
    assert hub.services.cipher.decrypt(platform.outgoing_token or "") == issued
    hub_token = handshake.credentials["token"]
    assert party.hub_token == hub_token
    assert [(t.kind, t.expires_at) for t in platform.tokens] == [(TokenKind.CREDENTIALS, None)]
    infos = await hub.call("GET", "/ocpi/2.2.1/hubclientinfo", hub_token)
    assert infos.status == 200
    assert [(i["party_id"], i["status"]) for i in (await infos.json())["data"]] == [("TNM", "CONNECTED")]
    own = await (await hub.call("GET", "/ocpi/2.2.1/credentials", hub_token)).json()
    assert own["data"]["token"] == hub_token
    # Token A was the party's, never the hub's; the party no longer accepts it either.
    assert (await hub.call("GET", "/ocpi/versions", TOKEN_A)).status == 401
    assert party.registration_token is None


async def test_the_final_endpoints_are_those_the_party_shows_to_its_new_token(
    hub: Hub, start_party: StartParty
) -> None:
    after = [*CPO_MODULES, ("chargingprofiles", "RECEIVER")]
    party = await handshake_party(start_party, modules_after_handshake=after)
    platform = await connect_to(hub, party, name="Chosen name")
    assert platform.name == "Chosen name"
    assert platform.endpoint("chargingprofiles", "RECEIVER") is not None
    assert len(platform.endpoints) == len(after)


async def test_during_the_handshake_the_hubs_token_is_only_good_for_versions_and_credentials(
    hub: Hub, start_party: StartParty
) -> None:
    party = await handshake_party(start_party)
    seen: dict[str, Any] = {}

    async def look(handshake: Handshake) -> None:
        token = handshake.credentials["token"]
        seen["platforms"] = await hub.services.store.platforms.all()
        seen["versions"] = (await hub.call("GET", "/ocpi/versions", token)).status
        seen["hubclientinfo"] = (await hub.call("GET", "/ocpi/2.2.1/hubclientinfo", token)).status

    party.before_answer = look
    await connect_to(hub, party)
    [provisional] = seen["platforms"]
    assert not provisional.registered and provisional.status == "PLANNED"
    assert [t.kind for t in provisional.tokens] == [TokenKind.REGISTRATION]
    assert seen["versions"] == 200
    assert seen["hubclientinfo"] == 401


async def test_hub_client_info_is_recorded_and_sent_both_ways(hub: Hub, start_party: StartParty) -> None:
    member = await join(hub, start_party, "EMSP", "DE", "MSP")
    await settle(hub)
    member.party.received.clear()
    party = await handshake_party(start_party)

    platform = await connect_to(hub, party, deliver=hub.server.app[jobs_key].deliver)
    await settle(hub)

    def client_infos(received: list[Received]) -> list[tuple[str, str, dict[str, Any]]]:
        return [(r.method, r.path, json.loads(r.body)) for r in received if r.module == "hubclientinfo"]

    [(method, path, info)] = client_infos(member.party.received)
    assert (method, path) == ("PUT", "/NL/TNM")
    assert (info["role"], info["status"]) == ("CPO", "CONNECTED")
    # The newcomer is welcomed with the parties already there, called with the token it gave the hub.
    [(method, path, info)] = client_infos(party.received)
    assert (method, path) == ("PUT", "/DE/MSP")
    assert (info["role"], info["status"]) == ("EMSP", "CONNECTED")
    [welcome] = [r for r in party.received if r.module == "hubclientinfo"]
    assert welcome.headers["Authorization"] == encoded(party.token_b)
    assert hub.services.cipher.decrypt(platform.outgoing_token or "") == party.token_b


async def test_a_party_that_only_understands_raw_tokens_is_connected_in_raw_form(
    hub: Hub, start_party: StartParty
) -> None:
    party = await handshake_party(start_party, accepts="raw")
    platform = await connect_to(hub, party)
    assert platform.token_encoding == "raw"
    assert party.handshakes[0].authorization == f"Token {TOKEN_A}"
    assert party.seen_authorizations[-1] == f"Token {party.token_b}"


def _answering(body: bytes, status: int) -> Callable[[web.Request, Received], Awaitable[web.Response]]:
    async def answer(_: web.Request, __: Received) -> web.Response:
        return web.Response(body=body, status=status, content_type="application/json")

    return answer


def _envelope(data: Any = None, **kwargs: Any) -> bytes:
    return json.dumps(envelope(data, **kwargs)).encode()


@pytest.mark.parametrize(
    ("behaviour", "answer", "error", "words"),
    [
        ({"versions": ["2.1.1", "2.2"]}, None, UnsupportedVersion, "the party offers 2.1.1, 2.2"),
        ({"modules": [("locations", "SENDER")]}, None, NoMatchingEndpoints, "lack: credentials"),
        ({"versions_status": 500}, None, ClientApiUnusable, "answered HTTP 500"),
        ({}, (b"<html>busy</html>", 200), ClientApiUnusable, "did not answer JSON"),
        (
            {},
            (_envelope(status_code=3001, status_message="cannot read the hub"), 200),
            ClientApiUnusable,
            "OCPI status 3001, not 1000 (cannot read the hub)",
        ),
        (
            {},
            (_envelope(status_code=2000, status_message="already registered"), 405),
            ClientApiUnusable,
            "answered HTTP 405 (already registered)",
        ),
        (
            {},
            (_envelope({"token": "t", "url": "http://x", "roles": []}), 200),
            ClientApiUnusable,
            "are not OCPI: roles: must not be empty",
        ),
    ],
    ids=[
        "no-2.2.1",
        "no-credentials-endpoint",
        "versions-500",
        "answer-not-json",
        "answer-3001",
        "answer-405",
        "answer-without-roles",
    ],
)
async def test_a_failed_connect_is_a_clear_error_and_keeps_nothing(
    hub: Hub,
    start_party: StartParty,
    behaviour: dict[str, Any],
    answer: tuple[bytes, int] | None,
    error: type[HubError],
    words: str,
) -> None:
    party = await handshake_party(start_party, **behaviour)
    offered: list[str] = []
    if answer is not None:
        refuse = _answering(*answer)

        async def record_and_refuse(request: web.Request, received: Received) -> web.StreamResponse:
            offered.append(json.loads(received.body)["token"])
            return await refuse(request, received)

        party.handler = record_and_refuse

    with pytest.raises(error) as raised:
        await connect_to(hub, party)

    assert words in raised.value.message
    assert raised.value.ocpi_status == error.ocpi_status
    assert await hub.services.store.platforms.all() == []
    # The token the hub offered in its POST stopped working with the provisional platform.
    for token in offered:
        assert (await hub.call("GET", "/ocpi/versions", token)).status == 401


async def test_a_wrong_token_a_is_a_clear_error_and_keeps_nothing(hub: Hub, start_party: StartParty) -> None:
    party = await handshake_party(start_party)
    with pytest.raises(ClientApiUnusable) as raised:
        await connect_to(hub, party, token_a="not-the-token-a")
    assert raised.value.message.startswith("reading the party's versions with token A: ")
    assert "answered HTTP 401" in raised.value.message
    assert await hub.services.store.platforms.all() == []
    assert party.handshakes == []


async def test_an_unreachable_party_is_3001(hub: Hub) -> None:
    with pytest.raises(ClientApiUnusable, match="could not reach"):
        await connect(
            hub.services,
            hub.http,
            versions_url=f"http://127.0.0.1:{free_port()}/ocpi/versions",
            token_a=TOKEN_A,
        )
    assert await hub.services.store.platforms.all() == []


@pytest.mark.parametrize(
    ("roles", "words"),
    [
        ([role("CPO", "nl", "tnm")], "roles[0]: CPO NL*TNM is already registered by another platform"),
        ([role("CPO", "NL", "HUB")], "roles[0]: NL*HUB is the hub's own party"),
    ],
    ids=["held-by-another", "the-hubs-own"],
)
async def test_roles_the_hub_cannot_give_are_refused_and_the_party_is_told(
    hub: Hub, start_party: StartParty, roles: list[dict[str, Any]], words: str
) -> None:
    holder = await start_party(token_b="holder-b")
    await hub.register(holder, await hub.invite("holder"), CPO)
    [held] = await hub.services.store.platforms.all()
    party = await handshake_party(start_party, roles=roles)

    with pytest.raises(InvalidParameters) as raised:
        await connect_to(hub, party)

    assert raised.value.message == f"the roles the party answered: {words}"
    assert [p.id for p in await hub.services.store.platforms.all()] == [held.id]
    # The party had registered the hub already: it is told its credentials for the hub are void.
    [handshake] = party.handshakes
    deletes = [r for r in party.received if r.module == "credentials" and r.method == "DELETE"]
    assert [d.headers["Authorization"] for d in deletes] == [encoded(handshake.issued or "")]
    assert party.hub_token is None
    assert (await hub.call("GET", "/ocpi/versions", handshake.credentials["token"])).status == 401


async def test_connecting_twice_to_the_same_party_is_refused(hub: Hub, start_party: StartParty) -> None:
    party = await handshake_party(start_party)
    platform = await connect_to(hub, party)
    with pytest.raises(InvalidParameters, match=f"platform {platform.id} is connected to .* already"):
        await connect_to(hub, party)
    assert len(party.handshakes) == 1
    assert await hub.services.store.platforms.all() == [platform]
