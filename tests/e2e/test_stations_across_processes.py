"""Two ``python -m hub serve`` processes on one data directory and one Redis (``HUB_RELAY_URL``), as
behind a load balancer: a station connects to one of them, the eMSP's command lands on the other, and
still reaches the station; the CommandResult reaches the eMSP's response_url."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import ClientSession
from ocpp.v16 import call as call16

from tests.conftest import free_port
from tests.e2e.test_cli_and_serve import environment, hub_cli, register, serving
from tests.support import objects
from tests.support.party import Party, role
from tests.support.processes import RedisServer
from tests.support.stations import STATION_PASSWORD, TEMPLATE, connect_station

PASSWORD = STATION_PASSWORD


async def until(condition: Callable[[], bool], *, within: float = 15) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_a_command_sent_to_one_hub_process_reaches_a_station_connected_to_another(
    tmp_path: Path, redis: RedisServer, start_party: Callable[..., Awaitable[Party]]
) -> None:
    port_a, port_b = free_port(), free_port()
    # Both processes give out the same public URL, as behind one load balancer.
    env = environment(tmp_path / "var", port_a) | {"HUB_RELAY_URL": redis.url}
    code, _, stderr = await hub_cli(
        env, "cpos", "add", "--country-code", "NL", "--party-id", "ABC", "--name", "H"
    )
    assert code == 0, stderr
    location_file = tmp_path / "loc.json"
    await asyncio.to_thread(location_file.write_text, json.dumps(TEMPLATE), encoding="utf-8")
    code, _, stderr = await hub_cli(
        env, "stations", "add", "--cpo", "NL*ABC", "--id", "CS001", "--location-file", str(location_file),
        "--password", PASSWORD,
    )  # fmt: skip
    assert code == 0, stderr
    code, stdout, stderr = await hub_cli(env, "parties", "invite", "--name", "eMSP", "--json")
    assert code == 0, stderr
    invitation = json.loads(stdout)
    party = await start_party()

    async with (
        serving(env, port_a, tmp_path / "serve-a.log") as base_a,
        serving(env, port_b, tmp_path / "serve-b.log") as base_b,
        ClientSession() as http,
    ):
        token_c = await register(http, invitation, party, role("EMSP", "DE", "MSP"))
        station = await connect_station(http, base_a, "CS001", PASSWORD, "ocpp1.6")
        try:
            await station.cp.call(call16.BootNotification(charge_point_model="M1", charge_point_vendor="V1"))
            await station.cp.call(
                call16.StatusNotification(connector_id=1, error_code="NoError", status="Available")
            )
            response_url = party.endpoint_url("commands", "SENDER") + "/START_SESSION/9"
            headers = {
                "Authorization": "Token " + base64.b64encode(token_c.encode()).decode(),
                "OCPI-from-country-code": "DE",
                "OCPI-from-party-id": "MSP",
                "OCPI-to-country-code": "NL",
                "OCPI-to-party-id": "ABC",
            }
            body = {
                "response_url": response_url,
                "token": objects.token("DE", "MSP", uid="TOKEN9", token_type="APP_USER"),
                "location_id": "CS001",
                "evse_uid": "CS001*1",
            }
            async with http.post(
                f"{base_b}/ocpi/2.2.1/receiver/commands/START_SESSION", json=body, headers=headers
            ) as response:
                answer = await response.json()
            assert answer["status_code"] == 1000, answer
            assert answer["data"]["result"] == "ACCEPTED"

            def results() -> list[Any]:
                return [r for r in party.received if r.module == "commands"]

            await until(lambda: bool(results()))
            [(action, payload)] = station.cp.answers.calls
            assert (action, payload["id_tag"], payload["connector_id"]) == (
                "RemoteStartTransaction",
                "TOKEN9",
                1,
            )
            [result] = results()
            assert (result.method, result.path) == ("POST", "/START_SESSION/9")
            assert json.loads(result.body)["result"] == "ACCEPTED"
        finally:
            await station.close()
