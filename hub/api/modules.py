"""The functional modules the hub relays (cdrs, chargingprofiles, commands, locations, sessions,
tariffs, tokens), both interface roles.

Every request here is authenticated with a credentials token (token A is refused). Routing between
parties is not enabled yet, so the hub answers OCPI 4000 naming the module.
"""

from __future__ import annotations

from aiohttp import web

from hub.api.versions import VERSION
from hub.errors import RoutingError
from hub.ocpi.v2_2_1.versions import FUNCTIONAL_MODULES


async def functional_module(request: web.Request) -> web.Response:
    module = request.match_info["module"]
    role = request.match_info["role"]
    raise RoutingError(f"routing of the {module} {role} interface is not enabled on this hub yet")


def routes() -> list[web.RouteDef]:
    modules = "|".join(module.value for module in FUNCTIONAL_MODULES)
    path = f"/ocpi/{VERSION}/{{role:sender|receiver}}/{{module:{modules}}}{{tail:(/.*)?}}"
    return [web.route("*", path, functional_module, name="functional_module")]
