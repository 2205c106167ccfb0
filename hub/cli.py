"""``python -m hub …``: run the hub and operate it.

Every command opens the store the settings name, so commands work while ``serve`` runs on the same
data directory: they share the store, not memory.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import structlog
import typer
from aiohttp import web
from rich.console import Console
from rich.table import Table

from hub import operators
from hub.app import create_app
from hub.bootstrap import build_services
from hub.observability import configure_logging
from hub.services import Services
from settings import Settings, SettingsError, load_settings

T = TypeVar("T")
log = structlog.get_logger(__name__)

app = typer.Typer(no_args_is_help=True, add_completion=False, help="The ocpi-hub command line.")
parties = typer.Typer(no_args_is_help=True, help="Platforms connected (or invited) to the hub.")
app.add_typer(parties, name="parties")
out = Console()
err = Console(stderr=True)


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None


def _with_services(work: Callable[[Services], Awaitable[T]]) -> T:
    settings = _settings()
    configure_logging("WARNING", settings.log_format)

    async def run() -> T:
        services = await build_services(settings)
        try:
            return await work(services)
        finally:
            await services.close()

    try:
        return asyncio.run(run())
    except operators.OperatorError as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2) + "\n")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
) -> None:
    """Run the whole hub on the embedded default (SQLite in the data dir, jobs in-process)."""
    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    application = create_app(settings)

    async def announce(_: web.Application) -> None:
        log.info(
            "hub_started",
            listening=f"http://{host}:{port}",
            versions_url=settings.versions_url,
            store="sqlite" if settings.sqlite_path is not None else "mongodb",
            jobs="in-process" if settings.embedded_jobs else "celery",
            event_loop=type(asyncio.get_running_loop()).__module__.split(".")[0],
        )

    application.on_startup.append(announce)
    web.run_app(application, host=host, port=port, access_log=None, print=None, loop=_event_loop(settings))


def _event_loop(settings: Settings) -> asyncio.AbstractEventLoop:
    if settings.event_loop == "uvloop":
        try:
            import uvloop
        except ImportError:  # a platform without it: the standard loop does the same, slower
            log.warning("uvloop_unavailable")
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


@parties.command("invite")
def parties_invite(
    name: Annotated[str, typer.Option(help="A name for the platform, for operators.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Create a registration token (token A) for a new platform."""

    async def work(services: Services) -> tuple[str, str, str]:
        platform, token_a = await operators.invite(services, name)
        return platform.id, token_a, services.settings.versions_url

    platform_id, token_a, versions_url = _with_services(work)
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

    rows = _with_services(work)
    if as_json:
        _print_json(rows)
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

    row = _with_services(work)
    if as_json:
        _print_json(row)
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
    changed = _with_services(lambda services: operators.suspend(services, platform))
    out.print(f"Platform {changed.id} suspended.")


@parties.command("resume")
def parties_resume(platform: Annotated[str, typer.Argument(help="Platform id, or CC*PID.")]) -> None:
    """Accept a suspended platform's requests again."""
    changed = _with_services(lambda services: operators.resume(services, platform))
    out.print(f"Platform {changed.id} connected again.")


@parties.command("remove")
def parties_remove(platform: Annotated[str, typer.Argument(help="Platform id, or CC*PID.")]) -> None:
    """Forget a platform entirely: its tokens, roles and endpoints."""
    removed = _with_services(lambda services: operators.remove(services, platform))
    out.print(f"Platform {removed.id} removed.")


def main() -> None:
    app()
