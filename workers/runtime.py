"""One event loop per worker process, and the hub services it runs the tasks on.

Celery runs tasks as plain functions on a pool of threads; the hub's work is async. Each worker
process runs one event loop on a thread of its own, and opens the store, the HTTP client and
``hub.tasks.Tasks`` on it once, at its first task. A task hands its coroutine to that loop and
waits for the result, so the tasks of one process (``--tasks`` of them at once) share the loop,
the connection pool and the store connection, and their waits overlap.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import ClientSession, ClientTimeout, TCPConnector
from celery import Celery

from hub.bootstrap import build_services
from hub.loops import new_event_loop
from hub.observability import configure_logging
from hub.queue import CeleryJobs
from hub.services import Services
from hub.store.cached import CachedStore
from hub.tasks import Tasks
from settings import Settings

T = TypeVar("T")


class Runtime:
    def __init__(self, settings: Settings, app: Celery) -> None:
        self.pid = os.getpid()
        self._settings = settings
        self._app = app
        self._loop = new_event_loop(settings)
        self._thread = threading.Thread(target=self._loop.run_forever, name="hub-event-loop", daemon=True)
        self._thread.start()
        self._services: Services | None = None
        self._http: ClientSession | None = None
        self._jobs: CeleryJobs | None = None
        self._tasks = self._call(self._open())

    def run(self, work: Callable[[Tasks], Awaitable[T]]) -> T:
        """Run ``work`` on the process's loop and wait for its result (from a pool thread)."""

        async def job() -> T:
            return await work(self._tasks)

        return self._call(job())

    def _call(self, coroutine: Awaitable[T]) -> T:
        async def wrapped() -> T:
            return await coroutine

        return asyncio.run_coroutine_threadsafe(wrapped(), self._loop).result()

    async def _open(self) -> Tasks:
        settings = self._settings
        services = await build_services(settings)
        if settings.platform_cache_seconds > 0:
            services.store = CachedStore(services.store, ttl=settings.platform_cache_seconds)
        timeout = ClientTimeout(total=settings.request_timeout, connect=settings.connect_timeout)
        self._http = ClientSession(timeout=timeout, connector=TCPConnector(limit=200))
        self._jobs = CeleryJobs(self._app)
        self._services = services
        return Tasks(services, self._http, self._jobs)

    def close(self) -> None:
        self._call(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    async def _close(self) -> None:
        if self._jobs is not None:
            await self._jobs.close()
        if self._http is not None:
            await self._http.close()
        if self._services is not None:
            await self._services.close()


_current: Runtime | None = None
_opening = threading.Lock()


def runtime(settings: Settings, app: Celery) -> Runtime:
    """This process's runtime, opened by its first task."""
    global _current
    with _opening:
        if _current is None or _current.pid != os.getpid():
            configure_logging(settings.log_level, settings.log_format)
            _current = Runtime(settings, app)
        return _current


def close_runtime() -> None:
    global _current
    with _opening:
        if _current is not None and _current.pid == os.getpid():
            _current.close()
        _current = None
