"""``python -m hub tariffs …``: tariffs of hosted CPOs (``hub.ocpp.tariffs``)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from hub.cli.common import CommandError, out, with_services
from hub.ocpp.tariffs import put_tariff
from hub.services import Services

tariffs = typer.Typer(no_args_is_help=True, help="Tariffs of the CPOs the hub operates itself.")


@tariffs.command("put")
def tariffs_put(
    tariff_file: Annotated[Path, typer.Argument(help="JSON: one OCPI Tariff.", dir_okay=False)],
    cpo: Annotated[str, typer.Option("--cpo", help="The hosted CPO, as CC*PID.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Store an OCPI Tariff of a hosted CPO (country_code and party_id, when given, must be the CPO's;
    last_updated defaults to now) and send it to every party that receives tariffs (the running hub
    delivers it). The CDRs of the CPO's stations are priced with it: with several tariffs, the first
    by id."""

    async def work(services: Services) -> dict[str, Any]:
        try:
            text = await asyncio.to_thread(tariff_file.read_text, encoding="utf-8")
            document = json.loads(text)
        except (OSError, ValueError) as error:
            raise CommandError(f"cannot read the tariff file {tariff_file}: {error}") from None
        tariff, deliveries = await put_tariff(services, cpo=cpo, document=document)
        return {"tariff": tariff, "deliveries": [d.id for d in deliveries]}

    row = with_services(work)
    if as_json:
        sys.stdout.write(json.dumps(row) + "\n")
        return
    tariff = row["tariff"]
    out.print(
        f"Tariff [bold]{tariff['id']}[/bold] of {tariff['country_code']}*{tariff['party_id']} stored; "
        f"{len(row['deliveries'])} deliveries queued."
    )
