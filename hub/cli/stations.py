"""``python -m hub cpos …`` and ``python -m hub stations …``: hosted CPOs and the charging stations
attached to them over OCPP (``hub.ocpp``)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.table import Table

from hub.cli.common import CommandError, err, out, print_json, with_services
from hub.ocpp import operators
from hub.ocpp.passwords import new_password
from hub.services import Services

cpos = typer.Typer(
    no_args_is_help=True, help="CPOs the hub operates itself, for stations attached over OCPP."
)
stations = typer.Typer(no_args_is_help=True, help="Charging stations attached to the hub over OCPP.")


@cpos.command("add")
def cpos_add(
    country_code: Annotated[str, typer.Option("--country-code", help="ISO 3166-1 alpha-2, e.g. NL.")],
    party_id: Annotated[str, typer.Option("--party-id", help="Three letters or digits.")],
    name: Annotated[str, typer.Option(help="The CPO's name, as other parties see it.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Create a hosted CPO: a CPO party with no OCPI platform behind it, whose Locations the hub
    builds from its stations. Other parties see it in Hub Client Info (the running hub sends it)."""

    async def work(services: Services) -> dict[str, Any]:
        platform = await operators.add_cpo(services, country_code=country_code, party_id=party_id, name=name)
        return operators.describe_cpo(platform)

    row = with_services(work)
    if as_json:
        sys.stdout.write(json.dumps(row) + "\n")
        return
    out.print(f"Hosted CPO [bold]{row['country_code']}*{row['party_id']}[/bold] ({row['name']}) added.")


@cpos.command("list")
def cpos_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Every hosted CPO, oldest first."""

    async def work(services: Services) -> list[dict[str, Any]]:
        return [operators.describe_cpo(p) for p in await operators.hosted_cpos(services)]

    rows = with_services(work)
    if as_json:
        print_json(rows)
        return
    table = Table("party", "name", "status", "platform id")
    for row in rows:
        table.add_row(f"{row['country_code']}*{row['party_id']}", row["name"], row["status"], row["id"])
    out.print(table)


ADD_HELP = (
    "Attach a charging station to a hosted CPO; it connects to ws(s)://<hub>/ocpp/<id> with HTTP Basic "
    "authentication (user: its id, password: the one given here)."
    "\n\n"
    "The Location file holds the OCPI Location fields of the site (address, city, country, coordinates, "
    "time_zone, name, …) plus 'connector': the OCPI Connector fields every connector gets (standard, "
    "format, power_type, max_voltage, max_amperage), and optionally 'evses': per OCPP EVSE number, "
    "OCPI EVSE fields (evse_id, physical_reference, …) and 'connectors' overrides. See the README."
)


@stations.command("add", help=ADD_HELP)
def stations_add(
    cpo: Annotated[str, typer.Option("--cpo", help="The hosted CPO, as CC*PID.")],
    station_id: Annotated[str, typer.Option("--id", help="The station's OCPP identity.")],
    location_file: Annotated[
        Path, typer.Option("--location-file", help="JSON: the Location template.", dir_okay=False)
    ],
    password: Annotated[
        str | None, typer.Option(help="The station's password (default: a new random one, printed).")
    ] = None,
    location_id: Annotated[
        str | None, typer.Option("--location-id", help="The OCPI Location id (default: the station id).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    made_up = password is None
    secret = password if password is not None else new_password()

    async def work(services: Services) -> dict[str, Any]:
        try:
            text = await asyncio.to_thread(location_file.read_text, encoding="utf-8")
            template = json.loads(text)
        except (OSError, ValueError) as error:
            raise CommandError(f"cannot read the Location file {location_file}: {error}") from None
        station = await operators.add_station(
            services,
            cpo=cpo,
            station_id=station_id,
            template=template,
            password=secret,
            location_id=location_id,
        )
        return {**operators.describe_station(station), "url": _station_url(services, station.id)}

    row = with_services(work)
    if made_up:
        row["password"] = secret
    if as_json:
        sys.stdout.write(json.dumps(row) + "\n")
        return
    out.print(f"Station [bold]{row['id']}[/bold] attached to {row['cpo']} (Location {row['location_id']}).")
    out.print(f"  connects to: {row['url']}")
    if made_up:
        out.print(f"  password:    {secret}")
        out.print("Configure it on the station over a secure channel; the hub keeps only a hash.")
    elif len(secret) < 16:
        err.print("[yellow]OCPP 2.0.1 asks for station passwords of 16 to 40 characters.[/yellow]")


@stations.command("password")
def stations_password(
    station_id: Annotated[str, typer.Argument(help="The station's OCPP identity.")],
    password: Annotated[
        str | None, typer.Option(help="The new password (default: a new random one, printed).")
    ] = None,
) -> None:
    """Give a station a new password (e.g. after it leaked); the old one is refused from now on."""
    secret = password if password is not None else new_password()

    async def work(services: Services) -> None:
        await operators.set_station_password(services, station_id, secret)

    with_services(work)
    out.print(f"Station [bold]{station_id}[/bold] has a new password.")
    if password is None:
        out.print(f"  password:    {secret}")
        out.print("Configure it on the station over a secure channel; the hub keeps only a hash.")


@stations.command("list")
def stations_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Every station, oldest first, with what it last reported."""

    async def work(services: Services) -> list[dict[str, Any]]:
        return [operators.describe_station(s) for s in await services.store.stations.all()]

    rows = with_services(work)
    if as_json:
        print_json(rows)
        return
    table = Table("id", "cpo", "location", "connected", "protocol", "station", "connectors")
    for row in rows:
        model = " ".join(part for part in (row["vendor"], row["model"]) if part) or "-"
        connectors = ", ".join(f"{c['evse']}/{c['connector']} {c['ocpp_status']}" for c in row["connectors"])
        table.add_row(
            row["id"],
            row["cpo"],
            row["location_id"],
            "yes" if row["connected"] else "no",
            row["protocol"] or "-",
            model,
            connectors or "-",
        )
    out.print(table)


def _station_url(services: Services, station_id: str) -> str:
    """Where the station connects: the hub's public URL with a websocket scheme."""
    base = services.settings.public_url.rstrip("/")
    scheme, _, rest = base.partition("://")
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/ocpp/{quote(station_id, safe='')}"
