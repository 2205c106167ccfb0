"""The hub's versions module (digest §3): the versions it speaks and the endpoints of 2.2.1."""

from __future__ import annotations

from functools import cache
from typing import Any

from aiohttp import web

from hub.api.responses import ocpi_response
from hub.keys import services_key
from hub.ocpi.v2_2_1.versions import FUNCTIONAL_MODULES, InterfaceRole, ModuleID

VERSION = "2.2.1"


def module_url(base: str, module: ModuleID, role: InterfaceRole) -> str:
    """Where the hub serves one interface of a functional module."""
    return f"{base}/ocpi/{VERSION}/{role.value.lower()}/{module.value}"


@cache
def hub_endpoints(base: str) -> list[dict[str, Any]]:
    endpoints: list[dict[str, Any]] = [
        {
            "identifier": ModuleID.CREDENTIALS.value,
            "role": InterfaceRole.SENDER.value,
            "url": f"{base}/ocpi/{VERSION}/credentials",
        },
        {
            "identifier": ModuleID.HUB_CLIENT_INFO.value,
            "role": InterfaceRole.SENDER.value,
            "url": f"{base}/ocpi/{VERSION}/hubclientinfo",
        },
    ]
    for module in FUNCTIONAL_MODULES:
        for role in (InterfaceRole.SENDER, InterfaceRole.RECEIVER):
            endpoints.append(
                {"identifier": module.value, "role": role.value, "url": module_url(base, module, role)}
            )
    return endpoints


async def versions(request: web.Request) -> web.Response:
    base = request.app[services_key].settings.public_url
    return ocpi_response([{"version": VERSION, "url": f"{base}/ocpi/{VERSION}"}])


async def version_details(request: web.Request) -> web.Response:
    base = request.app[services_key].settings.public_url
    return ocpi_response({"version": VERSION, "endpoints": hub_endpoints(base)})


def routes() -> list[web.RouteDef]:
    return [
        web.get("/ocpi/versions", versions, name="versions"),
        web.get(f"/ocpi/{VERSION}", version_details, name="version_details"),
    ]
