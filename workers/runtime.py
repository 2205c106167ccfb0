"""One event loop per worker process, and the hub services it runs the tasks on.

Celery runs a task as a plain function in a worker process; the hub's work is async. Each process
opens its loop, store, HTTP client and ``hub.tasks.Tasks`` once, at its first task, and keeps them
for every task after: a task is one ``run_until_complete`` on that loop.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import ClientSession, ClientTimeout, TCPConnector
from celery import Celery

from hub.bootstrap import build_services
from hub.observability import configure_logging
from hub.queue import CeleryJobs
from hub.services import Services
from hub.store.cached import CachedStore
from hub.tasks import Tasks
from settings import Settings

T = TypeVar("T")


class Runtime:
    def __init__(self, settings: Settings, app: Celery) -> None:
        self._settings = settings
        self._app = app
        self._loop = _new_loop(settings)
        self._pid = os.getpid()
        self._services: Services | None = None
        self._http: ClientSession | None = None
        self._jobs: CeleryJobs | None = None
        self._tasks: Tasks | None = None

    def run(self, work: Callable[[Tasks], Awaitable[T]]) -> T:
        return self._loop.run_until_complete(self._run(work))

    async def _run(self, work: Callable[[Tasks], Awaitable[T]]) -> T:
        if self._tasks is None:
            self._tasks = await self._open()
        return await work(self._tasks)

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
        if self._tasks is not None:
            self._loop.run_until_complete(self._close())
        self._loop.close()

    async def _close(self) -> None:
        if self._jobs is not None:
            await self._jobs.close()
        if self._http is not None:
            await self._http.close()
        if self._services is not None:
            await self._services.close()


def _new_loop(settings: Settings) -> asyncio.AbstractEventLoop:
    if settings.event_loop == "uvloop":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


_current: Runtime | None = None


def runtime(settings: Settings, app: Celery) -> Runtime:
    """This process's runtime, opened at its first task (after the worker forked)."""
    global _current
    if _current is None or _current._pid != os.getpid():
        configure_logging(settings.log_level, settings.log_format)
        _current = Runtime(settings, app)
    return _current


def close_runtime() -> None:
    global _current
    if _current is not None and _current._pid == os.getpid():
        _current.close()
    _current = None
