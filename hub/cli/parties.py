"""``python -m hub parties …``: the platforms connected (or invited) to the hub."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from aiohttp import ClientSession
from rich.table import Table

from hub import operators
from hub.cli.common import CommandError, out, print_json, with_services
from hub.connect import connect
from hub.errors import HubError
from hub.ocpi.types import format_datetime
from hub.rotation import previous_tokens_valid_until, rotate
from hub.services import Services

parties = typer.Typer(no_args_is_help=True, help="Platforms connected (or invited) to the hub.")


@parties.command("invite")
def parties_invite(
    name: Annotated[str, typer.Option(help="A name for the platform, for operators.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Create a registration token (token A) for a new platform."""

    async def work(services: Services) -> tuple[str, str, str]:
        platform, token_a = await operators.invite(services, name)
        return platform.id, token_a, services.settings.versions_url

    platform_id, token_a, versions_url = with_services(work)
    if as_json:
        sys.stdout.write(json.dumps({"token_a": token_a, "versions_url": versions_url}) + "\n")
        return
    out.print(f"Platform [bold]{platform_id}[/bold] invited.")
    out.print(f"  versions URL: {versions_url}")
    out.print(f"  token A:      {token_a}")
    out.print("Hand both to the party over a secure channel; the token works once, for registration.")


@parties.command("list")
def parties_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Every platform, oldest first."""

    async def work(services: Services) -> list[dict[str, Any]]:
        return [operators.describe(p) for p in await services.store.platforms.all()]

    rows = with_services(work)
    if as_json:
        print_json(rows)
        return
    table = Table("id", "name", "status", "registered", "parties", "version")
    for row in rows:
        parties_text = ", ".join(f"{p['country_code']}*{p['party_id']} {p['role']}" for p in row["parties"])
        table.add_row(
            row["id"],
            row["name"],
            row["status"],
            "yes" if row["registered"] else "no",
            parties_text or "-",
            row["version"] or "-",
        )
    out.print(table)


@parties.command("show")
def parties_show(
    platform: Annotated[str, typer.Argument(help="Platform id, or a party as CC*PID.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """One platform in detail."""

    async def work(services: Services) -> dict[str, Any]:
        return operators.describe(await operators.find(services, platform))

    row = with_services(work)
    if as_json:
        print_json(row)
        return
    for key in (
        "id",
        "name",
        "status",
        "registered",
        "version",
        "versions_url",
        "token_encoding",
        "created_at",
        "status_changed_at",
    ):
        out.print(f"[bold]{key}[/bold]: {row[key]}")
    for party in row["parties"]:
        out.print(f"party: {party['country_code']}*{party['party_id']} {party['role']} ({party['name']})")
    for endpoint in row["endpoints"]:
        out.print(f"endpoint: {endpoint['identifier']} {endpoint['role']} {endpoint['url']}")


@parties.command("suspend")
def parties_suspend(platform: Annotated[str, typer.Argument(help="Platform id, or CC*PID.")]) -> None:
    """Refuse the platform's requests; its parties show as SUSPENDED."""
    changed = with_services(lambda services: operators.suspend(services, platform))
    out.print(f"Platform {changed.id} suspended.")


@parties.command("resume")
def parties_resume(platform: Annotated[str, typer.Argument(help="Platform id, or CC*PID.")]) -> None:
    """Accept a suspended platform's requests again."""
    changed = with_services(lambda services: operators.resume(services, platform))
    out.print(f"Platform {changed.id} connected again.")


@parties.command("remove")
def parties_remove(platform: Annotated[str, typer.Argument(help="Platform id, or CC*PID.")]) -> None:
    """Forget a platform entirely: its tokens, roles and endpoints."""
    removed = with_services(lambda services: operators.remove(services, platform))
    out.print(f"Platform {removed.id} removed.")


# Help texts with long paragraphs: the CLI keeps a docstring's line breaks as they are.
CONNECT_HELP = (
    "Connect to a party that handed over its versions URL and a token A (the hub registers with it)."
    "\n\n"
    "The hub reads the party's versions with token A, POSTs its own credentials (role HUB) with a new "
    "token for the party, and keeps the token the party answers with. Nothing is kept when a step fails."
    "\n\n"
    "This command runs in its own process: the Hub Client Info pushes it records (the newcomer's parties "
    "to everyone else, and everyone else's to the newcomer) stay PENDING in the outbox, and the running "
    "hub's sweeper sends them (every HUB_SWEEP_INTERVAL seconds). The running hub pulls the party's data "
    "on its pull schedule."
)
ROTATE_HELP = (
    "Give a platform a new token to call the hub, and take a new one from it (credentials PUT)."
    "\n\n"
    "The token the party used so far keeps working for HUB_ROTATION_OVERLAP seconds; then only the new "
    "one does. A platform that is not registered, or is suspended, is refused."
)


@parties.command("connect", help=CONNECT_HELP)
def parties_connect(
    versions_url: Annotated[str, typer.Option("--versions-url", help="The party's versions URL.")],
    token: Annotated[str, typer.Option("--token", help="The token A the party handed over.")],
    name: Annotated[
        str | None, typer.Option(help="A name for operators (default: the party's business name).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    async def work(services: Services) -> dict[str, Any]:
        async with ClientSession() as http:
            try:
                platform = await connect(services, http, versions_url=versions_url, token_a=token, name=name)
            except HubError as error:
                raise CommandError(f"could not connect: {error.message} (OCPI {error.ocpi_status})") from None
        return operators.describe(platform)

    row = with_services(work)
    if as_json:
        sys.stdout.write(json.dumps(row) + "\n")
        return
    out.print(f"Connected to platform [bold]{row['id']}[/bold] ({row['name']}): {row['status']}.")
    for party in row["parties"]:
        out.print(f"  party: {party['country_code']}*{party['party_id']} {party['role']} ({party['name']})")
    out.print("The running hub sends Hub Client Info to the other parties (it waits in the outbox).")


@parties.command("rotate", help=ROTATE_HELP)
def parties_rotate(
    platform: Annotated[str, typer.Argument(help="Platform id, or a party as CC*PID.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    async def work(services: Services) -> dict[str, Any]:
        found = await operators.find(services, platform)
        async with ClientSession() as http:
            try:
                rotated = await rotate(services, http, found)
            except HubError as error:
                raise CommandError(
                    f"rotating {found.id}: {error.message} (OCPI {error.ocpi_status})"
                ) from None
        until = previous_tokens_valid_until(rotated)
        return {
            **operators.describe(rotated),
            "previous_token_valid_until": format_datetime(until) if until is not None else None,
        }

    row = with_services(work)
    if as_json:
        sys.stdout.write(json.dumps(row) + "\n")
        return
    out.print(f"Platform [bold]{row['id']}[/bold] has new tokens, both ways.")
    until = row["previous_token_valid_until"]
    if until is None:
        out.print("The token the party used so far stopped working at once.")
    else:
        out.print(f"The token the party used so far stops working at {until}.")
