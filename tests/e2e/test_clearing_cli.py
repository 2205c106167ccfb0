"""``python -m hub cdrs …`` and ``python -m hub settlement`` as an operator runs them: real processes
against an SQLite store in which the test had the hub accept CDRs."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from hub.bootstrap import build_services
from hub.cdr_intake import CdrIntake
from hub.ocpi.base import parse_json
from hub.ocpi.v2_2_1.cdrs import CDR
from hub.ocpi.v2_2_1.common import Role
from hub.ocpi.v2_2_1.hubclientinfo import ConnectionStatus
from hub.outbox.records import DeliveryState
from hub.platforms import PartyRole, Platform, PlatformEndpoint
from hub.routing.table import PartyRef
from settings import load_settings
from tests.conftest import free_port
from tests.e2e.test_cli_and_serve import ROOT, environment
from tests.support import objects


async def hub_cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub", *args, env=env, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, stdout.decode(), stderr.decode()


def cdr(cdr_id: str, excl: float, incl: float) -> bytes:
    document = objects.cdr(cdr_id=cdr_id)
    document["tariffs"] = [objects.tariff()]
    document["charging_periods"][0]["tariff_id"] = "AC-1"
    document["total_cost"] = {"excl_vat": excl, "incl_vat": incl}
    return json.dumps(document).encode()


async def test_an_operator_shows_releases_and_settles_cleared_cdrs(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    settings = load_settings(data_dir=data_dir, hold_failed_cdrs=True)
    services = await build_services(settings)
    cpo = Platform(name="cpo", registered=True, status=ConnectionStatus.CONNECTED,
                   roles=[PartyRole(role=Role.CPO, country_code="NL", party_id="CPO")])  # fmt: skip
    msp = Platform(
        name="msp",
        registered=True,
        status=ConnectionStatus.CONNECTED,
        roles=[PartyRole(role=Role.EMSP, country_code="DE", party_id="MSP")],
        endpoints=[PlatformEndpoint(identifier="cdrs", role="RECEIVER", url="http://127.0.0.1:9/cdrs")],
        outgoing_token=services.cipher.encrypt("msp-token"),
    )

    async def nowhere(_: Sequence[str]) -> None:
        return None

    try:
        for platform in (cpo, msp):
            await services.store.platforms.add(platform)
        intake = CdrIntake(services, nowhere)
        for body in (cdr("CDR1", 3.5, 4.24), cdr("CDR2", 3.5, 4.24), cdr("CDR3", 9.0, 10.89)):
            await intake.accept(
                body, parse_json(CDR, body), sender=cpo, origin=PartyRef("NL", "CPO"),
                receiver=PartyRef("DE", "MSP"), receiver_platform=msp, correlation_id="e2e",
            )  # fmt: skip
    finally:
        await services.close()
    env = environment(data_dir, free_port())

    code, stdout, _ = await hub_cli(env, "cdrs", "show", "NL*CPO*CDR3", "--json")
    assert code == 0
    shown: dict[str, Any] = json.loads(stdout)
    assert (shown["state"], shown["verdict_status"]) == ("HELD", "failed")
    assert "total_cost_mismatch" in [f["code"] for f in shown["verdict"]["findings"]]
    code, stdout, _ = await hub_cli(env, "cdrs", "show", "nl/cpo/cdr1")
    assert code == 0 and "QUEUED" in stdout and "DE*MSP" in stdout
    code, _, stderr = await hub_cli(env, "cdrs", "show", "NL*CPO*NOPE")
    assert code == 1 and "no CDR NL*CPO*NOPE" in stderr

    code, stdout, _ = await hub_cli(env, "cdrs", "release", "NL*CPO*CDR3")
    assert code == 0 and "released" in stdout
    code, _, stderr = await hub_cli(env, "cdrs", "release", "NL*CPO*CDR3")
    assert code == 1 and "QUEUED, not HELD" in stderr

    code, stdout, _ = await hub_cli(env, "settlement", "--from", "2025-01-01", "--to", "2025-01-02")
    assert code == 0
    [line] = list(csv.DictReader(io.StringIO(stdout)))
    assert (line["cpo"], line["emsp"], line["currency"], line["cdrs"]) == ("NL*CPO", "DE*MSP", "EUR", "3")
    assert Decimal(line["total_excl_vat"]) == Decimal("16") and Decimal(line["total_incl_vat"]) == Decimal(
        "19.37"
    )
    assert (line["failed_checks"], Decimal(line["failed_checks_excl_vat"])) == ("1", Decimal("9"))
    code, stdout, _ = await hub_cli(
        env, "settlement", "--from", "2025-01-02", "--to", "2025-01-03", "--format", "json"
    )
    assert code == 0 and json.loads(stdout)["lines"] == []
    code, stdout, _ = await hub_cli(env, "ledger", "verify")
    assert code == 0

    reopened = await build_services(settings)
    try:
        record = await reopened.store.clearing.get("NL*CPO*CDR3")
        assert record is not None and record.delivery_id is not None
        delivery = await reopened.store.outbox.get(record.delivery_id)
        assert delivery is not None and delivery.state is DeliveryState.PENDING
        assert delivery.headers["Hub-Signature"] == record.signature
        kinds = [e.kind for e in await reopened.store.ledger.entries()]
        assert kinds == ["CDR_ACCEPTED", "CDR_ACCEPTED", "CDR_ACCEPTED", "CDR_RELEASED"]
    finally:
        await reopened.close()
