"""OCPP Authorize from hosted stations: answered from the tokens eMSPs pushed to the hub, or by the
token's eMSP in real time, within the authorization budget."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import web
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from hub.ocpi.envelope import envelope
from tests.integration.conftest import Network, connect, of, settle
from tests.support import objects
from tests.support.party import Received
from tests.support.stations import STATION_PASSWORD, RunningStation

PASSWORD = STATION_PASSWORD
PROTOCOLS = ("ocpp1.6", "ocpp2.0.1")


async def push_token(net: Network, uid: str, *, valid: bool = True, whitelist: str = "ALLOWED") -> None:
    """DE*MSP pushes its token to the hub as a broadcast, as eMSPs fill the hub's token cache."""
    token = objects.token(uid=uid, valid=valid) | {"whitelist": whitelist}
    response = await net.msp.call(
        "PUT", f"/ocpi/2.2.1/receiver/tokens/DE/MSP/{uid}", to=("NL", "HUB"), body=token
    )
    assert (await response.json())["status_code"] == 1000
    await settle(net.hub)
    net.msp.party.received.clear()


async def authorize(station: RunningStation, protocol: str, uid: str, *, token_type: str = "ISO14443") -> str:
    if protocol == "ocpp1.6":
        answer = await station.cp.call(call16.Authorize(id_tag=uid))
        return str(answer.id_tag_info["status"])
    answer = await station.cp.call(call201.Authorize(id_token={"idToken": uid, "type": token_type}))
    return str(answer.id_token_info["status"])


def authorize_requests(net: Network) -> list[Received]:
    return [r for r in of(net.msp, "tokens") if r.method == "POST" and r.path.endswith("/authorize")]


def answering(allowed: str) -> Any:
    async def answer(_: web.Request, __: Received) -> web.Response:
        return web.json_response(envelope({"allowed": allowed, "token": objects.token(uid="UID1")}))

    return answer


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_cached_valid_token_is_accepted_without_asking_the_emsp(
    hosted: Network, stations: list[RunningStation], protocol: str
) -> None:
    await push_token(hosted, "UID1")
    station = await connect(hosted, stations, protocol)
    assert await authorize(station, protocol, "UID1") == "Accepted"
    assert authorize_requests(hosted) == []


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_cached_invalid_token_is_blocked(
    hosted: Network, stations: list[RunningStation], protocol: str
) -> None:
    await push_token(hosted, "UID1", valid=False)
    station = await connect(hosted, stations, protocol)
    assert await authorize(station, protocol, "UID1") == "Blocked"
    assert authorize_requests(hosted) == []


@pytest.mark.parametrize(("protocol", "status"), [("ocpp1.6", "Invalid"), ("ocpp2.0.1", "Unknown")])
async def test_a_token_no_party_pushed_is_refused_without_asking_anyone(
    hosted: Network, stations: list[RunningStation], protocol: str, status: str
) -> None:
    await push_token(hosted, "UID1")
    station = await connect(hosted, stations, protocol)
    assert await authorize(station, protocol, "NOBODY") == status
    # The same uid of another type is another token (2.0.1 Central reads APP_USER).
    if protocol == "ocpp2.0.1":
        assert await authorize(station, protocol, "UID1", token_type="Central") == status
    assert authorize_requests(hosted) == []


async def test_a_never_whitelisted_token_is_authorized_by_its_emsp_in_real_time(
    hosted: Network, stations: list[RunningStation]
) -> None:
    await push_token(hosted, "UID1", whitelist="NEVER")
    hosted.msp.party.handler = answering("ALLOWED")
    station = await connect(hosted, stations, "ocpp1.6")
    assert await authorize(station, "ocpp1.6", "UID1") == "Accepted"

    [asked] = authorize_requests(hosted)
    assert asked.role == "SENDER"
    assert asked.path == "/UID1/authorize"
    assert asked.query_string == "type=RFID"
    assert json.loads(asked.body) == {"location_id": "CS001"}
    assert (asked.headers["OCPI-from-country-code"], asked.headers["OCPI-from-party-id"]) == ("NL", "ABC")
    assert (asked.headers["OCPI-to-country-code"], asked.headers["OCPI-to-party-id"]) == ("DE", "MSP")
    assert of(hosted.emp, "tokens") == []


@pytest.mark.parametrize(
    ("protocol", "allowed", "status"),
    [
        ("ocpp1.6", "BLOCKED", "Blocked"),
        ("ocpp2.0.1", "BLOCKED", "Blocked"),
        ("ocpp2.0.1", "ALLOWED", "Accepted"),
        ("ocpp2.0.1", "NO_CREDIT", "NoCredit"),
        ("ocpp1.6", "NO_CREDIT", "Blocked"),
    ],
)
async def test_the_emsps_answer_is_the_stations_status(
    hosted: Network, stations: list[RunningStation], protocol: str, allowed: str, status: str
) -> None:
    await push_token(hosted, "UID1", whitelist="NEVER")
    hosted.msp.party.handler = answering(allowed)
    station = await connect(hosted, stations, protocol)
    assert await authorize(station, protocol, "UID1") == status
    assert len(authorize_requests(hosted)) == 1


@pytest.mark.parametrize(
    ("protocol", "whitelist", "status"),
    [
        ("ocpp1.6", "NEVER", "Invalid"),
        ("ocpp2.0.1", "NEVER", "Invalid"),
        ("ocpp1.6", "ALLOWED_OFFLINE", "Accepted"),
    ],
)
async def test_an_emsp_that_does_not_answer_in_time_leaves_the_station_waiting_no_longer(
    hosted: Network, stations: list[RunningStation], protocol: str, whitelist: str, status: str
) -> None:
    await push_token(hosted, "UID1", whitelist=whitelist)
    hosted.hub.services.settings = hosted.hub.services.settings.model_copy(update={"authorize_timeout": 0.3})

    async def slow(_: web.Request, __: Received) -> web.Response:
        await asyncio.sleep(3)
        return web.json_response(envelope({"allowed": "ALLOWED", "token": objects.token(uid="UID1")}))

    hosted.msp.party.handler = slow
    station = await connect(hosted, stations, protocol)
    started = asyncio.get_running_loop().time()
    assert await authorize(station, protocol, "UID1") == status
    assert asyncio.get_running_loop().time() - started < 1.5
    assert len(authorize_requests(hosted)) == 1
