"""The job-queue port, and its embedded mode: jobs run inside the hub process.

Hub code hands over ids and never waits for the work. With a broker configured, the same port
sends the ids to Celery workers instead (``hub.queue``); both run ``hub.tasks``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Protocol

import structlog
from aiohttp import ClientSession

from hub.background import Background
from hub.services import Services
from hub.tasks import Tasks, chores

log = structlog.get_logger(__name__)


class Jobs(Protocol):
    """The job-queue port: how hub code asks for background work. Every method returns at once;
    what it asks for is already recorded in the store (or can be found there again), so a job that
    is lost is redone by the sweeper or the next schedule."""

    async def deliver(self, delivery_ids: Sequence[str]) -> None:
        """Attempt these outbox deliveries soon."""

    async def pull(
        self, platform_id: str, modules: Sequence[str] | None = None, *, full: bool = False
    ) -> None:
        """Pull these sender interfaces of the platform soon (None: every one it offers);
        ``full``: from the beginning rather than from the last checkpoint."""

    async def close(self) -> None:
        """Stop taking work; what is under way finishes or stays in the store."""


class InProcessJobs:
    """The embedded mode: jobs run as background tasks of the hub's own event loop, and the
    schedule (``hub.tasks.chores``) runs here too."""

    def __init__(self, services: Services, http: ClientSession) -> None:
        self._services = services
        self.tasks = Tasks(services, http, self)
        self._work = Background(limit=256)
        self._schedule: list[asyncio.Task[None]] = []

    async def deliver(self, delivery_ids: Sequence[str]) -> None:
        """Attempt these deliveries now, in the background."""
        ids = list(delivery_ids)
        if ids:
            await self._work.spawn(self.tasks.deliver(ids))

    async def pull(
        self, platform_id: str, modules: Sequence[str] | None = None, *, full: bool = False
    ) -> None:
        await self._work.spawn(self.tasks.pull(platform_id, modules, full=full))

    def start(self) -> None:
        for chore in chores(self._services.settings):
            self._schedule.append(asyncio.create_task(self._every(chore.name, chore.every)))

    async def sweep(self) -> int:
        """Hand out every delivery that is due; returns how many."""
        return await self.tasks.sweep()

    async def _every(self, name: str, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.tasks.run_chore(name)
            except Exception:
                log.exception("chore_failed", chore=name)

    async def close(self) -> None:
        for task in self._schedule:
            task.cancel()
        for task in self._schedule:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        # Work under way finishes (it is short); anything left stays PENDING in the store.
        await self._work.close()

    async def idle(self) -> None:
        """Wait until the work handed over so far, and what it started, is done (tests, shutdown)."""
        await self._work.idle()
