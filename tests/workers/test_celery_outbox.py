"""Deliveries through real Celery workers on a real Redis: nothing the hub accepted is lost when a
receiver is away, a worker is killed, or Redis restarts; and the schedule runs once per cluster."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from hub.outbox.records import DeliveryState
from tests.conftest import Hub, free_port
from tests.support import objects
from tests.support.network import CPO_MODULES, EMSP_MODULES, Member
from tests.support.party import Party, PartyBehaviour, Received, role
from tests.support.processes import RedisServer
from tests.workers.conftest import StartProcess, deliveries, eventually

HUB = ("NL", "HUB")


@dataclass
class Parties:
    """Party apps on fixed ports, so one can go away and come back at the same address."""

    hub: Hub
    servers: dict[str, TestServer] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)

    async def join(self, role_name: str, country_code: str, party_id: str) -> Member:
        key = f"{country_code}*{party_id}"
        modules = CPO_MODULES if role_name == "CPO" else EMSP_MODULES
        party = Party(f"{key}-token-b", PartyBehaviour(modules=list(modules)))
        self.ports[key] = free_port()
        party.base_url = f"http://127.0.0.1:{self.ports[key]}"
        await self._serve(key, party)
        token_c = await self.hub.register(
            party, await self.hub.invite(key), [role(role_name, country_code, party_id)]
        )
        return Member(self.hub, party, token_c, country_code, party_id)

    async def _serve(self, key: str, party: Party) -> None:
        server = TestServer(party.app, host="127.0.0.1", port=self.ports[key])
        await server.start_server()
        self.servers[key] = server

    async def stop(self, member: Member) -> None:
        await self.servers.pop(member.key).close()

    async def restart(self, member: Member) -> None:
        # A fresh application object: aiohttp does not start the same one twice.
        fresh = Party(member.party.token_b, member.party.behaviour)
        fresh.base_url, fresh.received, fresh.handler = (
            member.party.base_url,
            member.party.received,
            member.party.handler,
        )
        member.party = fresh
        await self._serve(member.key, fresh)

    async def close(self) -> None:
        for server in self.servers.values():
            await server.close()


@pytest.fixture
async def parties(hub: Hub) -> AsyncIterator[Parties]:
    network = Parties(hub)
    yield network
    await network.close()


async def push_locations(cpo: Member, count: int, *, start: int = 0) -> list[str]:
    paths = []
    for number in range(start, start + count):
        location = objects.location(location_id=f"LOC{number}")
        response = await cpo.call(
            "PUT", f"/ocpi/2.2.1/receiver/locations/NL/CPO/LOC{number}", to=HUB, body=location
        )
        assert (await response.json())["status_code"] == 1000
        paths.append(f"/NL/CPO/LOC{number}")
    return paths


def received_locations(member: Member) -> list[str]:
    return [r.path for r in member.party.received if r.module == "locations" and r.method == "PUT"]


async def all_locations_delivered(hub: Hub, count: int) -> bool:
    done = await deliveries(hub.services, DeliveryState.DELIVERED)
    return sum(1 for d in done if d.module == "locations") >= count


async def test_a_receiver_that_was_down_gets_every_queued_delivery_exactly_once(
    hub: Hub, parties: Parties, start_process: StartProcess
) -> None:
    cpo = await parties.join("CPO", "NL", "CPO")
    msp = await parties.join("EMSP", "DE", "MSP")
    await start_process("worker")
    await start_process("beat")
    await parties.stop(msp)

    sent = await push_locations(cpo, 40)

    async def failed_repeatedly() -> bool:
        pending = await deliveries(hub.services, DeliveryState.PENDING)
        locations = [d for d in pending if d.module == "locations"]
        return len(locations) == 40 and all(len(d.attempts) >= 2 for d in locations)

    await eventually(failed_repeatedly, what="every delivery to fail at least twice")
    assert received_locations(msp) == []
    [one] = [
        d
        for d in await deliveries(hub.services, DeliveryState.PENDING)
        if d.object_key and "LOC0" in d.object_key
    ]
    assert one.attempts[0].error is not None and "Connect" in one.attempts[0].error

    await parties.restart(msp)
    await eventually(lambda: all_locations_delivered(hub, 40), what="all 40 deliveries")

    assert sorted(received_locations(msp)) == sorted(sent)  # each exactly once
    for received in msp.party.received:
        if received.module == "locations":
            assert json.loads(received.body)["id"] == received.path.rsplit("/", 1)[1]


async def test_killing_the_worker_in_the_middle_of_deliveries_loses_nothing(
    hub: Hub, parties: Parties, start_process: StartProcess
) -> None:
    cpo = await parties.join("CPO", "NL", "CPO")
    msp = await parties.join("EMSP", "DE", "MSP")

    async def slow(_: web.Request, __: Received) -> web.StreamResponse:
        await asyncio.sleep(0.02)
        return web.json_response({"status_code": 1000, "timestamp": "2025-01-01T00:00:00Z"})

    msp.party.handler = slow
    worker = await start_process("worker")
    await start_process("beat")
    sent = await push_locations(cpo, 150)

    await eventually(lambda: asyncio.sleep(0, len(received_locations(msp)) >= 20), what="20 deliveries")
    await worker.kill()
    at_kill = len(set(received_locations(msp)))
    assert at_kill < 150, "the worker was killed too late to prove anything"
    assert [d for d in await deliveries(hub.services, DeliveryState.PENDING) if d.module == "locations"]

    await start_process("worker")
    await eventually(lambda: all_locations_delivered(hub, 150), within=60, what="all 150 deliveries")

    got = received_locations(msp)
    assert set(got) == set(sent)
    # At least once: only what was in flight when the worker died may have come twice.
    assert len(got) - len(set(got)) <= 16
    assert await deliveries(hub.services, DeliveryState.DEAD) == []


async def test_restarting_redis_loses_nothing(
    hub: Hub, parties: Parties, redis: RedisServer, start_process: StartProcess
) -> None:
    cpo = await parties.join("CPO", "NL", "CPO")
    msp = await parties.join("EMSP", "DE", "MSP")
    # No worker yet: the jobs for the first 30 wait in Redis, and die with it.
    first = await push_locations(cpo, 30)
    await redis.stop()
    # With Redis away the hub still accepts pushes: the work is in the store.
    second = await push_locations(cpo, 10, start=30)
    await redis.start()
    third = await push_locations(cpo, 10, start=40)

    await start_process("worker")
    await start_process("beat")
    await eventually(lambda: all_locations_delivered(hub, 50), what="all 50 deliveries")
    assert sorted(received_locations(msp)) == sorted(first + second + third)


def sends(log: str) -> int:
    return log.count("Sending due task hub.sweep")


async def test_two_schedulers_send_each_chore_once_and_the_second_takes_over(
    start_process: StartProcess,
) -> None:
    beats = [await start_process("beat", name="beat-one"), await start_process("beat", name="beat-two")]

    async def one_sends() -> bool:
        return any([sends(await beat.log()) >= 2 for beat in beats])

    await eventually(one_sends, what="a scheduler to send")
    await asyncio.sleep(3)  # both have long started: only the lock holder sends
    logs = [await beat.log() for beat in beats]
    holder, other = (beats[0], beats[1]) if sends(logs[0]) else (beats[1], beats[0])
    assert sorted(sends(log) > 0 for log in logs) == [False, True], [sends(log) for log in logs]
    assert "Acquired lock" not in await other.log()

    await holder.kill()

    async def other_sends() -> bool:
        return sends(await other.log()) >= 2

    await eventually(other_sends, within=20, what="the other scheduler to take over")
    assert "Acquired lock" in await other.log()
