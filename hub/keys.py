"""Typed keys for what the application and each request carry."""

from __future__ import annotations

from aiohttp import ClientSession, web

from hub.background import Background
from hub.jobs import Jobs
from hub.observability import Metrics
from hub.platforms import IssuedToken, Platform
from hub.routing.forwarder import Forwarder
from hub.routing.router import Router
from hub.services import Services

services_key = web.AppKey("services", Services)
http_key = web.AppKey("http", ClientSession)
metrics_key = web.AppKey("metrics", Metrics)
router_key = web.AppKey("router", Router)
forwarder_key = web.AppKey("forwarder", Forwarder)
jobs_key = web.AppKey[Jobs]("jobs")
background_key = web.AppKey("background", Background)

request_id_key = web.RequestKey("request_id", str)
correlation_id_key = web.RequestKey("correlation_id", str)
platform_key = web.RequestKey("platform", Platform)
issued_token_key = web.RequestKey("issued_token", IssuedToken)
# The token as the caller presented it (after Base64 decoding), for the credentials GET answer.
presented_token_key = web.RequestKey("presented_token", str)
# The OCPI status_code of an answer, for metrics and the request log.
ocpi_status_key = web.ResponseKey("ocpi_status", int)
