"""The job-queue port, embedded mode: deliveries are attempted inside the hub process.

The routing code hands over delivery ids and never waits for the attempts. A sweeper looks for
deliveries that are due again (retries) or were left behind by a crash. With a broker configured,
the same port sends the ids to Celery workers instead (see ``workers/``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Sequence
from typing import Protocol

import structlog

from hub.background import Background
from hub.outbox.deliver import Deliverer
from hub.services import Services

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


class InProcessJobs:
    def __init__(self, services: Services, deliverer: Deliverer) -> None:
        self._services = services
        self._deliverer = deliverer
        self._attempts = Background(limit=256)
        self._sweeper: asyncio.Task[None] | None = None

    async def deliver(self, delivery_ids: Iterable[str]) -> None:
        """Attempt these deliveries now, in the background."""
        await self._attempts.spawn(self._deliverer.attempt_many(list(delivery_ids)))

    def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep_forever())

    async def sweep(self) -> int:
        """Attempt every delivery that is due; returns how many."""
        due = await self._services.store.outbox.due(self._services.clock(), limit=200)
        if due:
            await self._deliverer.attempt_many([d.id for d in due])
        return len(due)

    async def _sweep_forever(self) -> None:
        interval = self._services.settings.sweep_interval
        while True:
            await asyncio.sleep(interval)
            try:
                await self.sweep()
            except Exception:
                log.exception("outbox_sweep_failed")

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        # Attempts under way finish (they are short); anything left stays PENDING in the store.
        await self._attempts.close()

    async def idle(self) -> None:
        """Wait until the attempts handed over so far are done (tests, orderly shutdown)."""
        await self._attempts.idle()
