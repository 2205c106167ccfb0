"""The functional modules the hub relays (cdrs, chargingprofiles, commands, locations, sessions,
tariffs, tokens), both interface roles: every request goes to the router."""

from __future__ import annotations

from urllib.parse import unquote

from aiohttp import web

from hub.api.versions import VERSION
from hub.keys import correlation_id_key, ocpi_status_key, platform_key, router_key
from hub.ocpi.v2_2_1.versions import FUNCTIONAL_MODULES, InterfaceRole, ModuleID
from hub.routing.forwarder import Relayed
from hub.routing.router import Call


def relayed_response(relayed: Relayed) -> web.Response:
    response = web.Response(status=relayed.status, body=relayed.body, headers=relayed.headers)
    if relayed.ocpi_status is not None:
        response[ocpi_status_key] = relayed.ocpi_status
    return response


async def functional_module(request: web.Request) -> web.Response:
    role, module = request.match_info["role"], request.match_info["module"]
    # The path after the module URL as the caller wrote it (still percent-encoded), to forward exactly.
    raw_tail = request.rel_url.raw_path[len(f"/ocpi/{VERSION}/{role}/{module}") :]
    call = Call(
        platform=request[platform_key],
        method=request.method,
        module=ModuleID(module),
        interface=InterfaceRole(role.upper()),
        tail=tuple(unquote(part) for part in raw_tail.strip("/").split("/") if part),
        raw_tail=raw_tail,
        query_string=request.query_string,
        query=request.query,
        headers=request.headers,
        body=await request.read(),
        correlation_id=request[correlation_id_key],
    )
    return relayed_response(await request.app[router_key].route(call))


def routes() -> list[web.RouteDef]:
    modules = "|".join(module.value for module in FUNCTIONAL_MODULES)
    path = f"/ocpi/{VERSION}/{{role:sender|receiver}}/{{module:{modules}}}{{tail:(/.*)?}}"
    return [web.route("*", path, functional_module, name="functional_module")]
