"""Hub Client Info pushes (digest §6.3): when a platform's parties change, tell every other platform.

Each party role of the changed platform becomes one PUT of its ClientInfo to each other registered,
non-suspended platform that offers a ``hubclientinfo`` RECEIVER endpoint. The hub originates these
requests, so each delivery gets a fresh correlation id; ``hubclientinfo`` is a configuration module,
so the deliverer sends no routing headers for it.
"""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import quote

from hub.clientinfo import client_infos
from hub.ocpi.v2_2_1.hubclientinfo import ConnectionStatus
from hub.outbox.records import Delivery
from hub.platforms import Platform
from hub.services import Services

MODULE = "hubclientinfo"


def receivers(platforms: list[Platform], changed: Platform) -> list[tuple[Platform, str]]:
    """The platforms to tell, each with its ``hubclientinfo`` RECEIVER endpoint URL."""
    found: list[tuple[Platform, str]] = []
    for platform in platforms:
        if platform.id == changed.id or not platform.registered or not platform.roles:
            continue
        if platform.status is ConnectionStatus.SUSPENDED:
            continue
        endpoint = platform.endpoint(MODULE, "RECEIVER")
        if endpoint is not None:
            found.append((platform, endpoint.url))
    return found


def client_info_url(endpoint_url: str, country_code: str, party_id: str) -> str:
    """``{hubclientinfo_endpoint_url}/{country_code}/{party_id}``, whether or not the endpoint ends in /."""
    return f"{endpoint_url.rstrip('/')}/{quote(country_code, safe='')}/{quote(party_id, safe='')}"


def client_info_deliveries(
    platforms: list[Platform], changed: Platform, *, hub_country_code: str, hub_party_id: str, now: datetime
) -> list[Delivery]:
    """The PUTs that tell every other platform the current ClientInfo of each of ``changed``'s roles.

    ``platforms`` is every platform the hub holds; ``changed`` replaces its stored copy there (it
    may be newer). Roles ``changed`` lists but another platform now holds are not pushed (see
    ``hub.clientinfo.client_infos``).
    """
    everyone = [changed if platform.id == changed.id else platform for platform in platforms]
    if all(platform.id != changed.id for platform in everyone):
        everyone.append(changed)
    infos = [info for platform, info in client_infos(everyone) if platform.id == changed.id]
    return [
        _put(
            receiver,
            endpoint_url,
            info,
            hub_country_code=hub_country_code,
            hub_party_id=hub_party_id,
            now=now,
        )
        for receiver, endpoint_url in receivers(everyone, changed)
        for info in infos
    ]


def welcome_deliveries(
    platforms: list[Platform], newcomer: Platform, *, hub_country_code: str, hub_party_id: str, now: datetime
) -> list[Delivery]:
    """The PUTs that tell a platform that just registered the ClientInfo of every other party,
    so it need not GET the list first (digest §6.3: push is the normal mode)."""
    endpoint = newcomer.endpoint(MODULE, "RECEIVER")
    if endpoint is None or not newcomer.roles:
        return []
    return [
        _put(
            newcomer,
            endpoint.url,
            info,
            hub_country_code=hub_country_code,
            hub_party_id=hub_party_id,
            now=now,
        )
        for platform, info in client_infos(platforms)
        if platform.id != newcomer.id
    ]


def _put(
    receiver: Platform,
    endpoint_url: str,
    info: dict[str, str],
    *,
    hub_country_code: str,
    hub_party_id: str,
    now: datetime,
) -> Delivery:
    addressee = receiver.roles[0]
    country_code, party_id, role = info["country_code"], info["party_id"], info["role"]
    return Delivery(
        target_platform_id=receiver.id,
        to_country_code=addressee.country_code,
        to_party_id=addressee.party_id,
        from_country_code=hub_country_code,
        from_party_id=hub_party_id,
        method="PUT",
        url=client_info_url(endpoint_url, country_code, party_id),
        body=json.dumps(info, separators=(",", ":"), ensure_ascii=False),
        module=MODULE,
        object_key=f"{MODULE}|{country_code.upper()}|{party_id.upper()}|{role}",
        object_version=info["last_updated"],
        created_at=now,
        next_attempt_at=now,
    )


async def push_client_info(
    services: Services, changed_platform: Platform, *, welcome: bool = False
) -> list[str]:
    """Record the ClientInfo pushes for ``changed_platform`` in the outbox; the ids, to attempt.

    ``welcome``: the platform just registered, so it is also sent every other party's ClientInfo.
    """
    settings = services.settings
    platforms = await services.store.platforms.all()
    hub_cc, hub_pid, now = settings.country_code, settings.party_id, services.clock()
    deliveries = client_info_deliveries(
        platforms, changed_platform, hub_country_code=hub_cc, hub_party_id=hub_pid, now=now
    )
    if welcome:
        deliveries += welcome_deliveries(
            platforms, changed_platform, hub_country_code=hub_cc, hub_party_id=hub_pid, now=now
        )
    if deliveries:
        await services.store.outbox.add(deliveries)
    return [delivery.id for delivery in deliveries]
