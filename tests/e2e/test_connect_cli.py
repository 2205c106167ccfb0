"""The operator connects the hub to parties and rotates tokens with real processes: ``python -m hub serve``
runs the hub, ``parties connect`` and ``parties rotate`` run beside it against party apps in the test."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession

from tests.conftest import free_port
from tests.e2e.test_cli_and_serve import environment, hub_cli, serving
from tests.support.network import CPO_MODULES, EMSP_MODULES
from tests.support.party import Party, PartyBehaviour, role

StartParty = Callable[..., Awaitable[Party]]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": "Token " + base64.b64encode(token.encode()).decode()}


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[dict[str, str], str]]:
    """``serve`` on a fresh data directory, sweeping the outbox often so the test need not wait."""
    port = free_port()
    env = environment(tmp_path / "var", port) | {"HUB_SWEEP_INTERVAL": "0.2"}
    async with serving(env, port, tmp_path / "serve.log") as base:
        yield env, base


async def handshake_party(start_party: StartParty, token_a: str, role_name: str, party_id: str) -> Party:
    return await start_party(
        token_b=f"{party_id}-own-token",
        behaviour=PartyBehaviour(
            registration_token=token_a,
            roles=[role(role_name, "NL", party_id, f"{role_name} {party_id}")],
            modules=list(CPO_MODULES if role_name == "CPO" else EMSP_MODULES),
        ),
    )


def words(text: str) -> str:
    """The CLI's console wraps long lines: compare words, not lines."""
    return " ".join(text.split())


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {within} s")
        await asyncio.sleep(0.1)


async def test_the_operator_connects_parties_and_rotates_a_token(
    served: tuple[dict[str, str], str], start_party: StartParty
) -> None:
    env, base = served
    cpo = await handshake_party(start_party, "cpo-token-a", "CPO", "TNM")
    emsp = await handshake_party(start_party, "emsp-token-a", "EMSP", "MSP")

    code, stdout, stderr = await hub_cli(
        env, "parties", "connect", "--versions-url", cpo.versions_url, "--token", "cpo-token-a", "--json"
    )
    assert code == 0, stderr
    connected = json.loads(stdout)
    assert connected["id"].startswith("p-")
    assert connected["status"] == "CONNECTED"
    assert connected["parties"] == [
        {"country_code": "NL", "party_id": "TNM", "role": "CPO", "name": "CPO TNM"}
    ]

    code, stdout, stderr = await hub_cli(
        env,
        "parties",
        "connect",
        "--versions-url",
        emsp.versions_url,
        "--token",
        "emsp-token-a",
        "--name",
        "MSP",
    )
    assert code == 0, stderr
    assert "party: NL*MSP EMSP (EMSP MSP)" in words(stdout)
    emsp_id = next(word for word in stdout.split() if word.startswith("p-"))

    code, stdout, _ = await hub_cli(env, "parties", "list", "--json")
    assert [(p["id"], p["name"], p["status"]) for p in json.loads(stdout)] == [
        (connected["id"], "CPO TNM", "CONNECTED"),
        (emsp_id, "MSP", "CONNECTED"),
    ]

    async with ClientSession() as http:
        # Each party calls the running hub with the token the CLI gave it.
        async with http.get(
            f"{base}/ocpi/2.2.1/hubclientinfo", headers=auth(cpo.hub_token or "")
        ) as response:
            assert response.status == 200
            assert {i["party_id"] for i in (await response.json())["data"]} == {"TNM", "MSP"}

        # The CLI left the Hub Client Info pushes in the outbox; the running hub's sweeper sends them.
        def pushed(party: Party) -> list[str]:
            return [r.path for r in party.received if r.module == "hubclientinfo" and r.method == "PUT"]

        async def both_told() -> bool:
            return pushed(cpo) == ["/NL/MSP"] and pushed(emsp) == ["/NL/TNM"]

        await eventually(both_told)

        old_token = cpo.hub_token or ""
        code, stdout, stderr = await hub_cli(
            env | {"HUB_ROTATION_OVERLAP": "1"}, "parties", "rotate", "nl*tnm", "--json"
        )
        assert code == 0, stderr
        rotated: dict[str, Any] = json.loads(stdout)
        assert rotated["id"] == connected["id"]
        assert rotated["previous_token_valid_until"].endswith("Z")
        assert cpo.hub_token != old_token
        assert [h.method for h in cpo.handshakes] == ["POST", "PUT"]

        async def refused(token: str) -> bool:
            async with http.get(f"{base}/ocpi/versions", headers=auth(token)) as response:
                return response.status == 401

        assert not await refused(cpo.hub_token or "")
        await eventually(lambda: refused(old_token), within=5)
        assert not await refused(cpo.hub_token or "")

    code, stdout, stderr = await hub_cli(env, "parties", "rotate", emsp_id)
    assert code == 0, stderr
    assert "The token the party used so far stops working at" in words(stdout)


async def test_cli_errors_say_what_went_wrong_and_keep_nothing(
    served: tuple[dict[str, str], str], start_party: StartParty
) -> None:
    env, _ = served
    party = await handshake_party(start_party, "right-token-a", "CPO", "TNM")
    code, _, stderr = await hub_cli(
        env, "parties", "connect", "--versions-url", party.versions_url, "--token", "wrong-token-a"
    )
    assert code == 1
    said = words(stderr)
    assert "reading the party's versions with token A" in said and "HTTP 401" in said and "3001" in said
    code, stdout, _ = await hub_cli(env, "parties", "list", "--json")
    assert json.loads(stdout) == []
