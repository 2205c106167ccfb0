"""The middlewares every request passes, outermost first:

``request_ids`` → ``observe`` (request log line and metrics) → ``ocpi_errors`` → ``authenticate``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from hub.api.responses import ocpi_response
from hub.errors import HubError, Unauthorized
from hub.keys import (
    correlation_id_key,
    issued_token_key,
    metrics_key,
    ocpi_status_key,
    platform_key,
    presented_token_key,
    request_id_key,
    services_key,
)
from hub.ocpi.status import OcpiStatus
from hub.ocpi.v2_2_1.hubclientinfo import ConnectionStatus
from hub.platforms import TokenKind
from hub.secrets import header_candidates, token_digest

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
log = structlog.get_logger(__name__)

# Routes a registration token (token A) may use: reading versions and registering (digest §1.2).
REGISTRATION_ROUTES = frozenset({"versions", "version_details", "credentials"})
# Everything under this prefix needs a credentials token; the rest (metrics, health) is public.
PROTECTED_PREFIX = "/ocpi/"


@web.middleware
async def request_ids(request: web.Request, handler: Handler) -> web.StreamResponse:
    """OCPI 2.2: echo ``X-Request-ID`` and ``X-Correlation-ID``; make them up when a peer sent none."""
    request_id = request.headers.get("X-Request-ID") or str(uuid.uuid4())
    correlation_id = request.headers.get("X-Correlation-ID") or request_id
    request[request_id_key] = request_id
    request[correlation_id_key] = correlation_id
    with structlog.contextvars.bound_contextvars(request_id=request_id, correlation_id=correlation_id):
        response = await handler(request)
    response.headers["X-Request-ID"] = request_id
    response.headers["X-Correlation-ID"] = correlation_id
    return response


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    response = await handler(request)
    elapsed = time.perf_counter() - started
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    ocpi_status = response.get(ocpi_status_key)
    metrics = request.app[metrics_key]
    metrics.requests.labels(route, request.method, str(response.status), str(ocpi_status or "")).inc()
    metrics.latency.labels(route, request.method).observe(elapsed)
    if route != "/metrics":
        platform = request.get(platform_key)
        log.info(
            "request_handled",
            platform=platform.id if platform is not None else None,
            method=request.method,
            path=request.path,
            http_status=response.status,
            ocpi_status=ocpi_status,
            elapsed_ms=round(elapsed * 1000, 2),
        )
    return response


@web.middleware
async def ocpi_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error becomes the OCPI envelope; surprises are logged with their traceback."""
    try:
        return await handler(request)
    except HubError as error:
        return ocpi_response(
            status_code=error.ocpi_status, status_message=error.message, http_status=error.http_status
        )
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return ocpi_response(
            status_code=OcpiStatus.CLIENT_ERROR,
            status_message=f"{error.reason}: {request.method} {request.path}",
            http_status=error.status,
        )
    except Exception:
        log.exception("unhandled_error", method=request.method, path=request.path)
        return ocpi_response(
            status_code=OcpiStatus.SERVER_ERROR, status_message="internal error", http_status=500
        )


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Find the platform behind ``Authorization: Token …`` (raw or Base64); HTTP 401 otherwise."""
    if not request.path.startswith(PROTECTED_PREFIX):
        return await handler(request)
    services = request.app[services_key]
    candidates = header_candidates(request.headers.get("Authorization"))
    if not candidates:
        raise Unauthorized("missing or malformed Authorization header; expected 'Token <credentials token>'")
    for candidate in candidates:
        digest = token_digest(candidate)
        platform = await services.store.platforms.by_token(digest)
        if platform is not None:
            break
    else:
        raise Unauthorized("unknown credentials token")
    issued = platform.token(digest)
    assert issued is not None
    if not issued.valid_at(services.clock()):
        raise Unauthorized("credentials token has expired")
    route_name = request.match_info.route.name
    if issued.kind is TokenKind.REGISTRATION and route_name not in REGISTRATION_ROUTES:
        raise Unauthorized("a registration token (token A) is only accepted by versions and credentials")
    if platform.registered and platform.status is ConnectionStatus.SUSPENDED:
        raise Unauthorized("this platform is suspended by the hub operator")
    request[platform_key] = platform
    request[issued_token_key] = issued
    request[presented_token_key] = candidate
    with structlog.contextvars.bound_contextvars(platform=platform.id):
        return await handler(request)
