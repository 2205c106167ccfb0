"""The hub's credentials module (digest §4.1): parties register, update and unregister here."""

from __future__ import annotations

from aiohttp import ClientTimeout, web

from hub.api.responses import ocpi_response, read_json
from hub.api.versions import VERSION
from hub.keys import correlation_id_key, http_key, jobs_key, platform_key, presented_token_key, services_key
from hub.outbox.clientinfo import push_client_info
from hub.platforms import Platform
from hub.registration import PartyApi, Registration


def _registration(request: web.Request) -> Registration:
    services = request.app[services_key]
    settings = services.settings
    timeout = ClientTimeout(total=settings.request_timeout, connect=settings.connect_timeout)
    jobs = request.app[jobs_key]

    async def announce(platform: Platform, welcome: bool) -> None:
        await jobs.deliver(await push_client_info(services, platform, welcome=welcome))
        if welcome and settings.pulls:  # a new party: GET all via the hub serves its data within seconds
            await jobs.pull(platform.id, full=True)

    return Registration(services, PartyApi(request.app[http_key], timeout=timeout), announce)


async def get_credentials(request: web.Request) -> web.Response:
    """The hub's credentials for the caller, carrying the token the caller uses."""
    return ocpi_response(_registration(request).credentials_for(request[presented_token_key]))


async def post_credentials(request: web.Request) -> web.Response:
    platform = request[platform_key]
    body = await read_json(request)
    registration = _registration(request)
    return ocpi_response(
        await registration.register(platform, body, correlation_id=request[correlation_id_key])
    )


async def put_credentials(request: web.Request) -> web.Response:
    platform = request[platform_key]
    body = await read_json(request)
    registration = _registration(request)
    return ocpi_response(
        await registration.update(platform, body, correlation_id=request[correlation_id_key])
    )


async def delete_credentials(request: web.Request) -> web.Response:
    await _registration(request).unregister(request[platform_key])
    return ocpi_response()


def routes() -> list[web.RouteDef]:
    path = f"/ocpi/{VERSION}/credentials"
    return [
        web.get(path, get_credentials, name="credentials", allow_head=False),
        web.post(path, post_credentials, name="credentials"),
        web.put(path, put_credentials, name="credentials"),
        web.delete(path, delete_credentials, name="credentials"),
    ]
