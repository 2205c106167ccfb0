"""Cleared CDRs on the hub.

``GET /ocpi/2.2.1/clearing/cdrs/{cc}/{pid}/{id}`` is the ``Location`` a CPO gets when the hub accepts
its CDR: the CDR as the hub delivered it, with the hub's ``Hub-Signature``, for the CDR's owner and its
receiver only. ``/operator/…`` is the operator API (``HUB_OPERATOR_TOKEN`` as a bearer token): one
CDR with its verdict and delivery state, and settlement statements.
"""

from __future__ import annotations

import hmac
import json
from datetime import datetime

from aiohttp import web

from hub.api.responses import ocpi_response
from hub.api.versions import VERSION
from hub.clearing.records import cdr_key
from hub.clearing.settlement import to_csv
from hub.errors import NotFound
from hub.keys import platform_key, services_key
from hub.ocpi.types import parse_datetime
from hub.signing.jws import HUB_SIGNATURE
from hub.statements import statement


async def cleared_cdr(request: web.Request) -> web.Response:
    services = request.app[services_key]
    match = request.match_info
    record = await services.store.clearing.get(
        cdr_key(match["country_code"], match["party_id"], match["cdr_id"])
    )
    parties = {role.party_key for role in request[platform_key].roles}
    if record is None or not parties & {record.owner_key, record.receiver_key}:
        raise NotFound(
            f"the hub holds no CDR {match['country_code']}/{match['party_id']}/{match['cdr_id']} of yours"
        )
    return ocpi_response(json.loads(record.document), headers={HUB_SIGNATURE: record.signature})


def _operator(request: web.Request) -> web.Response | None:
    """None when the caller presents the operator token; otherwise the refusal to send."""
    expected = request.app[services_key].settings.operator_token
    if expected is None:
        return web.json_response({"error": "the operator API is closed: set HUB_OPERATOR_TOKEN"}, status=403)
    presented = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(presented.encode(), expected.get_secret_value().encode()):
        return web.json_response({"error": "Authorization: a Bearer operator token is required"}, status=401)
    return None


async def operator_cdr(request: web.Request) -> web.Response:
    refused = _operator(request)
    if refused is not None:
        return refused
    record = await request.app[services_key].store.clearing.get(request.match_info["key"])
    if record is None:
        return web.json_response({"error": f"no CDR {request.match_info['key']}"}, status=404)
    return web.json_response(record.model_dump(mode="json"))


async def operator_settlement(request: web.Request) -> web.Response:
    refused = _operator(request)
    if refused is not None:
        return refused
    try:
        start = _moment(request.query.get("from"), "from")
        end = _moment(request.query.get("to"), "to")
        lines = await statement(request.app[services_key], start, end)
    except ValueError as error:
        return web.json_response({"error": str(error)}, status=400)
    if request.query.get("format") == "csv":
        return web.Response(text=to_csv(lines), content_type="text/csv")
    return web.json_response(
        {"from": start.isoformat(), "to": end.isoformat(), "lines": [line.to_json() for line in lines]}
    )


def _moment(text: str | None, name: str) -> datetime:
    if not text:
        raise ValueError(f"{name}: a date or date-time is required, e.g. 2025-03-01")
    try:
        return parse_datetime(text if "T" in text else f"{text}T00:00:00Z")
    except ValueError:
        raise ValueError(f"{name}: not a date or date-time: {text!r}") from None


def routes() -> list[web.RouteDef]:
    return [
        web.get(
            f"/ocpi/{VERSION}/clearing/cdrs/{{country_code}}/{{party_id}}/{{cdr_id}}",
            cleared_cdr,
            name="cleared_cdr",
            allow_head=False,
        ),
        web.get("/operator/cdrs/{key}", operator_cdr, name="operator_cdr", allow_head=False),
        web.get("/operator/settlement", operator_settlement, name="operator_settlement", allow_head=False),
    ]
