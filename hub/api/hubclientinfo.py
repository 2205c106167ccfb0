"""The hub's Hub Client Info Sender interface (digest §6.1): GET the list, paginated."""

from __future__ import annotations

from aiohttp import web

from hub.api.responses import ocpi_response
from hub.api.versions import VERSION
from hub.clientinfo import client_infos
from hub.keys import services_key
from hub.ocpi.pagination import page_headers, read_page_request
from hub.ocpi.types import parse_datetime


async def list_client_info(request: web.Request) -> web.Response:
    services = request.app[services_key]
    max_limit = services.settings.page_limit_max
    page = read_page_request(request.query, max_limit=max_limit)
    infos = [
        info
        for _, info in client_infos(await services.store.platforms.all())
        if page.admits(parse_datetime(info["last_updated"]))
    ]
    selected = infos[page.offset : page.offset + page.limit]
    url = f"{services.settings.public_url}{request.path}"
    return ocpi_response(selected, headers=page_headers(url, page, total=len(infos), max_limit=max_limit))


def routes() -> list[web.RouteDef]:
    return [
        web.get(f"/ocpi/{VERSION}/hubclientinfo", list_client_info, name="hubclientinfo", allow_head=False)
    ]
