"""The OCPI response envelope (digest §1.3)."""

from __future__ import annotations

from typing import Any

from hub.ocpi.status import OcpiStatus
from hub.ocpi.types import utc_now_text


def envelope(
    data: Any = None, *, status_code: int = OcpiStatus.SUCCESS, status_message: str | None = None
) -> dict[str, Any]:
    """Wrap ``data`` as OCPI answers it; ``data`` and ``status_message`` stay absent when ``None``."""
    body: dict[str, Any] = {}
    if data is not None:
        body["data"] = data
    body["status_code"] = int(status_code)
    if status_message is not None:
        body["status_message"] = status_message
    body["timestamp"] = utc_now_text()
    return body
