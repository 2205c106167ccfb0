"""``python -m hub parties …``: the platforms connected (or invited) to the hub."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from hub import operators
from hub.cli.common import out, print_json, with_services
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
