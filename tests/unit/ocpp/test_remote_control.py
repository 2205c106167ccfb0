"""STOP_SESSION and charging profiles of hosted CPOs, in the shell: the synchronous answer, the OCPP
call and the result recorded for the eMSP's response_url. The running transactions and the station
calls are small stand-ins here; the store is the real SQLite one."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from ocpp.exceptions import NotImplementedError as OcppNotImplemented
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201

from hub.background import Background
from hub.mirror.service import Mirror
from hub.ocpi.base import OcpiModel
from hub.ocpi.v2_2_1.chargingprofiles import SetChargingProfile
from hub.ocpi.v2_2_1.commands import StopSession
from hub.ocpi.v2_2_1.common import Role
from hub.ocpi.v2_2_1.hubclientinfo import ConnectionStatus
from hub.ocpi.v2_2_1.versions import ModuleID
from hub.ocpp import operators
from hub.ocpp.records import OCPP16, OCPP201
from hub.ocpp.remote_control import RemoteControl
from hub.ocpp.transaction_records import RunningTransaction
from hub.outbox.records import Delivery
from hub.platforms import PartyRole, Platform
from hub.routing.hosted import HostedAnswer, HostedRequest
from hub.routing.requests import ObjectUrl
from hub.routing.table import PartyRef
from hub.services import Services
from tests.support import objects
from tests.support.stations import TEMPLATE

CPO = PartyRef("NL", "ABC")
MSP = PartyRef("DE", "MSP")
EMP = PartyRef("FR", "EMP")
RESULT_URL = "https://emsp.example.com/ocpi/results/1"


@dataclass
class Calls:
    """The station: connected or not, answering with ``answers`` (an exception is raised)."""

    connected_ids: set[str] = field(default_factory=lambda: {"CS001"})
    answers: list[Any] = field(default_factory=list)
    sent: list[Any] = field(default_factory=list)

    async def connected(self, station_id: str) -> bool:
        return station_id in self.connected_ids

    async def call(self, station_id: str, request: Any) -> Any:
        self.sent.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


@dataclass
class Running:
    transactions: dict[str, RunningTransaction] = field(default_factory=dict)

    async def by_session(self, session_id: str) -> RunningTransaction | None:
        return self.transactions.get(session_id)


class NoStarts:
    async def expect_remote_start(self, station_id: str, **_: Any) -> None:
        raise AssertionError("no remote start here")


@dataclass
class World:
    services: Services
    control: RemoteControl
    calls: Calls
    running: Running
    background: Background
    delivered: list[str]
    emsps: dict[str, Platform]

    def request(
        self,
        method: str,
        module: ModuleID,
        tail: tuple[str, ...],
        parsed: OcpiModel | None = None,
        *,
        origin: PartyRef = MSP,
        query: dict[str, str] | None = None,
    ) -> HostedRequest:
        return HostedRequest(
            method=method,
            module=module,
            tail=tail,
            query=query or {},
            parsed=parsed,
            origin=origin,
            origin_platform=self.emsps[origin.key],
            cpo=CPO,
            correlation_id="corr-1",
        )

    async def results(self) -> list[Delivery]:
        await self.background.idle()
        found = [await self.services.store.outbox.get(i) for i in self.delivered]
        return [d for d in found if d is not None]


async def emsp(services: Services, party: PartyRef) -> Platform:
    platform = Platform(
        name=party.key,
        registered=True,
        status=ConnectionStatus.CONNECTED,
        roles=[PartyRole(role=Role.EMSP, country_code=party.country_code, party_id=party.party_id)],
    )
    await services.store.platforms.add(platform)
    return platform


@pytest.fixture
async def world(services: Services) -> AsyncIterator[World]:
    await operators.add_cpo(services, country_code="NL", party_id="ABC", name="Hub Charging")
    await operators.add_station(
        services, cpo="NL*ABC", station_id="CS001", template=TEMPLATE, password="a-long-password-0001"
    )
    mirror = Mirror(services.store.mirror)
    for session_id, owner in (("S1", ("DE", "MSP")), ("S2", ("FR", "EMP"))):
        body = json.dumps(objects.session("NL", "ABC", session_id, emsp=owner)).encode()
        await mirror.push("sessions", "PUT", ObjectUrl(CPO, (session_id,)), None, body, strict=True)
    emsps = {p.key: await emsp(services, p) for p in (MSP, EMP)}
    delivered: list[str] = []

    async def deliver(ids: Any) -> None:
        delivered.extend(ids)

    calls, running, background = Calls(), Running(), Background()
    control = RemoteControl(
        services, mirror, calls, deliver, background, starts=NoStarts(), running=running, timeout=1.0
    )
    yield World(services, control, calls, running, background, delivered, emsps)
    await background.close()


def transaction(protocol: str = OCPP16, *, status: str = "ACTIVE") -> RunningTransaction:
    return RunningTransaction(
        station_id="CS001",
        protocol=protocol,
        transaction_id="123" if protocol == OCPP16 else "tx-123",
        evse=1,
        connector=1,
        status=status,
    )


def stop(session_id: str = "S1") -> StopSession:
    return StopSession(response_url=RESULT_URL, session_id=session_id)


async def post_stop(world: World, session_id: str = "S1", origin: PartyRef = MSP) -> HostedAnswer:
    request = world.request("POST", ModuleID.COMMANDS, ("STOP_SESSION",), stop(session_id), origin=origin)
    return await world.control.answer(request)


# --- STOP_SESSION ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("protocol", "expected"),
    [
        (OCPP16, call16.RemoteStopTransaction(transaction_id=123)),
        (OCPP201, call201.RequestStopTransaction(transaction_id="tx-123")),
    ],
)
async def test_stop_session_stops_the_transaction_and_posts_the_result_from_the_cpo(
    world: World, protocol: str, expected: Any
) -> None:
    world.running.transactions["S1"] = transaction(protocol)
    status = result16.RemoteStopTransaction if protocol == OCPP16 else result201.RequestStopTransaction
    world.calls.answers.append(status(status="Accepted"))
    answer = await post_stop(world)
    assert answer.data is not None and answer.data["result"] == "ACCEPTED"
    [delivery] = await world.results()
    assert world.calls.sent == [expected]
    assert json.loads(delivery.body or "") == {"result": "ACCEPTED"}
    assert (delivery.method, delivery.url, delivery.module) == ("POST", RESULT_URL, "commands")
    assert (delivery.from_country_code, delivery.from_party_id) == ("NL", "ABC")
    assert (delivery.to_country_code, delivery.to_party_id) == ("DE", "MSP")
    assert delivery.target_platform_id == world.emsps[MSP.key].id


async def test_stop_of_an_unknown_session_is_unknown_session(world: World) -> None:
    answer = await post_stop(world, "NOPE")
    assert answer.data is not None and answer.data["result"] == "UNKNOWN_SESSION"
    assert await world.results() == [] and world.calls.sent == []


async def test_stop_of_another_emsps_session_is_rejected(world: World) -> None:
    world.running.transactions["S2"] = transaction()
    answer = await post_stop(world, "S2")
    assert answer.data is not None and answer.data["result"] == "REJECTED"
    assert world.calls.sent == []


async def test_stop_of_a_completed_session_is_rejected(world: World) -> None:
    world.running.transactions["S1"] = transaction(status="COMPLETED")
    answer = await post_stop(world)
    assert answer.data is not None and answer.data["result"] == "REJECTED"


async def test_stop_on_a_station_that_is_not_connected_is_rejected(world: World) -> None:
    world.running.transactions["S1"] = transaction()
    world.calls.connected_ids.clear()
    answer = await post_stop(world)
    assert answer.data is not None and answer.data["result"] == "REJECTED"
    assert world.calls.sent == []


@pytest.mark.parametrize(
    ("error", "result"),
    [(OcppNotImplemented(), "NOT_SUPPORTED"), (TimeoutError(), "TIMEOUT")],
)
async def test_a_stop_the_station_cannot_take_gets_its_result(
    world: World, error: Exception, result: str
) -> None:
    world.running.transactions["S1"] = transaction()
    world.calls.answers.append(error)
    await post_stop(world)
    [delivery] = await world.results()
    assert json.loads(delivery.body or "") == {"result": result}


# --- charging profiles -----------------------------------------------------------------------------

PROFILE = {
    "charging_profile": {
        "charging_rate_unit": "A",
        "charging_profile_period": [{"start_period": 0, "limit": 16.3}],
    },
    "response_url": RESULT_URL,
}


def put_profile(world: World, session_id: str = "S1") -> HostedRequest:
    parsed = SetChargingProfile.model_validate(PROFILE)
    return world.request("PUT", ModuleID.CHARGING_PROFILES, (session_id,), parsed)


async def test_a_profile_is_set_on_the_running_transaction_and_replaced_under_the_same_id(
    world: World,
) -> None:
    world.running.transactions["S1"] = transaction()
    world.calls.answers += [result16.SetChargingProfile(status="Accepted")] * 2
    answer = await world.control.answer(put_profile(world))
    assert answer.data == {"result": "ACCEPTED", "timeout": world.control.promised}
    await world.control.answer(put_profile(world))
    results = await world.results()
    assert [json.loads(d.body or "") for d in results] == [{"result": "ACCEPTED"}] * 2
    assert {d.module for d in results} == {"chargingprofiles"}
    first, again = world.calls.sent
    assert isinstance(first, call16.SetChargingProfile) and first.connector_id == 1
    assert first.cs_charging_profiles["transaction_id"] == 123
    assert first.cs_charging_profiles["charging_profile_purpose"] == "TxProfile"
    assert (
        first.cs_charging_profiles["charging_profile_id"] == again.cs_charging_profiles["charging_profile_id"]
    )


async def test_a_profile_the_station_does_not_answer_is_rejected(world: World) -> None:
    world.running.transactions["S1"] = transaction(OCPP201)
    world.calls.answers.append(TimeoutError())
    await world.control.answer(put_profile(world))
    [delivery] = await world.results()
    assert json.loads(delivery.body or "") == {"result": "REJECTED"}


async def test_a_profile_for_an_unknown_or_foreign_session_is_refused_at_once(world: World) -> None:
    unknown = await world.control.answer(put_profile(world, "NOPE"))
    assert unknown.data is not None and unknown.data["result"] == "UNKNOWN_SESSION"
    world.running.transactions["S2"] = transaction()
    foreign = await world.control.answer(put_profile(world, "S2"))
    assert foreign.data is not None and foreign.data["result"] == "REJECTED"
    assert world.calls.sent == [] and await world.results() == []


async def test_the_active_profile_comes_from_the_composite_schedule(world: World) -> None:
    world.running.transactions["S1"] = transaction()
    world.calls.answers.append(
        result16.GetCompositeSchedule(
            status="Accepted",
            connector_id=1,
            schedule_start="2026-01-01T10:00:00Z",
            charging_schedule={
                "charging_rate_unit": "A",
                "charging_schedule_period": [{"start_period": 0, "limit": 10.0}],
            },
        )
    )
    query = {"duration": "900", "response_url": RESULT_URL}
    answer = await world.control.answer(
        world.request("GET", ModuleID.CHARGING_PROFILES, ("S1",), query=query)
    )
    assert answer.data is not None and answer.data["result"] == "ACCEPTED"
    [delivery] = await world.results()
    assert world.calls.sent == [call16.GetCompositeSchedule(connector_id=1, duration=900)]
    result = json.loads(delivery.body or "")
    assert result["result"] == "ACCEPTED"
    assert result["profile"]["charging_profile"]["charging_profile_period"] == [
        {"start_period": 0, "limit": 10}
    ]


async def test_clearing_a_profile_the_hub_never_set_is_unknown_and_one_it_set_is_cleared(
    world: World,
) -> None:
    world.running.transactions["S1"] = transaction()
    delete = world.request("DELETE", ModuleID.CHARGING_PROFILES, ("S1",), query={"response_url": RESULT_URL})
    await world.control.answer(delete)
    [never] = await world.results()
    assert json.loads(never.body or "") == {"result": "UNKNOWN"}
    assert world.calls.sent == []

    world.calls.answers += [
        result16.SetChargingProfile(status="Accepted"),
        result16.ClearChargingProfile(status="Accepted"),
    ]
    await world.control.answer(put_profile(world))
    await world.control.answer(delete)
    _, _, cleared = await world.results()
    assert json.loads(cleared.body or "") == {"result": "ACCEPTED"}
    set_call, clear_call = world.calls.sent
    assert clear_call == call16.ClearChargingProfile(id=set_call.cs_charging_profiles["charging_profile_id"])
