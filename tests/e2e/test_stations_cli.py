"""The operator's OCPP journey with real processes: ``cpos add`` and ``stations add`` on a data
directory, ``stations list`` showing what a real station reported to ``python -m hub serve``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiohttp import ClientSession, WSServerHandshakeError
from ocpp.v16 import call as call16

from tests.conftest import free_port
from tests.e2e.test_cli_and_serve import environment, hub_cli, served  # noqa: F401 - a fixture
from tests.support.stations import STATION_PASSWORD, TEMPLATE, connect_station

PASSWORD = STATION_PASSWORD


async def write_template(tmp_path: Path, template: object) -> Path:
    path = tmp_path / "loc.json"
    await asyncio.to_thread(path.write_text, json.dumps(template), encoding="utf-8")
    return path


async def test_cpos_and_stations_are_added_and_listed(tmp_path: Path) -> None:
    env = environment(tmp_path / "var", free_port())
    code, stdout, stderr = await hub_cli(
        env, "cpos", "add", "--country-code", "NL", "--party-id", "ABC", "--name", "Hub Charging", "--json"
    )
    assert code == 0, stderr
    assert json.loads(stdout)["party_id"] == "ABC"
    code, stdout, _ = await hub_cli(env, "cpos", "list", "--json")
    assert [(c["country_code"], c["party_id"], c["status"]) for c in json.loads(stdout)] == [
        ("NL", "ABC", "CONNECTED")
    ]

    location_file = await write_template(tmp_path, TEMPLATE)
    code, stdout, stderr = await hub_cli(
        env, "stations", "add", "--cpo", "NL*ABC", "--id", "CS001", "--location-file", str(location_file),
        "--password", PASSWORD, "--json",
    )  # fmt: skip
    assert code == 0, stderr
    added = json.loads(stdout)
    assert (added["id"], added["cpo"], added["location_id"]) == ("CS001", "NL*ABC", "CS001")
    assert added["url"].endswith("/ocpp/CS001") and added["url"].startswith("ws://")
    assert "password" not in added

    code, stdout, stderr = await hub_cli(
        env,
        "stations",
        "add",
        "--cpo",
        "NL*ABC",
        "--id",
        "CS002",
        "--location-file",
        str(location_file),
        "--json",
    )
    assert code == 0, stderr
    assert 16 <= len(json.loads(stdout)["password"]) <= 40  # made up, shown once

    code, stdout, _ = await hub_cli(env, "stations", "list", "--json")
    listed = json.loads(stdout)
    assert [s["id"] for s in listed] == ["CS001", "CS002"]
    assert not any("hash" in key or "password" in key for s in listed for key in s)
    assert "scrypt" not in stdout


async def test_stations_add_refuses_what_it_cannot_use(tmp_path: Path) -> None:
    env = environment(tmp_path / "var", free_port())
    good = await write_template(tmp_path, TEMPLATE)
    code, _, stderr = await hub_cli(
        env,
        "stations",
        "add",
        "--cpo",
        "NL*XYZ",
        "--id",
        "CS001",
        "--location-file",
        str(good),
        "--password",
        "pw",
    )
    assert code == 1 and "no hosted CPO" in stderr

    await hub_cli(env, "cpos", "add", "--country-code", "NL", "--party-id", "ABC", "--name", "Hub Charging")
    broken = await write_template(tmp_path, {k: v for k, v in TEMPLATE.items() if k != "coordinates"})
    code, _, stderr = await hub_cli(
        env,
        "stations",
        "add",
        "--cpo",
        "NL*ABC",
        "--id",
        "CS001",
        "--location-file",
        str(broken),
        "--password",
        "pw",
    )
    assert code == 1 and "coordinates" in stderr
    code, stdout, _ = await hub_cli(env, "stations", "list", "--json")
    assert json.loads(stdout) == []


async def test_a_station_connects_to_the_served_hub_and_the_cli_sees_what_it_reported(
    served: tuple[dict[str, str], str, Path],  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    env, base, _ = served
    await hub_cli(env, "cpos", "add", "--country-code", "NL", "--party-id", "ABC", "--name", "Hub Charging")
    location_file = await write_template(tmp_path, TEMPLATE)
    code, _, stderr = await hub_cli(
        env, "stations", "add", "--cpo", "NL*ABC", "--id", "CS001", "--location-file", str(location_file),
        "--password", PASSWORD,
    )  # fmt: skip
    assert code == 0, stderr

    async with ClientSession() as http:
        station = await connect_station(http, base, "CS001", PASSWORD, "ocpp1.6")
        try:
            boot = await station.cp.call(
                call16.BootNotification(charge_point_vendor="Alfen", charge_point_model="Eve")
            )
            assert boot.status == "Accepted"
            await station.cp.call(
                call16.StatusNotification(connector_id=1, error_code="NoError", status="Charging")
            )
            code, stdout, _ = await hub_cli(env, "stations", "list", "--json")
            (listed,) = json.loads(stdout)
            assert listed["connected"] is True and listed["protocol"] == "ocpp1.6"
            assert (listed["vendor"], listed["model"]) == ("Alfen", "Eve")
            assert listed["connectors"] == [
                {"evse": 1, "connector": 1, "ocpp_status": "Charging", "status": "CHARGING"}
            ]
        finally:
            await station.close()

        code, stdout, stderr = await hub_cli(env, "stations", "password", "CS001")
        assert code == 0, stderr
        new_password = stdout.split("password:")[1].split()[0]
        with pytest.raises(WSServerHandshakeError) as refused:
            await connect_station(http, base, "CS001", PASSWORD, "ocpp1.6")
        assert refused.value.status == 401
        station = await connect_station(http, base, "CS001", new_password, "ocpp1.6")
        await station.close()
