"""The job-queue port with a broker: jobs go to Celery workers on Redis by task name.

The hub never imports ``workers``; it sends ``hub.deliver`` and ``hub.pull`` by name. What a job
asks for is in the store before it is sent, so a message the broker loses (a Redis restart, a
worker killed while holding it) is found again by the sweeper or the next scheduled pull: the
broker carries wake-up calls, the store holds the work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import structlog
from celery import Celery

from settings import Settings

log = structlog.get_logger(__name__)

QUEUE = "hub"
DELIVER = "hub.deliver"
PULL = "hub.pull"
CHORE = "hub.chore"


def celery_config(settings: Settings) -> dict[str, Any]:
    """The Celery configuration the hub (sending) and the workers (running) share."""
    assert settings.broker_url is not None
    return {
        "broker_url": settings.broker_url,
        "broker_connection_retry_on_startup": True,
        # Redis hands a task a worker took but never acknowledged to another worker after this
        # long. Retries are never broker tasks (the sweeper starts them), so nothing waits longer.
        "broker_transport_options": {"visibility_timeout": settings.broker_visibility_timeout},
        "task_default_queue": QUEUE,
        "task_serializer": "json",
        "accept_content": ["json"],
        "result_backend": None,
        "task_ignore_result": True,
        # Acknowledge after the job ran, and give it back if the worker process died under it.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 4,
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
        "enable_utc": True,
        # Sending must not hang a request when Redis is away: the work is in the store already.
        "task_publish_retry": True,
        "task_publish_retry_policy": {"max_retries": 2, "interval_start": 0.1, "interval_step": 0.2},
    }


def sending_app(settings: Settings) -> Celery:
    """A Celery app that only sends tasks (the hub's side)."""
    app = Celery("hub", set_as_current=False)
    app.conf.update(celery_config(settings))
    return app


class CeleryJobs:
    """Sends jobs to the workers. ``send_task`` blocks on the network, so it runs on one thread of
    its own, in order; a message that cannot be sent is logged and left to the sweeper."""

    def __init__(self, app: Celery) -> None:
        self._app = app
        self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="celery-send")

    async def deliver(self, delivery_ids: Sequence[str]) -> None:
        ids = list(delivery_ids)
        if ids:
            await self._send(DELIVER, [ids], {})

    async def pull(
        self, platform_id: str, modules: Sequence[str] | None = None, *, full: bool = False
    ) -> None:
        await self._send(PULL, [platform_id, None if modules is None else list(modules)], {"full": full})

    async def chore(self, name: str) -> None:
        await self._send(CHORE, [name], {})

    async def _send(self, task: str, args: list[Any], kwargs: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(
                self._sender, lambda: self._app.send_task(task, args=args, kwargs=kwargs, queue=QUEUE)
            )
        except Exception as error:  # the broker is away; the store still has the work
            log.warning("job_not_queued", task=task, error=f"{type(error).__name__}: {error}")

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._sender.shutdown)
