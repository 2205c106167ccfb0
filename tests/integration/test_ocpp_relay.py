"""Two hub processes sharing one store and one Redis: a station connected to one of them is called
from the other (``hub.ocpp.relay``). Real apps on loopback, a real ``redis-server``, real stations."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from ocpp.exceptions import NotImplementedError as OcppNotImplemented
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201
from redis.asyncio import Redis

from hub.app import create_app
from hub.bootstrap import build_services
from hub.ocpp.calls import StationCalls
from hub.ocpp.connection import StationDisconnected
from hub.ocpp.relay import holder_key
from hub.ocpp.server import calls_key, relay_key, stations_key
from settings import Settings
from tests.conftest import Hub, free_port
from tests.integration.conftest import Network, settle
from tests.integration.test_ocpp_commands import boot
from tests.support import objects
from tests.support.processes import RedisServer
from tests.support.stations import STATION_PASSWORD, RunningStation, connect_station

PASSWORD = STATION_PASSWORD


@pytest.fixture
def settings(settings: Settings, redis: RedisServer) -> Settings:
    return settings.model_copy(update={"relay_url": redis.url})


@pytest.fixture
async def second(settings: Settings) -> AsyncIterator[Hub]:
    """Another hub process: its own app, services and port, the same store file and Redis."""
    port = free_port()
    other = settings.model_copy(update={"public_url": f"http://127.0.0.1:{port}"})
    services = await build_services(other)
    server = TestServer(create_app(other, services=services), host="127.0.0.1", port=port)
    await server.start_server()
    async with ClientSession() as http:
        yield Hub(server, services, http)
    await server.close()
    await services.close()


@pytest.fixture
async def stations() -> AsyncIterator[list[RunningStation]]:
    opened: list[RunningStation] = []
    yield opened
    for station in opened:
        await station.close()


def calls(hub: Hub) -> StationCalls:
    return hub.server.app[calls_key]


async def connect(hub: Hub, opened: list[RunningStation], protocol: str = "ocpp1.6") -> RunningStation:
    station = await connect_station(hub.http, hub.base_url, "CS001", PASSWORD, protocol)
    opened.append(station)
    # The hub has registered the connection once it answered a call.
    await station.cp.call(call16.Heartbeat() if protocol == "ocpp1.6" else call201.Heartbeat())
    return station


async def until(condition: Callable[[], object], *, within: float = 5) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_a_station_held_by_one_process_is_called_from_the_other(
    hosted: Network, second: Hub, stations: list[RunningStation]
) -> None:
    first = hosted.hub
    station = await connect(first, stations)
    assert await calls(second).connected("CS001")

    answer = await calls(second).call("CS001", call16.TriggerMessage(requested_message="StatusNotification"))

    assert answer.status == "Accepted"
    assert station.cp.triggered == ["StatusNotification"]
    client = Redis.from_url(str(first.services.settings.relay_url), driver_info=None)
    holder = await client.get(holder_key("CS001"))
    await client.aclose()
    assert holder is not None and holder.decode() == first.server.app[relay_key].process_id


async def test_a_call_error_of_the_station_reaches_the_other_process_as_the_same_error(
    hosted: Network, second: Hub, stations: list[RunningStation]
) -> None:
    await connect(hosted.hub, stations)
    # The test station has no handler for Reset: the library answers NotImplemented.
    with pytest.raises(OcppNotImplemented):
        await calls(second).call("CS001", call16.Reset(type="Soft"))


async def test_a_station_that_left_cannot_be_called_from_any_process(
    hosted: Network, second: Hub, stations: list[RunningStation]
) -> None:
    station = await connect(hosted.hub, stations)
    await station.close()
    await until(lambda: hosted.hub.server.app[stations_key].get("CS001") is None)
    await settle(hosted.hub)

    assert not await calls(second).connected("CS001")
    with pytest.raises(StationDisconnected):
        await calls(second).call("CS001", call16.TriggerMessage(requested_message="Heartbeat"))


async def test_a_station_moving_to_the_other_process_is_dropped_by_the_first_without_reading_unknown(
    hosted: Network, second: Hub, stations: list[RunningStation]
) -> None:
    first = hosted.hub
    old = await connect(first, stations)
    await old.cp.call(call16.StatusNotification(connector_id=1, error_code="NoError", status="Available"))
    await settle(first)
    hosted.msp.party.received.clear()

    new = await connect(second, stations)

    await until(lambda: old.ws.closed)
    assert old.ws.close_code == 1008
    answer = await calls(first).call("CS001", call16.TriggerMessage(requested_message="Heartbeat"))
    assert answer.status == "Accepted"
    assert new.cp.triggered == ["Heartbeat"]
    await settle(first)
    station = await first.services.store.stations.get("CS001")
    assert station is not None and station.connected
    # Nothing told the eMSPs that the station's EVSEs went UNKNOWN.
    assert [r for r in hosted.msp.party.received if r.module == "locations"] == []


async def test_a_restarted_redis_gets_the_holders_back_and_calls_work_again(
    hosted: Network, second: Hub, stations: list[RunningStation], redis: RedisServer
) -> None:
    station = await connect(hosted.hub, stations)
    await redis.stop()
    await redis.start()  # same port, empty

    async def reachable() -> bool:
        try:
            await calls(second).call("CS001", call16.TriggerMessage(requested_message="Heartbeat"))
        except StationDisconnected:
            return False
        return True

    deadline = asyncio.get_running_loop().time() + 10
    while not await reachable():
        assert asyncio.get_running_loop().time() < deadline, "the station never became reachable again"
        await asyncio.sleep(0.2)
    assert "Heartbeat" in station.cp.triggered


@pytest.mark.parametrize("protocol", ["ocpp1.6", "ocpp2.0.1"])
async def test_an_ocpi_command_sent_to_the_other_process_reaches_the_station_and_its_result_the_emsp(
    hosted: Network, second: Hub, stations: list[RunningStation], protocol: str
) -> None:
    station = await connect(hosted.hub, stations, protocol)
    await boot(hosted, station, protocol)
    # The eMSP's request lands on the process that does not hold the station.
    msp = dataclasses.replace(hosted.msp, hub=second)
    response_url = msp.party.endpoint_url("commands", "SENDER") + "/START_SESSION/7"
    body = {
        "response_url": response_url,
        "token": objects.token("DE", "MSP", uid="TOKEN1", token_type="APP_USER"),
        "location_id": "CS001",
        "evse_uid": "CS001*1",
        "authorization_reference": "AUTH-7",
    }

    answer = await msp.call(
        "POST", "/ocpi/2.2.1/receiver/commands/START_SESSION", to=("NL", "ABC"), body=body
    )

    assert answer.status == 200
    assert (await answer.json())["data"]["result"] == "ACCEPTED"
    await until(lambda: any(r.module == "commands" for r in hosted.msp.party.received))
    await settle(second)
    [(action, payload)] = station.cp.answers.calls
    if protocol == "ocpp1.6":
        assert (action, payload["id_tag"], payload["connector_id"]) == ("RemoteStartTransaction", "TOKEN1", 1)
    else:
        assert (action, payload["id_token"]["id_token"], payload["evse_id"]) == (
            "RequestStartTransaction",
            "TOKEN1",
            1,
        )
    [result] = [r for r in hosted.msp.party.received if r.module == "commands"]
    assert result.path == "/START_SESSION/7"
    assert json.loads(result.body)["result"] == "ACCEPTED"
