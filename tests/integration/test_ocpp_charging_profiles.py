"""OCPI charging profiles for a session of a hosted CPO: the hub answers for the CPO, sets, reads and
clears the profile of the running transaction at the station over OCPP, and posts each result to the
eMSP's own response_url. Real ``ocpp`` client stations (1.6 and 2.0.1) over real websockets, a
transaction the eMSP started with START_SESSION, the eMSPs' party apps, the hub app on a SQLite file."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from tests.integration.conftest import Network, of, settle
from tests.integration.test_ocpp_commands import (
    Commanded,
    protocol_of,
    remotely_started,
    result_at,
    settings,
    station,
)
from tests.support.network import Member
from tests.support.stations import RunningStation

__all__ = ["settings", "station"]  # the fixtures, shared with the command tests

PROFILES = "/ocpi/2.2.1/receiver/chargingprofiles"


def profile_url(member: Member, ref: str) -> str:
    return member.party.endpoint_url("chargingprofiles", "SENDER") + f"/{ref}"


def charging_profile(first: float, then: float) -> dict[str, Any]:
    """An OCPI ChargingProfile in A: ``first`` for 15 minutes, ``then`` up to the hour."""
    return {
        "charging_rate_unit": "A",
        "duration": 3600,
        "min_charging_rate": 6.5,
        "charging_profile_period": [
            {"start_period": 0, "limit": first},
            {"start_period": 900, "limit": then},
        ],
    }


async def profiles(
    member: Member,
    method: str,
    session_id: str,
    *,
    body: dict[str, Any] | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A chargingprofiles request of ``member`` to the hosted CPO, answered in the CPO's name."""
    path = f"{PROFILES}/{session_id}" + (f"?{urlencode(query)}" if query else "")
    response = await member.call(method, path, to=("NL", "ABC"), body=body)
    assert response.status == 200
    assert (response.headers["OCPI-from-country-code"], response.headers["OCPI-from-party-id"]) == (
        "NL",
        "ABC",
    )
    assert (response.headers["OCPI-to-country-code"], response.headers["OCPI-to-party-id"]) == (
        member.country_code,
        member.party_id,
    )
    return dict(await response.json())


async def put_profile(net: Network, commanded: Commanded, ref: str, first: float, then: float) -> None:
    """The eMSP sets a profile for the session; the station accepts it and the eMSP gets ACCEPTED at
    its response_url."""
    session_id = commanded.session["id"]
    body = {"response_url": profile_url(net.msp, ref), "charging_profile": charging_profile(first, then)}
    answer = await profiles(net.msp, "PUT", session_id, body=body)
    assert (answer["status_code"], answer["data"]["result"]) == (1000, "ACCEPTED")
    assert answer["data"]["timeout"] >= 1
    assert await result_at(net, net.msp, f"/{ref}", module="chargingprofiles") == {"result": "ACCEPTED"}
    net.msp.party.received.clear()


def sent_profile(station: RunningStation, commanded: Commanded) -> tuple[int, dict[str, Any]]:
    """The id and the schedule of the last profile the station got, checked to be bound to the
    transaction: a TxProfile at the hub's stack level, on EVSE (1.6: connector) 1."""
    action, payload = station.cp.answers.calls[-1]
    assert action == "SetChargingProfile"
    if protocol_of(station) == "ocpp1.6":
        assert payload["connector_id"] == 1
        profile = payload["cs_charging_profiles"]
        assert profile["transaction_id"] == int(commanded.transaction_id)
        profile_id = profile["charging_profile_id"]
        schedule = profile["charging_schedule"]
    else:
        assert payload["evse_id"] == 1
        profile = payload["charging_profile"]
        assert profile["transaction_id"] == commanded.transaction_id
        profile_id = profile["id"]
        [schedule] = profile["charging_schedule"]
        assert schedule["id"] == profile_id
    assert (
        profile["charging_profile_purpose"],
        profile["charging_profile_kind"],
        profile["stack_level"],
    ) == (
        "TxProfile",
        "Relative",
        1,
    )
    return int(profile_id), dict(schedule)


def wire_rates(schedule: dict[str, Any]) -> list[tuple[int, str]]:
    """The periods as the station read them (1.6 hands over Decimals, 2.0.1 floats): start, limit."""
    return [(p["start_period"], str(p["limit"])) for p in schedule["charging_schedule_period"]]


async def test_a_profile_is_set_on_the_running_transaction_read_back_and_cleared(
    hosted: Network, station: RunningStation
) -> None:
    protocol = protocol_of(station)
    commanded = await remotely_started(hosted, station)
    session_id = commanded.session["id"]

    await put_profile(hosted, commanded, "set-1", 16.3, 8)
    profile_id, schedule = sent_profile(station, commanded)
    assert wire_rates(schedule) == [(0, "16.3"), (900, "8.0")]
    assert (schedule["charging_rate_unit"], schedule["duration"], str(schedule["min_charging_rate"])) == (
        "A",
        3600,
        "6.5",
    )

    # A new profile for the session replaces the one the hub set: same id.
    await put_profile(hosted, commanded, "set-2", 20, 10.5)
    again, schedule = sent_profile(station, commanded)
    assert again == profile_id
    assert wire_rates(schedule) == [(0, "20.0"), (900, "10.5")]

    query = {"duration": "900", "response_url": profile_url(hosted.msp, "get-1")}
    answer = await profiles(hosted.msp, "GET", session_id, query=query)
    assert (answer["status_code"], answer["data"]["result"]) == (1000, "ACCEPTED")
    active = await result_at(hosted, hosted.msp, "/get-1", module="chargingprofiles")
    action, payload = station.cp.answers.calls[-1]
    assert action == "GetCompositeSchedule"
    if protocol == "ocpp1.6":
        assert payload == {"connector_id": 1, "duration": 900}
    else:
        assert payload == {"evse_id": 1, "duration": 900}
    composite: dict[str, Any] = {
        "start_date_time": "2026-01-01T10:00:00Z",
        "charging_rate_unit": "A",
        "duration": 900,
        "charging_profile_period": [{"start_period": 0, "limit": 20}, {"start_period": 900, "limit": 10.5}],
    }
    if protocol == "ocpp1.6":  # 2.0.1 composite schedules carry no minimum rate
        composite["min_charging_rate"] = 6.5
    assert active == {
        "result": "ACCEPTED",
        "profile": {"start_date_time": "2026-01-01T10:00:00Z", "charging_profile": composite},
    }
    hosted.msp.party.received.clear()

    answer = await profiles(
        hosted.msp, "DELETE", session_id, query={"response_url": profile_url(hosted.msp, "clear-1")}
    )
    assert (answer["status_code"], answer["data"]["result"]) == (1000, "ACCEPTED")
    assert await result_at(hosted, hosted.msp, "/clear-1", module="chargingprofiles") == {
        "result": "ACCEPTED"
    }
    action, payload = station.cp.answers.calls[-1]
    if protocol == "ocpp1.6":
        assert (action, payload) == ("ClearChargingProfile", {"id": profile_id})
    else:
        assert (action, payload) == ("ClearChargingProfile", {"charging_profile_id": profile_id})
    assert station.cp.answers.profile_ids == set()
    hosted.msp.party.received.clear()

    # Nothing left to compose: the station refuses, and the eMSP is told so, without a profile.
    query = {"duration": "900", "response_url": profile_url(hosted.msp, "get-2")}
    await profiles(hosted.msp, "GET", session_id, query=query)
    assert await result_at(hosted, hosted.msp, "/get-2", module="chargingprofiles") == {"result": "REJECTED"}
    assert [action for action, _ in station.cp.answers.calls] == [
        "RequestStartTransaction" if protocol == "ocpp2.0.1" else "RemoteStartTransaction",
        "SetChargingProfile",
        "SetChargingProfile",
        "GetCompositeSchedule",
        "ClearChargingProfile",
        "GetCompositeSchedule",
    ]


@pytest.mark.parametrize("station", ["ocpp2.0.1"], indirect=True)
async def test_a_composite_limit_with_more_decimals_reaches_the_emsp_truncated_down(
    hosted: Network, station: RunningStation
) -> None:
    """2.0.1 schemas do not hold stations to one decimal; OCPI does, and the ceiling must not rise."""
    commanded = await remotely_started(hosted, station)
    station.cp.answers.schedule = {
        "charging_rate_unit": "W",
        "charging_schedule_period": [
            {"start_period": 0, "limit": 11039.99},
            {"start_period": 60, "limit": 16.05},
        ],
    }
    query = {"duration": "120", "response_url": profile_url(hosted.msp, "get-1")}
    await profiles(hosted.msp, "GET", commanded.session["id"], query=query)
    active = await result_at(hosted, hosted.msp, "/get-1", module="chargingprofiles")
    assert active["result"] == "ACCEPTED"
    assert active["profile"]["charging_profile"]["charging_profile_period"] == [
        {"start_period": 0, "limit": 11039.9},
        {"start_period": 60, "limit": 16},
    ]


async def test_a_profile_for_a_session_of_another_emsp_or_an_unknown_one_reaches_no_station(
    hosted: Network, station: RunningStation
) -> None:
    commanded = await remotely_started(hosted, station)
    session_id = commanded.session["id"]
    sent = len(station.cp.answers.calls)

    put = {"response_url": profile_url(hosted.emp, "set-1"), "charging_profile": charging_profile(16, 8)}
    answer = await profiles(hosted.emp, "PUT", session_id, body=put)
    assert (answer["status_code"], answer["data"]) == (1000, {"result": "REJECTED", "timeout": 0})
    assert "FR*EMP" in answer["status_message"]
    get = {"duration": "900", "response_url": profile_url(hosted.emp, "get-1")}
    assert (await profiles(hosted.emp, "GET", session_id, query=get))["data"]["result"] == "REJECTED"
    delete = {"response_url": profile_url(hosted.emp, "clear-1")}
    assert (await profiles(hosted.emp, "DELETE", session_id, query=delete))["data"]["result"] == "REJECTED"

    unknown = await profiles(hosted.msp, "PUT", "NO-SUCH-SESSION", body=put)
    assert unknown["data"]["result"] == "UNKNOWN_SESSION"

    await settle(hosted.hub)
    assert len(station.cp.answers.calls) == sent
    assert station.cp.answers.profile_ids == set()
    assert of(hosted.emp, "chargingprofiles") == of(hosted.msp, "chargingprofiles") == []
