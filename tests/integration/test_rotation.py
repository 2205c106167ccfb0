"""Token rotation (digest §4.4): the hub PUTs new credentials to a party it is connected to, over real
HTTP on loopback; the previous token works for ``rotation_overlap``, then only the new one."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web

from hub import operators
from hub.connect import connect
from hub.errors import ClientApiUnusable, MethodNotAllowed
from hub.ocpi.envelope import envelope
from hub.platforms import IssuedToken, Platform, TokenKind
from hub.rotation import previous_tokens_valid_until, rotate, rotated_tokens
from tests.conftest import Hub
from tests.integration.conftest import settle
from tests.support.network import CPO_MODULES, join
from tests.support.party import Handshake, Party, PartyBehaviour, Received, role

StartParty = Callable[..., Awaitable[Party]]
TOKEN_A = "party-issued-token-a"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def encoded(token: str) -> str:
    return "Token " + base64.b64encode(token.encode()).decode()


class Clock:
    """The hub's clock, moved by the test."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


async def connected(hub: Hub, start_party: StartParty) -> tuple[Party, Platform]:
    party = await start_party(
        token_b="party-own-token",
        behaviour=PartyBehaviour(
            registration_token=TOKEN_A, roles=[role("CPO", "NL", "TNM")], modules=list(CPO_MODULES)
        ),
    )
    platform = await connect(hub.services, hub.http, versions_url=party.versions_url, token_a=TOKEN_A)
    return party, platform


async def status(hub: Hub, token: str) -> int:
    return (await hub.call("GET", "/ocpi/2.2.1/hubclientinfo", token)).status


# --- the token list, as a table ------------------------------------------------------------------


def _token(
    digest: str, kind: TokenKind = TokenKind.CREDENTIALS, expires_at: datetime | None = None
) -> IssuedToken:
    return IssuedToken(digest=digest, kind=kind, issued_at=NOW - HOUR, expires_at=expires_at)


@pytest.mark.parametrize(
    ("before", "overlap", "kept"),
    [
        ([_token("old")], HOUR, [("old", NOW + HOUR)]),
        # A second rotation does not lengthen the first one's overlap ...
        ([_token("old", expires_at=NOW + timedelta(minutes=5))], HOUR, [("old", NOW + timedelta(minutes=5))]),
        # ... and a longer one left from an earlier rotation ends with this overlap.
        ([_token("old", expires_at=NOW + 2 * HOUR)], HOUR, [("old", NOW + HOUR)]),
        ([_token("gone", expires_at=NOW), _token("old")], HOUR, [("old", NOW + HOUR)]),
        ([_token("a", kind=TokenKind.REGISTRATION, expires_at=NOW + HOUR)], HOUR, []),
        ([_token("old")], timedelta(0), []),
    ],
    ids=[
        "overlap",
        "earlier-expiry-kept",
        "capped-at-overlap",
        "expired-dropped",
        "token-a-dropped",
        "no-overlap",
    ],
)
def test_rotated_tokens_keep_the_previous_ones_for_the_overlap_only(
    before: list[IssuedToken], overlap: timedelta, kept: list[tuple[str, datetime]]
) -> None:
    after = rotated_tokens(before, "new", now=NOW, overlap=overlap)
    assert [(t.digest, t.expires_at) for t in after[:-1]] == kept
    assert (after[-1].digest, after[-1].kind, after[-1].expires_at) == ("new", TokenKind.CREDENTIALS, None)
    platform = Platform(name="p", tokens=after)
    assert previous_tokens_valid_until(platform) == (max(e for _, e in kept) if kept else None)


# --- rotation against a party app ----------------------------------------------------------------


async def test_both_tokens_work_until_the_overlap_ends_then_only_the_new_one(
    hub: Hub, start_party: StartParty
) -> None:
    clock = Clock(datetime.now(UTC))
    hub.services.clock = clock
    party, platform = await connected(hub, start_party)
    old_hub_token, old_party_token = party.hub_token or "", party.token_b

    rotated = await rotate(hub.services, hub.http, platform)

    [_, put] = party.handshakes
    assert put.method == "PUT"
    assert put.authorization == encoded(old_party_token)
    assert put.hub_versions_status == 200
    new_hub_token = put.credentials["token"]
    assert party.hub_token == new_hub_token != old_hub_token
    assert party.token_b != old_party_token
    assert hub.services.cipher.decrypt(rotated.outgoing_token or "") == party.token_b
    assert await hub.services.store.platforms.get(platform.id) == rotated
    overlap = timedelta(seconds=hub.services.settings.rotation_overlap)
    assert [(t.kind, t.expires_at) for t in rotated.tokens] == [
        (TokenKind.CREDENTIALS, clock.now + overlap),
        (TokenKind.CREDENTIALS, None),
    ]
    assert previous_tokens_valid_until(rotated) == clock.now + overlap

    assert await status(hub, old_hub_token) == 200
    assert await status(hub, new_hub_token) == 200
    clock.now += overlap - timedelta(seconds=1)
    assert await status(hub, old_hub_token) == 200
    clock.now += timedelta(seconds=2)
    response = await hub.call("GET", "/ocpi/2.2.1/hubclientinfo", old_hub_token)
    assert response.status == 401
    assert "expired" in (await response.json())["status_message"]
    assert await status(hub, new_hub_token) == 200


async def test_with_a_short_overlap_the_old_token_stops_working_by_itself(
    hub: Hub, start_party: StartParty
) -> None:
    hub.services.settings = hub.services.settings.model_copy(update={"rotation_overlap": 0.5})
    party, platform = await connected(hub, start_party)
    old_hub_token = party.hub_token or ""
    await rotate(hub.services, hub.http, platform)
    assert await status(hub, old_hub_token) == 200
    await asyncio.sleep(0.6)
    assert await status(hub, old_hub_token) == 401
    assert await status(hub, party.hub_token or "") == 200


async def test_the_hub_calls_the_party_with_its_new_token_afterwards(
    hub: Hub, start_party: StartParty
) -> None:
    party, platform = await connected(hub, start_party)
    await rotate(hub.services, hub.http, platform)
    party.received.clear()

    # A newcomer's Hub Client Info reaches the party; it accepts only its new token by now.
    await join(hub, start_party, "EMSP", "DE", "MSP")
    await settle(hub)
    [pushed] = [r for r in party.received if r.module == "hubclientinfo"]
    assert pushed.path == "/DE/MSP"
    assert pushed.headers["Authorization"] == encoded(party.token_b)
    assert party.token_b == party.handshakes[-1].issued


async def test_a_later_rotation_drops_the_tokens_that_expired_meanwhile(
    hub: Hub, start_party: StartParty
) -> None:
    clock = Clock(datetime.now(UTC))
    hub.services.clock = clock
    party, platform = await connected(hub, start_party)
    first = party.hub_token or ""
    platform = await rotate(hub.services, hub.http, platform)
    second = party.hub_token or ""
    clock.now += timedelta(seconds=hub.services.settings.rotation_overlap + 1)

    platform = await rotate(hub.services, hub.http, platform)

    assert len(platform.tokens) == 2
    for token, expected in ((first, 401), (second, 200), (party.hub_token or "", 200)):
        assert await status(hub, token) == expected


async def test_an_unregistered_or_suspended_platform_is_refused(hub: Hub, start_party: StartParty) -> None:
    await hub.invite("never registered")
    [invited] = await hub.services.store.platforms.all()
    with pytest.raises(MethodNotAllowed, match="is not registered"):
        await rotate(hub.services, hub.http, invited)

    party, platform = await connected(hub, start_party)
    suspended = await operators.suspend(hub.services, platform.id)
    with pytest.raises(MethodNotAllowed, match="is suspended; resume it"):
        await rotate(hub.services, hub.http, suspended)
    assert [h.method for h in party.handshakes] == ["POST"]


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        ((envelope(status_code=3001, status_message="cannot read the hub"), 200), "OCPI status 3001"),
        ((envelope(status_code=2000, status_message="not registered"), 405), "HTTP 405 (not registered)"),
    ],
    ids=["3001", "405"],
)
async def test_a_refused_put_changes_nothing(
    hub: Hub, start_party: StartParty, answer: tuple[dict[str, Any], int], words: str
) -> None:
    party, platform = await connected(hub, start_party)
    offered: list[str] = []

    async def refuse(_: web.Request, received: Received) -> web.Response:
        offered.append(json.loads(received.body)["token"])
        return web.json_response(answer[0], status=answer[1])

    party.handler = refuse
    with pytest.raises(ClientApiUnusable) as raised:
        await rotate(hub.services, hub.http, platform)

    assert raised.value.message.startswith("sending the hub's new credentials to the party (PUT): ")
    assert words in raised.value.message
    unchanged = await hub.services.store.platforms.get(platform.id)
    assert unchanged is not None
    assert unchanged.tokens == platform.tokens
    assert unchanged.outgoing_token == platform.outgoing_token
    assert await status(hub, party.hub_token or "") == 200
    [token] = offered
    assert await status(hub, token) == 401


async def test_when_the_endpoints_cannot_be_read_again_the_new_tokens_are_kept(
    hub: Hub, start_party: StartParty
) -> None:
    party, platform = await connected(hub, start_party)
    party.behaviour.versions_status = 503

    with pytest.raises(ClientApiUnusable) as raised:
        await rotate(hub.services, hub.http, platform)

    assert raised.value.message.startswith("the tokens were rotated, but the party's endpoints were kept")
    assert "HTTP 503" in raised.value.message
    stored = await hub.services.store.platforms.get(platform.id)
    assert stored is not None
    assert hub.services.cipher.decrypt(stored.outgoing_token or "") == party.token_b
    assert stored.endpoints == platform.endpoints
    assert await status(hub, party.hub_token or "") == 200


async def test_a_change_made_during_the_rotation_is_kept(hub: Hub, start_party: StartParty) -> None:
    party, platform = await connected(hub, start_party)

    async def suspend_meanwhile(_: Handshake) -> None:
        await operators.suspend(hub.services, platform.id)

    party.before_answer = suspend_meanwhile
    rotated = await rotate(hub.services, hub.http, platform)

    assert rotated.status == "SUSPENDED"
    assert hub.services.cipher.decrypt(rotated.outgoing_token or "") == party.token_b
    assert len(rotated.tokens) == 2
