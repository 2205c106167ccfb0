"""Work a request starts but does not wait for, bounded so it cannot pile up without limit."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import structlog

log = structlog.get_logger(__name__)


class Background:
    def __init__(self, *, limit: int = 64) -> None:
        self._slots = asyncio.Semaphore(limit)
        self._tasks: set[asyncio.Task[Any]] = set()

    async def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        """Start ``work``; waits only when ``limit`` pieces of work are already under way."""
        await self._slots.acquire()
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        self._slots.release()
        if not task.cancelled() and task.exception() is not None:
            log.error("background_work_failed", exc_info=task.exception())

    async def idle(self) -> None:
        """Wait until the work started so far is done (tests, orderly shutdown)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def close(self, timeout: float = 10) -> None:  # noqa: ASYNC109 - a grace period, then cancel
        """Let the work under way finish for ``timeout`` seconds, then cancel what is left."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in set(self._tasks):
            task.cancel()
