"""Clearing figures (printed, never asserted): CDRs per second through the hub's intake — validate,
check (tariff recomputation included), canonicalise, sign, store, ledger, outbox — on the embedded
SQLite store, 16 at a time, with delivery left to the outbox.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from hub.bootstrap import build_services
from hub.cdr_intake import CdrIntake
from hub.observability import configure_logging
from hub.ocpi.base import parse_json
from hub.ocpi.v2_2_1.cdrs import CDR
from hub.ocpi.v2_2_1.common import Role
from hub.ocpi.v2_2_1.hubclientinfo import ConnectionStatus
from hub.platforms import PartyRole, Platform, PlatformEndpoint
from hub.routing.table import PartyRef
from hub.secrets import generate_key
from settings import load_settings
from tests.support import objects

CDRS = 3_000
IN_FLIGHT = 16


def body(number: int) -> bytes:
    document = objects.cdr(cdr_id=f"CDR{number:06d}")
    document["tariffs"] = [objects.tariff()]
    document["charging_periods"][0]["tariff_id"] = "AC-1"
    return json.dumps(document).encode()


async def main() -> None:
    configure_logging("WARNING", "json")
    print(f"Clearing: {CDRS} CDRs through intake (check, sign, store, ledger, outbox), {IN_FLIGHT} at a time")
    with tempfile.TemporaryDirectory() as directory:
        settings = load_settings(data_dir=Path(directory), secret_key=generate_key(), log_level="WARNING")
        services = await build_services(settings)
        try:
            cpo = Platform(name="cpo", registered=True, status=ConnectionStatus.CONNECTED,
                           roles=[PartyRole(role=Role.CPO, country_code="NL", party_id="CPO")])  # fmt: skip
            msp = Platform(
                name="msp",
                registered=True,
                status=ConnectionStatus.CONNECTED,
                roles=[PartyRole(role=Role.EMSP, country_code="DE", party_id="MSP")],
                endpoints=[
                    PlatformEndpoint(identifier="cdrs", role="RECEIVER", url="http://127.0.0.1:9/cdrs")
                ],
                outgoing_token=services.cipher.encrypt("unused"),
            )
            for platform in (cpo, msp):
                await services.store.platforms.add(platform)

            async def nowhere(_: Sequence[str]) -> None:
                return None

            intake = CdrIntake(services, nowhere)
            bodies = [body(n) for n in range(CDRS)]
            await services.signer.current()  # the first key, made before the clock starts
            queue = list(reversed(bodies))

            async def worker() -> None:
                while queue:
                    raw = queue.pop()
                    cdr = parse_json(CDR, raw)
                    await intake.accept(
                        raw,
                        cdr,
                        sender=cpo,
                        origin=PartyRef("NL", "CPO"),
                        receiver=PartyRef("DE", "MSP"),
                        receiver_platform=msp,
                        correlation_id="bench",
                    )

            began, cpu = time.perf_counter(), time.process_time()
            await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
            elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
            print(f"  {CDRS / elapsed:,.0f} CDRs/s ({elapsed * 1000 / CDRS:.2f} ms each on average)")
            # CPU time of this process (every thread, the database's included): steadier than the
            # wall clock on a machine that other work shares.
            print(f"  {cpu * 1e6 / CDRS:,.0f} µs CPU per CDR")
        finally:
            await services.close()


if __name__ == "__main__":
    asyncio.run(main())
