"""The hub's web application, from one factory used by the CLI, the tests and the dev server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from aiohttp import ClientSession, ClientTimeout, TCPConnector, web

from hub.api import clearing, credentials, hubclientinfo, jwks, links, modules, operations, versions
from hub.api.middlewares import authenticate, observe, ocpi_errors, request_ids
from hub.background import Background
from hub.bootstrap import build_services
from hub.jobs import InProcessJobs, Jobs
from hub.keys import background_key, forwarder_key, http_key, jobs_key, metrics_key, router_key, services_key
from hub.mirror.service import Mirror
from hub.observability import Metrics
from hub.ocpp import server as ocpp_server
from hub.queue import CeleryJobs, sending_app
from hub.routing.forwarder import Forwarder
from hub.routing.router import Router
from hub.services import Services
from hub.store.cached import CachedStore
from settings import Settings


def _lifetime(
    settings: Settings, services: Services | None
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        owned = services is None
        app[services_key] = services if services is not None else await build_services(settings)
        timeout = ClientTimeout(total=settings.request_timeout, connect=settings.connect_timeout)
        # One pooled client for every call the hub makes to parties.
        async with ClientSession(timeout=timeout, connector=TCPConnector(limit=200)) as session:
            app[http_key] = session
            built = app[services_key]
            if settings.platform_cache_seconds > 0 and not isinstance(built.store, CachedStore):
                built.store = CachedStore(built.store, ttl=settings.platform_cache_seconds)
            forwarder = Forwarder(session, built.cipher)
            jobs: Jobs
            if settings.embedded_jobs:
                jobs = InProcessJobs(built, session)
                jobs.start()
            else:
                jobs = CeleryJobs(sending_app(settings))
            app[forwarder_key] = forwarder
            app[jobs_key] = jobs
            background = Background()
            app[background_key] = background
            app[router_key] = Router(built, forwarder, Mirror(built.store.mirror), jobs.deliver, background)
            try:
                yield
            finally:
                await background.close()
                await jobs.close()
        if owned:
            await app[services_key].close()

    return lifetime


def create_app(settings: Settings, *, services: Services | None = None) -> web.Application:
    """The hub; it opens (and closes) its own services unless given some."""
    app = web.Application(middlewares=[request_ids, observe, ocpi_errors, authenticate])
    app[metrics_key] = Metrics()
    app.cleanup_ctx.append(_lifetime(settings, services))
    app.add_routes(versions.routes())
    app.add_routes(credentials.routes())
    app.add_routes(hubclientinfo.routes())
    app.add_routes(modules.routes())
    app.add_routes(links.routes())
    app.add_routes(operations.routes())
    app.add_routes(clearing.routes())
    app.add_routes(jwks.routes())
    ocpp_server.install(app)
    return app
