"""``python -m hub worker`` and ``python -m hub beat``: the Celery side of a deployment.

Both replace this process with Celery's own (``celery -A workers.app …``), so signals reach Celery
directly; the hub package itself never imports the workers.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from hub.cli.common import err
from hub.cli.common import settings as load


def _exec(arguments: list[str]) -> None:
    settings = load()
    if settings.broker_url is None:
        err.print("[red]HUB_BROKER_URL is not set: without a broker, `serve` runs the jobs itself.[/red]")
        raise typer.Exit(2)
    command = [sys.executable, "-m", "celery", "-A", "workers.app", *arguments]
    os.execvp(command[0], command)  # noqa: S606 - our own interpreter, fixed arguments


def worker(
    tasks: Annotated[int | None, typer.Option(help="Tasks at once (default HUB_WORKER_TASKS).")] = None,
    name: Annotated[str | None, typer.Option(help="Node name, unique in the cluster.")] = None,
) -> None:
    """Run one Celery worker process: deliveries, pulls, liveness (needs HUB_BROKER_URL).

    Its tasks share one event loop; run one worker process per core.
    """
    settings = load()
    count = tasks if tasks is not None else settings.worker_tasks
    node = name or f"hub-{os.getpid()}@%h"
    _exec(
        [
            "worker",
            "-Q",
            "hub",
            "--pool",
            "threads",
            "--concurrency",
            str(count),
            "-n",
            node,
            "-l",
            settings.log_level,
        ]
    )


def beat() -> None:
    """Run the scheduler; several may run, one holds the lock and sends (needs HUB_BROKER_URL)."""
    settings = load()
    _exec(["beat", "-l", settings.log_level, "--pidfile", ""])
