"""The event loop a process runs on, as the settings ask: uvloop (faster) or the standard library's."""

from __future__ import annotations

import asyncio

import structlog

from settings import Settings

log = structlog.get_logger(__name__)


def new_event_loop(settings: Settings) -> asyncio.AbstractEventLoop:
    if settings.event_loop == "uvloop":
        try:
            import uvloop
        except ImportError:  # a platform without it: the standard loop does the same, slower
            log.warning("uvloop_unavailable")
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()
