"""OCPI commands to a hosted CPO: the hub answers for the CPO, calls the station over OCPP and posts the
CommandResult to the eMSP's own response_url. Real ``ocpp`` client stations (1.6 and 2.0.1) over real
websockets, the eMSP's party app, the hub app on a SQLite file."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from hub.ocpi.v2_2_1.cdrs import CDR
from hub.ocpi.v2_2_1.sessions import Session
from hub.secrets import generate_key
from settings import Settings, load_settings
from tests.integration.conftest import Network, of, settle
from tests.integration.test_ocpp_transactions import transaction_event
from tests.support import objects
from tests.support.network import Member
from tests.support.stations import STATION_PASSWORD, RunningStation, connect_station

PASSWORD = STATION_PASSWORD
COMMANDS = "/ocpi/2.2.1/receiver/commands"
PROTOCOLS = ["ocpp1.6", "ocpp2.0.1"]


@pytest.fixture
def settings(tmp_path: Path, hub_port: int) -> Settings:
    return load_settings(
        public_url=f"http://127.0.0.1:{hub_port}",
        data_dir=tmp_path / "var",
        secret_key=generate_key(),
        country_code="NL",
        party_id="HUB",
        request_timeout=5,
        station_command_timeout=1.0,
    )


@pytest.fixture(params=PROTOCOLS)
async def station(request: pytest.FixtureRequest, hosted: Network) -> AsyncIterator[RunningStation]:
    running = await connect_station(hosted.hub.http, hosted.hub.base_url, "CS001", PASSWORD, request.param)
    await boot(hosted, running, request.param)
    yield running
    await running.close()


def protocol_of(station: RunningStation) -> str:
    return "ocpp1.6" if hasattr(station.cp, "triggered") else "ocpp2.0.1"


async def report(station: RunningStation, status: str) -> None:
    """The station reports its EVSE 1 (1.6: connector 1) in ``status`` (1.6 wording)."""
    if protocol_of(station) == "ocpp1.6":
        await station.cp.call(call16.StatusNotification(connector_id=1, error_code="NoError", status=status))
    else:
        words = {"Charging": "Occupied"}
        await station.cp.call(
            call201.StatusNotification(
                timestamp="2026-01-01T10:00:00Z",
                connector_status=words.get(status, status),
                evse_id=1,
                connector_id=1,
            )
        )


async def boot(net: Network, station: RunningStation, protocol: str) -> None:
    if protocol == "ocpp1.6":
        await station.cp.call(call16.BootNotification(charge_point_model="M1", charge_point_vendor="V1"))
    else:
        await station.cp.call(
            call201.BootNotification(charging_station={"model": "M1", "vendor_name": "V1"}, reason="PowerUp")
        )
    await report(station, "Available")
    await settle(net.hub)
    for member in (net.msp, net.emp):
        member.party.received.clear()


def response_url(member: Member, command: str, ref: str) -> str:
    return member.party.endpoint_url("commands", "SENDER") + f"/{command}/{ref}"


def start_session(
    member: Member, *, uid: str = "TOKEN1", token_party: tuple[str, str] = ("DE", "MSP")
) -> dict[str, Any]:
    return {
        "response_url": response_url(member, "START_SESSION", "42"),
        "token": objects.token(*token_party, uid=uid, token_type="APP_USER") | {"contract_id": "DE-MSP-C1"},
        "location_id": "CS001",
        "evse_uid": "CS001*1",
        "connector_id": "1",
        "authorization_reference": "AUTH-1",
    }


async def command(member: Member, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await member.call("POST", f"{COMMANDS}/{kind}", to=("NL", "ABC"), body=body)
    assert response.status == 200
    answer = await response.json()
    assert (response.headers["OCPI-from-country-code"], response.headers["OCPI-from-party-id"]) == (
        "NL",
        "ABC",
    )
    assert (response.headers["OCPI-to-country-code"], response.headers["OCPI-to-party-id"]) == (
        member.country_code,
        member.party_id,
    )
    return dict(answer)


async def result_at(net: Network, member: Member, path: str, module: str = "commands") -> dict[str, Any]:
    """The one result the eMSP received at its response_url (path under its ``module`` SENDER URL):
    a CommandResult, or a charging profile result for ``chargingprofiles``."""
    await settle(net.hub)
    [posted] = of(member, module)
    assert (posted.method, posted.role, posted.path) == ("POST", "SENDER", path)
    assert (posted.headers["OCPI-from-country-code"], posted.headers["OCPI-from-party-id"]) == ("NL", "ABC")
    assert (posted.headers["OCPI-to-country-code"], posted.headers["OCPI-to-party-id"]) == (
        member.country_code,
        member.party_id,
    )
    return dict(json.loads(posted.body))


async def test_start_session_reaches_the_station_and_its_result_the_emsp(
    hosted: Network, station: RunningStation
) -> None:
    answer = await command(hosted.msp, "START_SESSION", start_session(hosted.msp))
    assert answer["status_code"] == 1000
    assert answer["data"]["result"] == "ACCEPTED"
    assert answer["data"]["timeout"] >= 1

    result = await result_at(hosted, hosted.msp, "/START_SESSION/42")
    assert result == {"result": "ACCEPTED"}
    [(action, payload)] = station.cp.answers.calls
    if protocol_of(station) == "ocpp1.6":
        assert action == "RemoteStartTransaction"
        assert payload == {"id_tag": "TOKEN1", "connector_id": 1}
    else:
        assert action == "RequestStartTransaction"
        assert payload["id_token"] == {"id_token": "TOKEN1", "type": "Central"}
        assert payload["evse_id"] == 1
        assert isinstance(payload["remote_start_id"], int) and payload["remote_start_id"] > 0


async def test_a_long_token_uid_reaches_a_16_station_as_a_short_alias(
    hosted: Network, station: RunningStation
) -> None:
    uid = "A-VERY-LONG-TOKEN-UID-OF-36-CHARS-01"
    assert len(uid) == 36
    await command(hosted.msp, "START_SESSION", start_session(hosted.msp, uid=uid))
    await result_at(hosted, hosted.msp, "/START_SESSION/42")
    [(_, payload)] = station.cp.answers.calls
    if protocol_of(station) == "ocpp1.6":
        assert len(payload["id_tag"]) <= 20 and payload["id_tag"] != uid[:20]
    else:
        assert payload["id_token"]["id_token"] == uid


async def test_a_start_refused_while_the_evse_is_charging_is_evse_occupied(
    hosted: Network, station: RunningStation
) -> None:
    await report(station, "Charging")
    station.cp.answers.status["RemoteStartTransaction"] = "Rejected"
    station.cp.answers.status["RequestStartTransaction"] = "Rejected"
    answer = await command(hosted.msp, "START_SESSION", start_session(hosted.msp))
    assert answer["data"]["result"] == "ACCEPTED"
    assert await result_at(hosted, hosted.msp, "/START_SESSION/42") == {"result": "EVSE_OCCUPIED"}


async def test_a_station_that_does_not_answer_times_out(hosted: Network, station: RunningStation) -> None:
    station.cp.answers.silent |= {"RemoteStartTransaction", "RequestStartTransaction"}
    answer = await command(hosted.msp, "START_SESSION", start_session(hosted.msp))
    assert answer["data"]["result"] == "ACCEPTED"
    assert await result_at(hosted, hosted.msp, "/START_SESSION/42") == {"result": "TIMEOUT"}


async def test_a_station_that_is_not_connected_gets_no_call_and_the_command_is_rejected(
    hosted: Network, station: RunningStation
) -> None:
    await station.close()
    await settle(hosted.hub)
    answer = await command(hosted.msp, "START_SESSION", start_session(hosted.msp))
    assert answer["status_code"] == 1000
    assert answer["data"]["result"] == "REJECTED"
    assert "not connected" in answer["data"]["message"][0]["text"]
    await settle(hosted.hub)
    assert station.cp.answers.calls == []
    assert of(hosted.msp, "commands") == []


async def test_a_token_of_another_emsp_is_rejected_without_a_call(
    hosted: Network, station: RunningStation
) -> None:
    answer = await command(hosted.msp, "START_SESSION", start_session(hosted.msp, token_party=("FR", "EMP")))
    assert answer["data"]["result"] == "REJECTED"
    assert "FR*EMP" in answer["data"]["message"][0]["text"]
    await settle(hosted.hub)
    assert station.cp.answers.calls == []


async def test_an_unknown_location_or_evse_is_rejected(hosted: Network, station: RunningStation) -> None:
    unknown_location = start_session(hosted.msp) | {"location_id": "NOPE"}
    answer = await command(hosted.msp, "START_SESSION", unknown_location)
    assert (answer["status_code"], answer["data"]["result"]) == (2003, "REJECTED")
    unknown_evse = start_session(hosted.msp) | {"evse_uid": "CS001*9"}
    answer = await command(hosted.msp, "START_SESSION", unknown_evse)
    assert (answer["status_code"], answer["data"]["result"]) == (1000, "REJECTED")
    unknown_connector = start_session(hosted.msp) | {"connector_id": "7"}
    answer = await command(hosted.msp, "START_SESSION", unknown_connector)
    assert answer["data"]["result"] == "REJECTED"
    await settle(hosted.hub)
    assert station.cp.answers.calls == []


async def test_an_evse_out_of_order_is_rejected(hosted: Network, station: RunningStation) -> None:
    await report(station, "Faulted")
    await settle(hosted.hub)
    answer = await command(hosted.msp, "START_SESSION", start_session(hosted.msp))
    assert answer["data"]["result"] == "REJECTED"
    assert "out of service" in answer["data"]["message"][0]["text"]


async def test_unlock_connector_reaches_the_station(hosted: Network, station: RunningStation) -> None:
    body = {
        "response_url": response_url(hosted.msp, "UNLOCK_CONNECTOR", "7"),
        "location_id": "CS001",
        "evse_uid": "CS001*1",
        "connector_id": "1",
    }
    answer = await command(hosted.msp, "UNLOCK_CONNECTOR", body)
    assert answer["data"]["result"] == "ACCEPTED"
    assert await result_at(hosted, hosted.msp, "/UNLOCK_CONNECTOR/7") == {"result": "ACCEPTED"}
    [(action, payload)] = station.cp.answers.calls
    assert action == "UnlockConnector"
    if protocol_of(station) == "ocpp1.6":
        assert payload == {"connector_id": 1}
    else:
        assert payload == {"evse_id": 1, "connector_id": 1}


async def test_unlock_that_fails_at_the_station_is_failed(hosted: Network, station: RunningStation) -> None:
    station.cp.answers.status["UnlockConnector"] = "UnlockFailed"
    body = {
        "response_url": response_url(hosted.msp, "UNLOCK_CONNECTOR", "8"),
        "location_id": "CS001",
        "evse_uid": "CS001*1",
        "connector_id": "1",
    }
    await command(hosted.msp, "UNLOCK_CONNECTOR", body)
    assert await result_at(hosted, hosted.msp, "/UNLOCK_CONNECTOR/8") == {"result": "FAILED"}


def reserve_now(member: Member, reservation_id: str, ref: str) -> dict[str, Any]:
    return {
        "response_url": response_url(member, "RESERVE_NOW", ref),
        "token": objects.token(member.country_code, member.party_id, uid="TOKEN1"),
        "expiry_date": "2026-01-01T12:00:00Z",
        "reservation_id": reservation_id,
        "location_id": "CS001",
        "evse_uid": "CS001*1",
    }


def reservation_number(protocol: str, payload: dict[str, Any]) -> int:
    return int(payload["reservation_id"] if protocol == "ocpp1.6" else payload["id"])


async def test_reserve_now_twice_with_one_id_reuses_the_ocpp_id_and_cancel_finds_it(
    hosted: Network, station: RunningStation
) -> None:
    protocol = protocol_of(station)
    assert (await command(hosted.msp, "RESERVE_NOW", reserve_now(hosted.msp, "RES-1", "1")))["data"][
        "result"
    ] == "ACCEPTED"
    assert await result_at(hosted, hosted.msp, "/RESERVE_NOW/1") == {"result": "ACCEPTED"}
    hosted.msp.party.received.clear()
    await command(hosted.msp, "RESERVE_NOW", reserve_now(hosted.msp, "res-1", "2"))  # CiString: same id
    await result_at(hosted, hosted.msp, "/RESERVE_NOW/2")
    hosted.msp.party.received.clear()
    await command(hosted.msp, "RESERVE_NOW", reserve_now(hosted.msp, "RES-2", "3"))
    await result_at(hosted, hosted.msp, "/RESERVE_NOW/3")
    hosted.msp.party.received.clear()

    [first, again, other] = station.cp.answers.calls
    assert {first[0], again[0], other[0]} == {"ReserveNow"}
    assert reservation_number(protocol, first[1]) == reservation_number(protocol, again[1])
    assert reservation_number(protocol, other[1]) != reservation_number(protocol, first[1])
    if protocol == "ocpp1.6":
        assert (first[1]["connector_id"], first[1]["id_tag"]) == (1, "TOKEN1")
        assert first[1]["expiry_date"] == "2026-01-01T12:00:00Z"
    else:
        assert (first[1]["evse_id"], first[1]["id_token"]["id_token"]) == (1, "TOKEN1")
        assert first[1]["expiry_date_time"] == "2026-01-01T12:00:00Z"

    # Another eMSP using the same OCPI reservation id gets a number of its own.
    await command(hosted.emp, "RESERVE_NOW", reserve_now(hosted.emp, "RES-1", "4"))
    await result_at(hosted, hosted.emp, "/RESERVE_NOW/4")
    assert reservation_number(protocol, station.cp.answers.calls[-1][1]) != reservation_number(
        protocol, first[1]
    )

    cancel = {"response_url": response_url(hosted.msp, "CANCEL_RESERVATION", "5"), "reservation_id": "RES-1"}
    assert (await command(hosted.msp, "CANCEL_RESERVATION", cancel))["data"]["result"] == "ACCEPTED"
    assert await result_at(hosted, hosted.msp, "/CANCEL_RESERVATION/5") == {"result": "ACCEPTED"}
    action, payload = station.cp.answers.calls[-1]
    assert action == "CancelReservation"
    assert payload == {"reservation_id": reservation_number(protocol, first[1])}


async def test_a_reservation_the_station_does_not_hold_is_unknown_and_one_the_hub_does_not_know_rejected(
    hosted: Network, station: RunningStation
) -> None:
    await command(hosted.msp, "RESERVE_NOW", reserve_now(hosted.msp, "RES-9", "1"))
    await result_at(hosted, hosted.msp, "/RESERVE_NOW/1")
    hosted.msp.party.received.clear()
    station.cp.answers.status["CancelReservation"] = "Rejected"
    cancel = {"response_url": response_url(hosted.msp, "CANCEL_RESERVATION", "2"), "reservation_id": "RES-9"}
    await command(hosted.msp, "CANCEL_RESERVATION", cancel)
    assert await result_at(hosted, hosted.msp, "/CANCEL_RESERVATION/2") == {"result": "UNKNOWN_RESERVATION"}

    never = cancel | {"reservation_id": "NEVER"}
    assert (await command(hosted.msp, "CANCEL_RESERVATION", never))["data"]["result"] == "REJECTED"


async def test_a_reservation_refused_as_occupied_is_evse_occupied(
    hosted: Network, station: RunningStation
) -> None:
    station.cp.answers.status["ReserveNow"] = "Occupied"
    await command(hosted.msp, "RESERVE_NOW", reserve_now(hosted.msp, "RES-1", "1"))
    assert await result_at(hosted, hosted.msp, "/RESERVE_NOW/1") == {"result": "EVSE_OCCUPIED"}


async def test_other_modules_of_a_hosted_cpo_get_a_hub_error(
    hosted: Network, station: RunningStation
) -> None:
    response = await hosted.msp.call("GET", "/ocpi/2.2.1/sender/sessions", to=("NL", "ABC"))
    body = await response.json()
    assert body["status_code"] == 4000
    assert "operated by this hub" in body["status_message"]


async def test_a_command_without_a_receiver_is_routed_to_the_hosted_cpo_by_its_location(
    hosted: Network, station: RunningStation
) -> None:
    response = await hosted.msp.call("POST", f"{COMMANDS}/START_SESSION", body=start_session(hosted.msp))
    assert (await response.json())["data"]["result"] == "ACCEPTED"
    assert await result_at(hosted, hosted.msp, "/START_SESSION/42") == {"result": "ACCEPTED"}


async def test_a_location_of_a_hosted_cpo_is_served_from_the_mirror(
    hosted: Network, station: RunningStation
) -> None:
    response = await hosted.msp.call("GET", "/ocpi/2.2.1/sender/locations/CS001", to=("NL", "ABC"))
    body = await response.json()
    assert body["status_code"] == 1000
    assert (body["data"]["id"], body["data"]["party_id"]) == ("CS001", "ABC")
    assert (response.headers["OCPI-from-country-code"], response.headers["OCPI-from-party-id"]) == (
        "NL",
        "ABC",
    )


async def test_stop_session_of_a_session_the_hub_does_not_hold_is_unknown(
    hosted: Network, station: RunningStation
) -> None:
    body = {"response_url": response_url(hosted.msp, "STOP_SESSION", "1"), "session_id": "NOPE"}
    answer = await command(hosted.msp, "STOP_SESSION", body)
    assert answer["data"]["result"] == "UNKNOWN_SESSION"
    assert station.cp.answers.calls == []


@dataclass
class Commanded:
    """A transaction the station started because the eMSP asked for it (START_SESSION)."""

    session: dict[str, Any]  # the Session as the eMSP first received it
    transaction_id: str  # as OCPP names it: 1.6 the hub's integer, 2.0.1 the station's own id


async def remotely_started(net: Network, station: RunningStation, *, uid: str = "TOKEN1") -> Commanded:
    """The eMSP's START_SESSION, and the station starting the transaction with what it was sent: 1.6
    the idTag, 2.0.1 the idToken and the remoteStartId. The eMSP's received requests are cleared."""
    answer = await command(net.msp, "START_SESSION", start_session(net.msp, uid=uid))
    assert answer["data"]["result"] == "ACCEPTED"
    assert await result_at(net, net.msp, "/START_SESSION/42") == {"result": "ACCEPTED"}
    action, asked = station.cp.answers.calls[-1]
    if protocol_of(station) == "ocpp1.6":
        assert action == "RemoteStartTransaction"
        started = await station.cp.call(
            call16.StartTransaction(
                connector_id=asked["connector_id"],
                id_tag=asked["id_tag"],
                meter_start=1000,
                timestamp="2026-01-01T10:00:00Z",
            )
        )
        assert started.id_tag_info["status"] == "Accepted"
        transaction_id = str(started.transaction_id)
    else:
        assert action == "RequestStartTransaction"
        transaction_id = "TX-REMOTE-1"
        started = await station.cp.call(
            transaction_event(
                "Started",
                0,
                "2026-01-01T10:00:00Z",
                transaction_id,
                wh=1000,
                uid=asked["id_token"]["id_token"],
                token_type=asked["id_token"]["type"],
                trigger="RemoteStart",
                remote_start_id=asked["remote_start_id"],
                charging_state="Charging",
            )
        )
        assert started.id_token_info["status"] == "Accepted"
    await settle(net.hub)
    [put] = of(net.msp, "sessions")
    assert put.method == "PUT"
    net.msp.party.received.clear()
    return Commanded(json.loads(put.body), transaction_id)


async def test_a_remote_start_for_a_uid_longer_than_a_16_id_tag_is_the_commanded_session(
    hosted: Network, station: RunningStation
) -> None:
    uid = "0123456789ABCDEF0123456789"  # 26 characters: 1.6 gets an alias, 2.0.1 the uid itself
    commanded = await remotely_started(hosted, station, uid=uid)

    _, asked = station.cp.answers.calls[0]
    sent = asked["id_tag"] if protocol_of(station) == "ocpp1.6" else asked["id_token"]["id_token"]
    assert (sent != uid) == (protocol_of(station) == "ocpp1.6")
    assert commanded.session["auth_method"] == "COMMAND"
    assert commanded.session["cdr_token"]["uid"] == uid
    assert commanded.session["authorization_reference"] == "AUTH-1"


async def stop_transaction(net: Network, station: RunningStation, commanded: Commanded) -> None:
    """The station ends the transaction after 12.345 kWh, as asked by the hub."""
    if protocol_of(station) == "ocpp1.6":
        await station.cp.call(
            call16.StopTransaction(
                meter_stop=13345,
                timestamp="2026-01-01T11:00:00Z",
                transaction_id=int(commanded.transaction_id),
                reason="Remote",
            )
        )
    else:
        await station.cp.call(
            transaction_event(
                "Ended",
                1,
                "2026-01-01T11:00:00Z",
                commanded.transaction_id,
                wh=13345,
                trigger="RemoteStop",
                stopped_reason="Remote",
            )
        )
    await settle(net.hub)


def stop_session(member: Member, session_id: str, ref: str) -> dict[str, Any]:
    return {"response_url": response_url(member, "STOP_SESSION", ref), "session_id": session_id}


async def test_a_remote_start_and_stop_run_one_command_session_to_one_cdr(
    hosted: Network, station: RunningStation
) -> None:
    commanded = await remotely_started(hosted, station)
    session = commanded.session
    Session.model_validate(session)
    session_id = session["id"]
    assert (session["status"], session["auth_method"], session["authorization_reference"]) == (
        "ACTIVE",
        "COMMAND",
        "AUTH-1",
    )
    assert (session["cdr_token"]["uid"], session["cdr_token"]["contract_id"]) == ("TOKEN1", "DE-MSP-C1")
    assert (session["evse_uid"], session["connector_id"]) == ("CS001*1", "1")

    answer = await command(hosted.msp, "STOP_SESSION", stop_session(hosted.msp, session_id, "43"))
    assert (answer["status_code"], answer["data"]["result"]) == (1000, "ACCEPTED")
    assert answer["data"]["timeout"] >= 1
    assert await result_at(hosted, hosted.msp, "/STOP_SESSION/43") == {"result": "ACCEPTED"}
    [_, (action, payload)] = station.cp.answers.calls
    if protocol_of(station) == "ocpp1.6":
        assert (action, payload) == (
            "RemoteStopTransaction",
            {"transaction_id": int(commanded.transaction_id)},
        )
        assert isinstance(payload["transaction_id"], int)
    else:
        assert (action, payload) == ("RequestStopTransaction", {"transaction_id": "TX-REMOTE-1"})
    # The command's result ends nothing: the Session ends when the station stops the transaction.
    assert of(hosted.msp, "sessions") == []

    await stop_transaction(hosted, station, commanded)
    changes = of(hosted.msp, "sessions")
    assert {(r.method, r.path) for r in changes} == {("PATCH", f"/NL/ABC/{session_id}")}
    final = json.loads(changes[-1].body)
    assert (final["status"], final["kwh"], final["end_date_time"]) == (
        "COMPLETED",
        12.345,
        "2026-01-01T11:00:00Z",
    )
    [delivered] = of(hosted.msp, "cdrs")
    cdr = json.loads(delivered.body)
    CDR.model_validate(cdr)
    assert (cdr["session_id"], cdr["auth_method"], cdr["authorization_reference"]) == (
        session_id,
        "COMMAND",
        "AUTH-1",
    )
    assert (cdr["cdr_token"]["uid"], cdr["total_energy"]) == ("TOKEN1", 12.345)
    assert of(hosted.emp, "sessions") == of(hosted.emp, "cdrs") == []


async def test_a_session_of_another_emsp_or_one_already_completed_is_not_stopped(
    hosted: Network, station: RunningStation
) -> None:
    commanded = await remotely_started(hosted, station)
    session_id = commanded.session["id"]
    sent = len(station.cp.answers.calls)

    foreign = await command(hosted.emp, "STOP_SESSION", stop_session(hosted.emp, session_id, "1"))
    assert foreign["data"]["result"] == "REJECTED"
    assert foreign["data"]["message"][0]["text"] == f"session {session_id} is not one of FR*EMP"

    await stop_transaction(hosted, station, commanded)
    hosted.msp.party.received.clear()
    answer = await command(hosted.msp, "STOP_SESSION", stop_session(hosted.msp, session_id, "2"))
    assert (answer["status_code"], answer["data"]["result"], answer["data"]["timeout"]) == (
        1000,
        "REJECTED",
        0,
    )
    assert "completed" in answer["data"]["message"][0]["text"]
    await settle(hosted.hub)
    assert len(station.cp.answers.calls) == sent
    assert of(hosted.msp, "commands") == of(hosted.emp, "commands") == []
