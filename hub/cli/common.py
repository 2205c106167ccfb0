"""What every command shares: settings, services for one command, output."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import typer
from rich.console import Console

from hub import operators
from hub.bootstrap import build_services
from hub.observability import configure_logging
from hub.services import Services
from settings import Settings, SettingsError, load_settings

T = TypeVar("T")

out = Console()
err = Console(stderr=True)


class CommandError(Exception):
    """A command could not do what it was asked; the message says why (exit status 1)."""


def settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None


def with_services(work: Callable[[Services], Awaitable[T]]) -> T:
    """Open the services the settings name, run ``work``, close them."""
    loaded = settings()
    configure_logging("WARNING", loaded.log_format)

    async def run() -> T:
        services = await build_services(loaded)
        try:
            return await work(services)
        finally:
            await services.close()

    try:
        return asyncio.run(run())
    except (operators.OperatorError, CommandError) as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")
