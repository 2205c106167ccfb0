"""Stations attached to the hub over OCPP: real ``ocpp`` client stations over real websockets, the
hub's hosted CPO publishing their Location to the eMSPs of the routing network."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import WSMsgType, WSServerHandshakeError
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from hub.ocpp import operators
from hub.ocpp.connection import StationDisconnected
from hub.ocpp.server import stations_key
from tests.integration.conftest import Network, connect, of, settle
from tests.support.stations import STATION_PASSWORD, RunningStation, basic, connect_station

PASSWORD = STATION_PASSWORD
LOCATION = "/NL/ABC/CS001"


def location_puts(net: Network) -> list[dict[str, Any]]:
    puts = [r for r in of(net.msp, "locations") if r.method == "PUT" and r.path == LOCATION]
    return [json.loads(r.body) for r in puts]


def statuses(location: dict[str, Any]) -> dict[str, str]:
    return {evse["uid"]: evse["status"] for evse in location.get("evses") or []}


# --- before the upgrade ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path_id", "user", "password"),
    [
        ("CS001", "CS001", "wrong-password"),
        ("CS999", "CS999", PASSWORD),
        ("CS001", "CS002", PASSWORD),
    ],
    ids=["wrong password", "unknown station", "user name not the station in the URL"],
)
async def test_a_station_that_fails_basic_auth_gets_401_and_no_websocket(
    hosted: Network, path_id: str, user: str, password: str
) -> None:
    url = hosted.hub.base_url.replace("http://", "ws://") + f"/ocpp/{path_id}"
    with pytest.raises(WSServerHandshakeError) as refused:
        await hosted.hub.http.ws_connect(url, protocols=("ocpp1.6",), headers=basic(user, password))
    assert refused.value.status == 401
    assert refused.value.headers is not None
    assert refused.value.headers["WWW-Authenticate"].startswith("Basic")
    record = await hosted.hub.services.store.stations.get("CS001")
    assert record is not None and not record.connected


async def test_after_a_good_connection_a_wrong_password_or_a_changed_one_is_still_refused(
    hosted: Network, stations: list[RunningStation]
) -> None:
    first = await connect(hosted, stations, "ocpp1.6")
    await first.close()
    url = hosted.hub.base_url.replace("http://", "ws://") + "/ocpp/CS001"
    with pytest.raises(WSServerHandshakeError) as refused:
        await hosted.hub.http.ws_connect(url, protocols=("ocpp1.6",), headers=basic("CS001", "guess"))
    assert refused.value.status == 401

    await operators.set_station_password(hosted.hub.services, "CS001", "a-new-station-password-02")

    with pytest.raises(WSServerHandshakeError) as refused:
        await hosted.hub.http.ws_connect(url, protocols=("ocpp1.6",), headers=basic("CS001", PASSWORD))
    assert refused.value.status == 401
    again = await connect_station(
        hosted.hub.http, hosted.hub.base_url, "CS001", "a-new-station-password-02", "ocpp1.6"
    )
    stations.append(again)


async def test_a_station_without_credentials_gets_401(hosted: Network) -> None:
    url = hosted.hub.base_url.replace("http://", "ws://") + "/ocpp/CS001"
    with pytest.raises(WSServerHandshakeError) as refused:
        await hosted.hub.http.ws_connect(url, protocols=("ocpp1.6",))
    assert refused.value.status == 401


async def test_a_station_offering_no_known_subprotocol_is_closed_at_once(hosted: Network) -> None:
    url = hosted.hub.base_url.replace("http://", "ws://") + "/ocpp/CS001"
    ws = await hosted.hub.http.ws_connect(url, protocols=("ocpp1.5",), headers=basic("CS001", PASSWORD))
    assert ws.protocol is None
    message = await ws.receive()
    assert message.type is WSMsgType.CLOSE
    assert message.data == 1002
    assert "ocpp1.6" in message.extra
    await ws.close()


# --- OCPP 1.6 -----------------------------------------------------------------------------------------


async def test_a_16_station_boots_reports_and_its_location_reaches_every_emsp(
    hosted: Network, stations: list[RunningStation]
) -> None:
    station = await connect(hosted, stations, "ocpp1.6")
    boot = await station.cp.call(
        call16.BootNotification(
            charge_point_vendor="Alfen",
            charge_point_model="Eve",
            firmware_version="4.1",
            charge_point_serial_number="S1",
        )
    )
    assert boot.status == "Accepted"
    assert boot.interval > 0
    heartbeat = await station.cp.call(call16.Heartbeat())
    assert heartbeat.current_time.endswith("Z")

    await station.cp.call(call16.StatusNotification(connector_id=1, error_code="NoError", status="Available"))
    await station.cp.call(call16.StatusNotification(connector_id=2, error_code="NoError", status="Charging"))
    await settle(hosted.hub)

    for member in (hosted.msp, hosted.emp):
        puts = [r for r in of(member, "locations") if r.method == "PUT"]
        assert puts, f"{member.key} got no Location"
        latest = json.loads(puts[-1].body)
        assert puts[-1].path == LOCATION
        assert statuses(latest) == {"CS001*1": "AVAILABLE", "CS001*2": "CHARGING"}
        assert latest["address"] == "Stationsplein 1"
        assert puts[-1].headers["OCPI-from-party-id"] == "HUB"
    evse = next(e for e in location_puts(hosted)[-1]["evses"] if e["uid"] == "CS001*1")
    assert evse["evse_id"] == "NL*ABC*E1001"
    assert evse["connectors"][0]["standard"] == "IEC_62196_T2"
    assert of(hosted.cpo, "locations") == []  # CPOs do not receive Locations

    record = await hosted.hub.services.store.stations.get("cs001")
    assert record is not None and record.boot is not None
    assert (record.boot.vendor, record.boot.model, record.boot.firmware_version) == ("Alfen", "Eve", "4.1")
    assert record.connected and record.protocol == "ocpp1.6"


async def test_get_all_via_the_hub_lists_the_hosted_cpos_location(
    hosted: Network, stations: list[RunningStation]
) -> None:
    station = await connect(hosted, stations, "ocpp1.6")
    await station.cp.call(call16.StatusNotification(connector_id=1, error_code="NoError", status="Faulted"))
    await settle(hosted.hub)

    response = await hosted.msp.call("GET", "/ocpi/2.2.1/sender/locations", to=("NL", "HUB"))
    body = await response.json()
    assert body["status_code"] == 1000
    listed = [loc for loc in body["data"] if (loc["party_id"], loc["id"]) == ("ABC", "CS001")]
    assert len(listed) == 1
    assert statuses(listed[0]) == {"CS001*1": "OUTOFORDER"}


async def test_a_status_that_reads_the_same_in_ocpi_is_not_pushed_again(
    hosted: Network, stations: list[RunningStation]
) -> None:
    station = await connect(hosted, stations, "ocpp1.6")
    for status in ("Preparing", "Charging", "SuspendedEV"):
        await station.cp.call(call16.StatusNotification(connector_id=1, error_code="NoError", status=status))
    await settle(hosted.hub)
    assert [statuses(loc) for loc in location_puts(hosted)] == [{"CS001*1": "CHARGING"}]


async def test_connector_zero_unavailable_takes_every_evse_out_of_service(
    hosted: Network, stations: list[RunningStation]
) -> None:
    station = await connect(hosted, stations, "ocpp1.6")
    await station.cp.call(call16.StatusNotification(connector_id=1, error_code="NoError", status="Available"))
    await station.cp.call(call16.StatusNotification(connector_id=2, error_code="NoError", status="Available"))
    await station.cp.call(
        call16.StatusNotification(connector_id=0, error_code="NoError", status="Unavailable")
    )
    await settle(hosted.hub)
    assert statuses(location_puts(hosted)[-1]) == {"CS001*1": "INOPERATIVE", "CS001*2": "INOPERATIVE"}

    await station.cp.call(call16.StatusNotification(connector_id=0, error_code="NoError", status="Available"))
    await settle(hosted.hub)
    assert statuses(location_puts(hosted)[-1]) == {"CS001*1": "AVAILABLE", "CS001*2": "AVAILABLE"}


async def test_a_station_that_disconnects_shows_unknown_and_comes_back_with_its_statuses(
    hosted: Network, stations: list[RunningStation]
) -> None:
    station = await connect(hosted, stations, "ocpp1.6")
    await station.cp.call(call16.StatusNotification(connector_id=1, error_code="NoError", status="Available"))
    await settle(hosted.hub)
    await station.close()
    await _until(lambda: len(location_puts(hosted)) == 2, hosted)
    assert statuses(location_puts(hosted)[-1]) == {"CS001*1": "UNKNOWN"}
    record = await hosted.hub.services.store.stations.get("CS001")
    assert record is not None and not record.connected

    again = await connect(hosted, stations, "ocpp1.6")
    await again.cp.call(call16.StatusNotification(connector_id=1, error_code="NoError", status="Available"))
    await settle(hosted.hub)
    assert statuses(location_puts(hosted)[-1]) == {"CS001*1": "AVAILABLE"}


async def test_a_newer_connection_replaces_the_older_without_flapping_to_unknown(
    hosted: Network, stations: list[RunningStation]
) -> None:
    first = await connect(hosted, stations, "ocpp1.6")
    await first.cp.call(call16.StatusNotification(connector_id=1, error_code="NoError", status="Available"))
    await settle(hosted.hub)
    second = await connect(hosted, stations, "ocpp1.6")
    await _until(lambda: first.ws.closed, hosted)
    assert first.ws.close_code == 1008  # policy violation: replaced
    await second.cp.call(call16.Heartbeat())
    await settle(hosted.hub)
    assert [statuses(loc) for loc in location_puts(hosted)] == [{"CS001*1": "AVAILABLE"}]
    assert hosted.hub.server.app[stations_key].get("cs001") is not None


async def test_the_hub_calls_a_station_and_a_call_waiting_on_a_vanished_station_fails_at_once(
    hosted: Network, stations: list[RunningStation]
) -> None:
    station = await connect(hosted, stations, "ocpp1.6")
    await station.cp.call(call16.Heartbeat())  # the hub has the connection registered by now
    link = hosted.hub.server.app[stations_key].get("CS001")
    assert link is not None
    answer = await link.call(call16.TriggerMessage(requested_message="StatusNotification"))
    assert answer.status == "Accepted"
    assert station.cp.triggered == ["StatusNotification"]

    station.cp.silent = True
    waiting = asyncio.create_task(link.call(call16.TriggerMessage(requested_message="Heartbeat")))
    await _until(lambda: len(station.cp.triggered) == 2, hosted)
    started = asyncio.get_running_loop().time()
    await station.ws.close()
    with pytest.raises(StationDisconnected):
        await waiting
    assert asyncio.get_running_loop().time() - started < 5  # not the 30 s response timeout


# --- OCPP 2.0.1 ---------------------------------------------------------------------------------------


async def test_a_201_station_boots_and_its_evses_aggregate_their_connectors(
    hosted: Network, stations: list[RunningStation]
) -> None:
    station = await connect(hosted, stations, "ocpp2.0.1")
    boot = await station.cp.call(
        call201.BootNotification(
            charging_station={"vendorName": "Kempower", "model": "S", "firmwareVersion": "2.0"},
            reason="PowerUp",
        )
    )
    assert boot.status == "Accepted"
    now = "2026-01-01T10:00:00Z"
    for evse_id, connector_id, status in ((1, 1, "Occupied"), (1, 2, "Available"), (2, 1, "Faulted")):
        await station.cp.call(
            call201.StatusNotification(
                timestamp=now, connector_status=status, evse_id=evse_id, connector_id=connector_id
            )
        )
    await settle(hosted.hub)

    latest = location_puts(hosted)[-1]
    assert statuses(latest) == {"CS001*1": "CHARGING", "CS001*2": "OUTOFORDER"}
    evse1 = next(e for e in latest["evses"] if e["uid"] == "CS001*1")
    assert [c["id"] for c in evse1["connectors"]] == ["1", "2"]
    assert of(hosted.emp, "locations")[-1].body == of(hosted.msp, "locations")[-1].body
    record = await hosted.hub.services.store.stations.get("CS001")
    assert record is not None and record.boot is not None
    assert (record.boot.vendor, record.boot.reason, record.protocol) == ("Kempower", "PowerUp", "ocpp2.0.1")

    await station.close()
    await _until(
        lambda: statuses(location_puts(hosted)[-1]) == {"CS001*1": "UNKNOWN", "CS001*2": "UNKNOWN"}, hosted
    )


async def test_a_201_station_preferring_201_gets_201(hosted: Network, stations: list[RunningStation]) -> None:
    url = hosted.hub.base_url.replace("http://", "ws://") + "/ocpp/CS001"
    ws = await hosted.hub.http.ws_connect(
        url, protocols=("ocpp2.0.1", "ocpp1.6"), headers=basic("CS001", PASSWORD)
    )
    assert ws.protocol == "ocpp2.0.1"
    await ws.close()


# --- the hosted CPO in Hub Client Info ----------------------------------------------------------------


async def test_the_hosted_cpo_is_pushed_and_listed_in_hub_client_info(hosted: Network) -> None:
    pushed = [json.loads(r.body) for r in of(hosted.msp, "hubclientinfo") if r.method == "PUT"]
    assert {"country_code": "NL", "party_id": "ABC", "role": "CPO", "status": "CONNECTED"}.items() <= pushed[
        -1
    ].items()
    response = await hosted.msp.call("GET", "/ocpi/2.2.1/hubclientinfo", sender=None)
    listed = (await response.json())["data"]
    assert any((i["party_id"], i["role"], i["status"]) == ("ABC", "CPO", "CONNECTED") for i in listed)


async def _until(condition: Any, net: Network, *, within: float = 5) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await settle(net.hub)
        await asyncio.sleep(0.02)
