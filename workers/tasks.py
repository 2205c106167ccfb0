"""The Celery tasks: thin, by id, each one call into ``hub.tasks.Tasks`` on the process's loop."""

from __future__ import annotations

from typing import Any

from celery.signals import worker_process_shutdown, worker_shutdown

from hub.outbox.records import DeliveryState
from hub.queue import CHORE, DELIVER, PULL
from workers.app import app, settings
from workers.runtime import close_runtime, runtime


@app.task(name=DELIVER)
def deliver(delivery_ids: list[str]) -> int:
    """Attempt these outbox deliveries; returns how many were delivered."""
    done = runtime(settings, app).run(lambda tasks: tasks.deliver(delivery_ids))
    return sum(1 for d in done if d is not None and d.state is DeliveryState.DELIVERED)


@app.task(name=PULL)
def pull(platform_id: str, modules: list[str] | None = None, *, full: bool = False) -> Any:
    return runtime(settings, app).run(lambda tasks: tasks.pull(platform_id, modules, full=full))


@app.task(name=CHORE)
def chore(name: str) -> Any:
    """A scheduled job by name (``hub.tasks.chores``)."""
    return runtime(settings, app).run(lambda tasks: tasks.run_chore(name))


@worker_shutdown.connect
@worker_process_shutdown.connect
def _close(**_: Any) -> None:
    close_runtime()
