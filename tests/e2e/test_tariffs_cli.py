"""``python -m hub tariffs put`` with real processes: a hosted CPO's tariff from a file."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.conftest import free_port
from tests.e2e.test_cli_and_serve import environment, hub_cli

TARIFF = {
    "id": "HOSTED-AC",
    "currency": "EUR",
    "elements": [{"price_components": [{"type": "ENERGY", "price": 0.39, "vat": 21, "step_size": 1}]}],
}


async def write(tmp_path: Path, name: str, document: object) -> Path:
    path = tmp_path / name
    await asyncio.to_thread(path.write_text, json.dumps(document), encoding="utf-8")
    return path


async def test_a_hosted_cpos_tariff_is_put_from_a_file(tmp_path: Path) -> None:
    env = environment(tmp_path / "var", free_port())
    code, _, stderr = await hub_cli(
        env, "cpos", "add", "--country-code", "NL", "--party-id", "ABC", "--name", "Hub Charging"
    )
    assert code == 0, stderr

    good = await write(tmp_path, "tariff.json", TARIFF)
    code, stdout, stderr = await hub_cli(env, "tariffs", "put", "--cpo", "NL*ABC", str(good), "--json")
    assert code == 0, stderr
    tariff = json.loads(stdout)["tariff"]
    assert (tariff["country_code"], tariff["party_id"], tariff["id"]) == ("NL", "ABC", "HOSTED-AC")
    assert tariff["last_updated"].endswith("Z")

    foreign = await write(tmp_path, "foreign.json", TARIFF | {"party_id": "XYZ"})
    code, _, stderr = await hub_cli(env, "tariffs", "put", "--cpo", "NL*ABC", str(foreign))
    assert code == 1
    assert "party_id" in stderr

    code, _, stderr = await hub_cli(env, "tariffs", "put", "--cpo", "NL*NOP", str(good))
    assert code == 1
    assert "no hosted CPO" in stderr
