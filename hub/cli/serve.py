"""``python -m hub serve``: the hub's web application."""

from __future__ import annotations

import asyncio
from typing import Annotated

import structlog
import typer
from aiohttp import web

from hub.app import create_app
from hub.cli.common import settings as load
from hub.loops import new_event_loop
from hub.observability import configure_logging

log = structlog.get_logger(__name__)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
) -> None:
    """Run the whole hub on the embedded default (SQLite in the data dir, jobs in-process)."""
    settings = load()
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
    web.run_app(application, host=host, port=port, access_log=None, print=None, loop=new_event_loop(settings))
