"""What hub operators do to platforms, shared by the CLI (and later the console)."""

from __future__ import annotations

from typing import Any

import structlog

from hub.ocpi.types import format_datetime
from hub.ocpi.v2_2_1.hubclientinfo import ConnectionStatus
from hub.outbox.clientinfo import push_client_info
from hub.platforms import Platform
from hub.registration import issue_invitation
from hub.services import Services
from hub.store import StaleWrite

log = structlog.get_logger(__name__)


class OperatorError(Exception):
    """An operator command cannot be carried out; the message says why."""


async def invite(services: Services, name: str) -> tuple[Platform, str]:
    platform, token_a = issue_invitation(name, services=services, now=services.clock())
    await services.store.platforms.add(platform)
    log.info("platform_invited", platform=platform.id, name=name)
    return platform, token_a


async def find(services: Services, reference: str) -> Platform:
    """A platform by its id (``p-…``) or by one of its parties (``NL*TNM`` or ``NL-TNM``)."""
    platforms = services.store.platforms
    found = await platforms.get(reference)
    if found is not None:
        return found
    separator = "*" if "*" in reference else "-" if "-" in reference else None
    if separator is not None:
        country_code, _, party_id = reference.partition(separator)
        matches = await platforms.by_party(country_code, party_id)
        held = [p for p in matches if p.registered] or matches
        if len(held) == 1:
            return held[0]
        if len(held) > 1:
            ids = ", ".join(p.id for p in held)
            raise OperatorError(f"{reference} names several platforms ({ids}); use a platform id")
    raise OperatorError(f"no platform {reference!r}; see 'parties list'")


async def _change_status(services: Services, reference: str, status: ConnectionStatus) -> Platform:
    for _ in range(5):
        platform = await find(services, reference)
        if status is not ConnectionStatus.SUSPENDED and not platform.registered:
            raise OperatorError(f"platform {platform.id} is not registered; invite it again instead")
        changed = platform.model_copy(deep=True)
        changed.set_status(status, now=services.clock())
        try:
            stored = await services.store.platforms.update(changed)
        except StaleWrite:
            continue
        log.info("platform_status_set", platform=platform.id, status=status.value)
        # Recorded in the outbox; the running hub delivers it (its sweeper looks every few seconds).
        await push_client_info(services, stored)
        return stored
    raise OperatorError("the platform keeps changing; try again")


async def suspend(services: Services, reference: str) -> Platform:
    """Refuse the platform's requests and show its parties SUSPENDED."""
    return await _change_status(services, reference, ConnectionStatus.SUSPENDED)


async def resume(services: Services, reference: str) -> Platform:
    return await _change_status(services, reference, ConnectionStatus.CONNECTED)


async def remove(services: Services, reference: str) -> Platform:
    """Forget the platform: its tokens, roles and endpoints."""
    platform = await find(services, reference)
    if platform.registered:
        # Its parties are gone for good: tell the others before forgetting them.
        leaving = platform.model_copy(deep=True)
        leaving.set_status(ConnectionStatus.SUSPENDED, now=services.clock())
        await push_client_info(services, leaving)
    await services.store.platforms.remove(platform.id)
    log.info("platform_removed", platform=platform.id)
    return platform


def describe(platform: Platform) -> dict[str, Any]:
    """What an operator sees of a platform: never a token, not even its digest."""
    return {
        "id": platform.id,
        "name": platform.name,
        "status": platform.status.value,
        "registered": platform.registered,
        "parties": [
            {
                "country_code": r.country_code,
                "party_id": r.party_id,
                "role": r.role.value,
                "name": r.business_details.get("name"),
            }
            for r in platform.roles
        ],
        "version": platform.version,
        "versions_url": platform.versions_url,
        "endpoints": [e.model_dump() for e in platform.endpoints],
        "token_encoding": platform.token_encoding,
        "created_at": format_datetime(platform.created_at),
        "status_changed_at": format_datetime(platform.status_changed_at),
    }
