"""Hub URLs that stand in for a party's URL (``response_url``, CDR ``Location``, a foreign ``Link``):
the hub checks who calls, validates async results, and forwards to the original."""

from __future__ import annotations

from aiohttp import web

from hub.api.modules import relayed_response
from hub.api.versions import VERSION
from hub.errors import ForeignParty, InvalidParameters, MethodNotAllowed, NotFound, ReceiverNotConnected
from hub.keys import correlation_id_key, forwarder_key, platform_key, services_key
from hub.ocpi.base import OcpiModel, parse_json
from hub.ocpi.v2_2_1.chargingprofiles import (
    ActiveChargingProfileResult,
    ChargingProfileResult,
    ClearProfileResult,
)
from hub.ocpi.v2_2_1.commands import CommandResult
from hub.routing.links import LinkKind, ProxyLink
from hub.routing.table import PartyRef

# The async result a response_url receives, by module and by the method that handed it out.
_RESULTS: dict[tuple[str, str | None], type[OcpiModel]] = {
    ("commands", "POST"): CommandResult,
    ("chargingprofiles", "GET"): ActiveChargingProfileResult,
    ("chargingprofiles", "PUT"): ChargingProfileResult,
    ("chargingprofiles", "DELETE"): ClearProfileResult,
}


def _result_model(link: ProxyLink) -> type[OcpiModel] | None:
    if link.kind is not LinkKind.RESPONSE_URL:
        return None
    return _RESULTS.get((link.module, link.origin_method))


async def follow_link(request: web.Request) -> web.Response:
    services = request.app[services_key]
    link = await services.store.links.get(request.match_info["link_id"])
    caller = request[platform_key]
    # An unknown id, an expired one and one handed to somebody else all look the same from outside.
    if link is None or link.expires_at <= services.clock() or link.user_platform_id != caller.id:
        if link is not None and link.user_platform_id != caller.id:
            raise ForeignParty("this hub URL was handed to another party")
        raise NotFound("no such hub URL (or it has expired)")
    if request.method not in link.methods:
        raise MethodNotAllowed(f"this hub URL takes {', '.join(link.methods)}")
    body = await request.read()
    model = _result_model(link)
    if model is not None:
        if not body.strip():
            raise InvalidParameters(f"body: a {model.__name__} object is required")
        parse_json(model, body)
    target = await services.store.platforms.get(link.target_platform_id)
    if target is None or not target.registered:
        raise ReceiverNotConnected(f"{link.to_country_code}*{link.to_party_id} is no longer connected")
    relayed = await request.app[forwarder_key].send(
        target,
        request.method,
        link.url,
        body=body or None,
        to=PartyRef(link.to_country_code, link.to_party_id),
        sender=PartyRef(link.from_country_code, link.from_party_id),
        correlation_id=request[correlation_id_key],
        within=services.settings.forward_timeout,
    )
    return relayed_response(relayed)


def routes() -> list[web.RouteDef]:
    return [web.route("*", f"/ocpi/{VERSION}/links/{{link_id}}", follow_link, name="link")]
