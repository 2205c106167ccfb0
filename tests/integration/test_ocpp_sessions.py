"""OCPP 1.6 transactions of a hosted station become OCPI Sessions at the token's eMSP: a real ``ocpp``
client station over a real websocket, the eMSP's party app receiving the PUT and the PATCHes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from ocpp.v16 import call as call16

from hub.ocpi.v2_2_1.sessions import Session
from tests.integration.conftest import Network, of, settle
from tests.support import objects
from tests.support.party import Received
from tests.support.stations import STATION_PASSWORD, RunningStation, connect_station

PASSWORD = STATION_PASSWORD


@pytest.fixture
async def station(hosted: Network) -> AsyncIterator[RunningStation]:
    running = await connect_station(hosted.hub.http, hosted.hub.base_url, "CS001", PASSWORD, "ocpp1.6")
    yield running
    await running.close()


async def push_token(
    net: Network, uid: str, *, whitelist: str = "ALWAYS", valid: bool = True
) -> dict[str, Any]:
    token = objects.token(uid=uid, valid=valid) | {"whitelist": whitelist}
    response = await net.msp.call(
        "PUT", f"/ocpi/2.2.1/receiver/tokens/DE/MSP/{uid}", to=("NL", "HUB"), body=token
    )
    assert (await response.json())["status_code"] == 1000
    await settle(net.hub)
    return token


async def boot(net: Network, station: RunningStation) -> None:
    await station.cp.call(call16.BootNotification(charge_point_model="M1", charge_point_vendor="V1"))
    await station.cp.call(call16.StatusNotification(connector_id=1, error_code="NoError", status="Available"))
    await settle(net.hub)
    net.msp.party.received.clear()
    net.emp.party.received.clear()


def session_requests(net: Network) -> list[Received]:
    return [r for r in of(net.msp, "sessions")]


async def test_a_transaction_is_a_session_at_the_tokens_emsp_from_start_to_stop(
    hosted: Network, station: RunningStation
) -> None:
    token = await push_token(hosted, "UID1")
    await boot(hosted, station)

    started = await station.cp.call(
        call16.StartTransaction(
            connector_id=1, id_tag="UID1", meter_start=1000, timestamp="2026-01-01T10:00:00Z"
        )
    )
    assert started.id_tag_info["status"] == "Accepted"
    transaction_id = started.transaction_id
    assert isinstance(transaction_id, int) and transaction_id > 0
    await settle(hosted.hub)

    [put] = session_requests(hosted)
    session_path = f"/NL/ABC/CS001-{transaction_id}"
    assert (put.method, put.role, put.path) == ("PUT", "RECEIVER", session_path)
    assert (put.headers["OCPI-from-country-code"], put.headers["OCPI-from-party-id"]) == ("NL", "ABC")
    assert (put.headers["OCPI-to-country-code"], put.headers["OCPI-to-party-id"]) == ("DE", "MSP")
    session = json.loads(put.body)
    Session.model_validate(session)
    assert session["status"] == "ACTIVE"
    assert session["kwh"] == 0
    assert session["start_date_time"] == "2026-01-01T10:00:00Z"
    assert session["auth_method"] == "WHITELIST"
    assert session["cdr_token"] == {
        "country_code": "DE",
        "party_id": "MSP",
        "uid": "UID1",
        "type": "RFID",
        "contract_id": token["contract_id"],
    }
    assert (session["location_id"], session["evse_uid"], session["connector_id"]) == (
        "CS001",
        "CS001*1",
        "1",
    )

    await station.cp.call(
        call16.MeterValues(
            connector_id=1,
            transaction_id=transaction_id,
            meter_value=[
                {
                    "timestamp": "2026-01-01T10:30:00Z",
                    "sampledValue": [
                        {"value": "3.5", "measurand": "Energy.Active.Import.Register", "unit": "kWh"},
                        {"value": "230", "measurand": "Voltage", "unit": "V"},
                    ],
                }
            ],
        )
    )
    await settle(hosted.hub)
    [_, metered] = session_requests(hosted)
    assert (metered.method, metered.path) == ("PATCH", session_path)
    patch = json.loads(metered.body)
    assert patch["kwh"] == 2.5
    [period] = patch["charging_periods"]
    assert {d["type"]: d["volume"] for d in period["dimensions"]} == {"ENERGY": 2.5, "TIME": 0.5}

    await station.cp.call(
        call16.StopTransaction(
            meter_stop=13345, timestamp="2026-01-01T11:00:00Z", transaction_id=transaction_id
        )
    )
    await settle(hosted.hub)
    [_, _, completed] = session_requests(hosted)
    assert (completed.method, completed.path) == ("PATCH", session_path)
    final = json.loads(completed.body)
    assert final["status"] == "COMPLETED"
    assert final["end_date_time"] == "2026-01-01T11:00:00Z"
    assert final["kwh"] == (13345 - 1000) / 1000

    assert of(hosted.emp, "sessions") == []

    listed = await hosted.msp.call("GET", "/ocpi/2.2.1/sender/sessions", to=("NL", "HUB"))
    [mirrored] = (await listed.json())["data"]
    assert mirrored["id"] == f"CS001-{transaction_id}"
    assert (mirrored["status"], mirrored["kwh"]) == ("COMPLETED", 12.345)
    elsewhere = await hosted.emp.call("GET", "/ocpi/2.2.1/sender/sessions", to=("NL", "HUB"))
    assert (await elsewhere.json())["data"] == []


async def test_a_refused_id_tag_starts_no_session(hosted: Network, station: RunningStation) -> None:
    await boot(hosted, station)
    started = await station.cp.call(
        call16.StartTransaction(
            connector_id=1, id_tag="NOBODY", meter_start=0, timestamp="2026-01-01T10:00:00Z"
        )
    )
    assert started.id_tag_info["status"] == "Invalid"
    await settle(hosted.hub)
    assert of(hosted.msp, "sessions") == []
    stored = await hosted.hub.services.store.mirror.get(
        "sessions", "NL", "ABC", f"CS001-{started.transaction_id}"
    )
    assert stored is None


async def test_a_start_sent_again_after_a_lost_reply_gets_the_same_transaction(
    hosted: Network, station: RunningStation
) -> None:
    await push_token(hosted, "UID1")
    await boot(hosted, station)
    start = call16.StartTransaction(
        connector_id=1, id_tag="UID1", meter_start=0, timestamp="2026-01-01T10:00:00Z"
    )
    first = await station.cp.call(start)
    again = await station.cp.call(start)
    assert first.transaction_id == again.transaction_id
    await settle(hosted.hub)
    assert [r.method for r in of(hosted.msp, "sessions")] == ["PUT"]
