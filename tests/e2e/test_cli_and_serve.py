"""The operator's journey with real processes: ``python -m hub serve`` on a fresh data directory,
``parties invite --json`` beside it, a party registering with only that output, and the other
``parties`` commands working while the hub runs."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession

from tests.conftest import free_port
from tests.support.party import Party, role

ROOT = Path(__file__).resolve().parents[2]


def environment(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(
        {
            "HUB_DATA_DIR": str(data_dir),
            "HUB_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "HUB_LOG_FORMAT": "json",
        }
    )
    return env


async def hub_cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub",
        *args,
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, stdout.decode(), stderr.decode()


async def register(
    http: ClientSession, invitation: dict[str, str], party: Party, *roles: dict[str, Any]
) -> str:
    """A party registers using only ``parties invite --json`` output; returns its token C."""
    auth = {"Authorization": "Token " + base64.b64encode(invitation["token_a"].encode()).decode()}
    async with http.get(invitation["versions_url"], headers=auth) as response:
        versions: list[dict[str, Any]] = (await response.json())["data"]
    details_url = next(v["url"] for v in versions if v["version"] == "2.2.1")
    async with http.get(details_url, headers=auth) as response:
        endpoints = (await response.json())["data"]["endpoints"]
    credentials_url = next(e["url"] for e in endpoints if e["identifier"] == "credentials")
    async with http.post(credentials_url, headers=auth, json=party.credentials(list(roles))) as response:
        body = await response.json()
    assert body["status_code"] == 1000, body
    return str(body["data"]["token"])


@asynccontextmanager
async def serving(env: dict[str, str], port: int, log_path: Path) -> AsyncIterator[str]:
    """``python -m hub serve`` on ``port`` with ``env``, its output in ``log_path``; yields its base
    URL once ``/healthz`` answers, and stops it afterwards."""
    log = await asyncio.to_thread(log_path.open, "wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub", "serve", "--port", str(port),
        env=env, cwd=ROOT, stdout=log, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        async with ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(f"{base}/healthz") as response:
                        if response.status == 200:
                            break
                except OSError:
                    await asyncio.sleep(0.05)
            else:
                raise AssertionError("hub did not start: " + await asyncio.to_thread(log_path.read_text))
        yield base
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), timeout=10)
        except TimeoutError:
            process.kill()
            await process.wait()
        await asyncio.to_thread(log.close)


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[dict[str, str], str, Path]]:
    port = free_port()
    env = environment(tmp_path / "var", port)
    log_path = tmp_path / "serve.log"
    async with serving(env, port, log_path) as base:
        yield env, base, log_path


async def test_a_party_registers_using_only_the_invitation_output(
    served: tuple[dict[str, str], str, Path], start_party: Callable[..., Awaitable[Party]]
) -> None:
    env, base, log_path = served
    code, stdout, _ = await hub_cli(env, "parties", "invite", "--name", "Test CPO", "--json")
    assert code == 0
    invitation = json.loads(stdout)
    assert set(invitation) == {"token_a", "versions_url"}
    assert invitation["versions_url"] == f"{base}/ocpi/versions"

    party = await start_party()
    async with ClientSession() as http:
        token_c = await register(http, invitation, party, role("CPO", "NL", "TNM"))
        auth_c = {"Authorization": "Token " + base64.b64encode(token_c.encode()).decode()}

        # The CLI sees the registration made through the running hub.
        code, stdout, _ = await hub_cli(env, "parties", "list", "--json")
        assert code == 0
        [listed] = json.loads(stdout)
        assert listed["registered"] is True and listed["status"] == "CONNECTED"
        assert listed["parties"] == [
            {"country_code": "NL", "party_id": "TNM", "role": "CPO", "name": "Test Party"}
        ]
        code, stdout, _ = await hub_cli(env, "parties", "show", "nl*tnm", "--json")
        assert json.loads(stdout)["id"] == listed["id"]

        # ... and what the CLI changes, the running hub obeys.
        code, _, _ = await hub_cli(env, "parties", "suspend", listed["id"])
        assert code == 0
        async with http.get(invitation["versions_url"], headers=auth_c) as response:
            assert response.status == 401
        code, _, _ = await hub_cli(env, "parties", "resume", "NL*TNM")
        async with http.get(invitation["versions_url"], headers=auth_c) as response:
            assert response.status == 200
        code, _, _ = await hub_cli(env, "parties", "remove", "NL*TNM")
        assert code == 0
        async with http.get(invitation["versions_url"], headers=auth_c) as response:
            assert response.status == 401
        code, stdout, _ = await hub_cli(env, "parties", "list", "--json")
        assert json.loads(stdout) == []

    # A key was generated once, with a warning, and no token reached the hub's log.
    assert await asyncio.to_thread((Path(env["HUB_DATA_DIR"]) / "secret.key").exists)
    log_text = await asyncio.to_thread(log_path.read_text)
    assert "secret_key_generated" in log_text
    assert "hub_started" in log_text
    for secret in (invitation["token_a"], token_c, party.token_b):
        assert secret not in log_text


async def test_a_bad_setting_stops_the_cli_naming_the_variable(tmp_path: Path) -> None:
    env = environment(tmp_path / "var", free_port())
    env["HUB_COUNTRY_CODE"] = "Netherlands"
    code, _, stderr = await hub_cli(env, "parties", "list")
    assert code == 2
    assert "HUB_COUNTRY_CODE" in stderr
    code, _, stderr = await hub_cli(env, "serve", "--port", str(free_port()))
    assert code == 2
    assert "HUB_COUNTRY_CODE" in stderr


async def test_an_unknown_platform_is_a_clear_cli_error(tmp_path: Path) -> None:
    env = environment(tmp_path / "var", free_port())
    code, _, stderr = await hub_cli(env, "parties", "show", "XX*YYY")
    assert code == 1
    assert "no platform 'XX*YYY'" in stderr
