"""``python -m hub outbox …`` as an operator runs it: real processes against an SQLite store the test
prepared, the test reading the same file to see what the commands did."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.ocpi.v2_2_1.common import Role
from hub.ocpi.v2_2_1.hubclientinfo import ConnectionStatus
from hub.outbox.records import Attempt, Delivery, DeliveryState
from hub.platforms import PartyRole, Platform
from hub.store.sqlite import SqliteStore
from tests.conftest import free_port
from tests.e2e.test_cli_and_serve import ROOT, environment

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LONG_BODY = json.dumps({"id": "LOC1", "name": "café ☕", "padding": "x" * 2000})


async def outbox_cli(env: dict[str, str], *args: str, answer: str = "") -> tuple[int, str, str]:
    """Run ``python -m hub outbox …``; ``answer`` is what the operator types at a prompt."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub",
        "outbox",
        *args,
        env=env,
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(answer.encode()), timeout=60)
    return process.returncode or 0, stdout.decode(), stderr.decode()


class World:
    def __init__(self, env: dict[str, str], store: SqliteStore, platform: Platform) -> None:
        self.env = env
        self.store = store
        self.platform = platform

    async def add(self, location_id: str, **fields: object) -> Delivery:
        values: dict[str, object] = {
            "target_platform_id": self.platform.id,
            "to_country_code": "DE",
            "to_party_id": "MSP",
            "from_country_code": "NL",
            "from_party_id": "HUB",
            "method": "PUT",
            "url": f"http://127.0.0.1:9/ocpi/2.2.1/locations/NL/CPO/{location_id}",
            "body": json.dumps({"id": location_id}),
            "module": "locations",
            "object_key": f"locations|NL|CPO|{location_id}",
            "created_at": T0,
        }
        delivery = Delivery.model_validate(values | fields)
        await self.store.outbox.add([delivery])
        return delivery

    async def state_of(self, delivery_id: str) -> DeliveryState | None:
        found = await self.store.outbox.get(delivery_id)
        return None if found is None else found.state


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    env = environment(tmp_path / "var", free_port())
    env["COLUMNS"] = "300"  # a wide terminal, so the table shows ids whole
    store = await SqliteStore.open(tmp_path / "var" / "hub.sqlite3")
    platform = Platform(
        name="DE*MSP",
        status=ConnectionStatus.CONNECTED,
        registered=True,
        roles=[PartyRole(role=Role.EMSP, country_code="DE", party_id="MSP")],
    )
    await store.platforms.add(platform)
    yield World(env, store, platform)
    await store.close()


async def test_an_operator_lists_shows_and_retries_a_dead_letter(world: World) -> None:
    dead = await world.add(
        "LOC1",
        state=DeliveryState.DEAD,
        reason="refused by the receiver: HTTP 400, OCPI 2001",
        next_attempt_at=None,
        body=LONG_BODY,
        attempts=[Attempt(at=T0, http_status=400, ocpi_status=2001, error=None, elapsed_ms=3.5)],
    )
    pending = await world.add("LOC2", created_at=T0 + timedelta(seconds=1))
    await world.add("LOC3", state=DeliveryState.DELIVERED, created_at=T0 + timedelta(seconds=2))

    code, stdout, _ = await outbox_cli(world.env, "list", "--json")
    assert code == 0
    listed = json.loads(stdout)
    assert [(d["id"], d["state"]) for d in listed] == [(dead.id, "DEAD"), (pending.id, "PENDING")]
    assert listed[0]["to"] == "DE*MSP" and listed[0]["body"] == LONG_BODY

    code, stdout, _ = await outbox_cli(world.env, "list", "--state", "dead", "--party", "de*msp", "--json")
    assert [d["id"] for d in json.loads(stdout)] == [dead.id]
    code, stdout, _ = await outbox_cli(world.env, "list", "--state", "DELIVERED")
    assert code == 0 and "DELIVERED" in stdout and dead.id not in stdout

    code, stdout, _ = await outbox_cli(world.env, "show", dead.id, "--json")
    assert code == 0
    shown = json.loads(stdout)
    assert shown["body"] == LONG_BODY
    assert shown["reason"] == "refused by the receiver: HTTP 400, OCPI 2001"
    assert [(a["http_status"], a["ocpi_status"], a["error"]) for a in shown["attempts"]] == [
        (400, 2001, None)
    ]
    code, stdout, _ = await outbox_cli(world.env, "show", dead.id)
    assert code == 0
    assert f"({len(LONG_BODY)} characters)" in stdout and "padding" in stdout and LONG_BODY not in stdout
    assert "400" in stdout and "2001" in stdout

    code, _, stderr = await outbox_cli(world.env, "retry", pending.id)
    assert code == 1
    assert f"delivery {pending.id} is PENDING; only DEAD deliveries can be retried" in stderr

    code, stdout, _ = await outbox_cli(world.env, "retry", dead.id)
    assert code == 0 and dead.id in stdout
    retried = await world.store.outbox.get(dead.id)
    assert retried is not None
    assert (retried.state, retried.reason) == (DeliveryState.PENDING, None)
    assert retried.attempts == dead.attempts
    assert retried.next_attempt_at is not None and retried.next_attempt_at > T0


async def test_an_operator_purges_finished_deliveries_after_confirming(world: World) -> None:
    pending = await world.add("LOC1")
    old_delivered = await world.add("LOC2", state=DeliveryState.DELIVERED)
    new_delivered = await world.add("LOC3", state=DeliveryState.DELIVERED, created_at=T0 + timedelta(days=2))
    superseded = await world.add("LOC4", state=DeliveryState.SUPERSEDED)
    dead = await world.add("LOC5", state=DeliveryState.DEAD)

    code, _, stderr = await outbox_cli(world.env, "purge", "--state", "DELIVERED", answer="n\n")
    assert code == 1 and "Aborted" in stderr
    assert await world.state_of(old_delivered.id) is DeliveryState.DELIVERED

    code, _, stderr = await outbox_cli(world.env, "purge", "--state", "PENDING", "--yes")
    assert code == 2 and "never purged" in stderr
    assert await world.state_of(pending.id) is DeliveryState.PENDING

    code, stdout, _ = await outbox_cli(
        world.env,
        "purge",
        "--state",
        "delivered",
        "--state",
        "SUPERSEDED",
        "--before",
        "2025-03-02T00:00:00Z",
        "--yes",
    )
    assert code == 0 and "2 deliveries purged" in stdout
    assert await world.state_of(old_delivered.id) is None
    assert await world.state_of(superseded.id) is None
    assert await world.state_of(new_delivered.id) is DeliveryState.DELIVERED

    code, stdout, _ = await outbox_cli(world.env, "purge", "--state", "DEAD", answer="y\n")
    assert code == 0 and "1 deliveries purged" in stdout
    assert await world.state_of(dead.id) is None
    assert await world.state_of(pending.id) is DeliveryState.PENDING
