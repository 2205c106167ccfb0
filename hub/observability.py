"""Logs and metrics.

Logs are events with key/value pairs, rendered as one JSON line (or readable console lines for local
runs). Every line inside a request carries its ``request_id``, ``correlation_id`` and the calling
``platform``. Credentials never reach a log: a processor drops values of keys that name secrets and
masks anything that looks like an ``Authorization`` value, whatever logger wrote it.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import IO, Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from structlog.typing import EventDict, WrappedLogger

_SECRET_KEYS = frozenset(
    {"authorization", "token", "token_a", "token_b", "token_c", "secret_key", "password"}
)
_AUTHORIZATION_VALUE = re.compile(r"(?i)\btoken\s+[A-Za-z0-9+/=_\-.~]{8,}")


def redact_secrets(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    for key, value in list(event_dict.items()):
        if key.lower() in _SECRET_KEYS:
            event_dict[key] = "[redacted]"
        elif isinstance(value, str) and _AUTHORIZATION_VALUE.search(value):
            event_dict[key] = _AUTHORIZATION_VALUE.sub("Token [redacted]", value)
    return event_dict


def configure_logging(level: str = "INFO", fmt: str = "json", stream: IO[str] | None = None) -> None:
    """Route structlog and the standard library's loggers through one formatter."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        # Drop events below the level before any processor spends time on them.
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_hub_handler", False):
            root.removeHandler(existing)
    handler._hub_handler = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # aiohttp's access log repeats what our request line says; keep it quiet.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


class Metrics:
    """The hub's Prometheus metrics, in a registry of its own (one per application)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "hub_requests",
            "OCPI requests answered by the hub",
            ["route", "method", "http_status", "ocpi_status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "hub_request_duration_seconds",
            "Time to answer a request",
            ["route", "method"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
