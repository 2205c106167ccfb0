"""Hub Client Info (digest §6): the parties reachable through the hub and their connection state,
derived from the platforms the hub holds."""

from __future__ import annotations

from typing import Any

from hub.ocpi.types import format_datetime
from hub.ocpi.v2_2_1.hubclientinfo import ConnectionStatus
from hub.platforms import Platform


def client_infos(platforms: list[Platform]) -> list[tuple[Platform, dict[str, Any]]]:
    """One ClientInfo per party role, oldest platform first, with the platform it describes.

    A role listed by a platform that unregistered is shown SUSPENDED, unless another platform holds
    that role now: then only the current holder's entry is shown.
    """
    held = {key for platform in platforms for key in platform.role_keys()}
    infos: list[tuple[Platform, dict[str, Any]]] = []
    seen: set[str] = set()
    for platform in platforms:
        status = platform.status if platform.registered else ConnectionStatus.SUSPENDED
        for entry in platform.roles:
            key = entry.role_key
            if key in seen or (not platform.registered and key in held):
                continue
            seen.add(key)
            infos.append(
                (
                    platform,
                    {
                        "party_id": entry.party_id,
                        "country_code": entry.country_code,
                        "role": entry.role.value,
                        "status": status.value,
                        "last_updated": format_datetime(platform.status_changed_at),
                    },
                )
            )
    return infos
