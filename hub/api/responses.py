"""Answers in the OCPI envelope, and reading request bodies."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from hub.errors import InvalidJson
from hub.keys import ocpi_status_key
from hub.ocpi.envelope import envelope
from hub.ocpi.status import OcpiStatus


def ocpi_response(
    data: Any = None,
    *,
    status_code: int = OcpiStatus.SUCCESS,
    status_message: str | None = None,
    http_status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    response = web.json_response(
        envelope(data, status_code=status_code, status_message=status_message),
        status=http_status,
        headers=headers,
    )
    response[ocpi_status_key] = int(status_code)
    return response


async def read_json(request: web.Request) -> Any:
    """The request body as JSON; anything else is HTTP 400 with OCPI 2001."""
    raw = await request.read()
    if not raw:
        raise InvalidJson("the request has no body; a JSON object is expected")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidJson(f"the body is not valid JSON: {error}") from None
