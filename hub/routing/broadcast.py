"""Who receives a Broadcast Push (digest §5.3), as a pure function."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from hub.ocpi.v2_2_1.common import Role
from hub.ocpi.v2_2_1.hubclientinfo import ConnectionStatus
from hub.ocpi.v2_2_1.versions import InterfaceRole, ModuleID
from hub.platforms import Platform
from hub.routing.table import PartyRef, target_roles

# Receivers of a broadcast, by module: a CPO's Locations and Tariffs go to eMSPs, NSPs, NAPs and
# "OTHER"; an eMSP's Tokens go to CPOs. SCSPs receive no broadcasts ([DECIDE] in the digest).
_BROADCAST_ROLES: dict[ModuleID, frozenset[Role]] = {
    ModuleID.LOCATIONS: frozenset({Role.EMSP, Role.NSP, Role.NAP, Role.OTHER}),
    ModuleID.TARIFFS: frozenset({Role.EMSP, Role.NSP, Role.NAP, Role.OTHER}),
    ModuleID.TOKENS: frozenset(target_roles(ModuleID.TOKENS, InterfaceRole.RECEIVER)),
}


_RECEIVING = frozenset({ConnectionStatus.CONNECTED, ConnectionStatus.OFFLINE})


def recipients(
    platforms: Sequence[Platform],
    module: ModuleID,
    *,
    sender_platform_id: str,
    audience: Sequence[str] | None,
) -> Iterator[tuple[Platform, PartyRef]]:
    """Each connected or offline platform (but the sender's) that has the module's Receiver endpoint and a
    party of a receiving role, with that party (the first one the audience admits).

    One delivery per platform: a platform hosting several receiving parties has one endpoint for
    them all. ``audience``: the party keys that may see the object (a Location with
    ``publish=false``), None for everybody.
    """
    roles = _BROADCAST_ROLES[module]
    allowed = set(audience) if audience is not None else None
    for platform in platforms:
        if platform.id == sender_platform_id or not platform.registered:
            continue
        # An OFFLINE platform still gets its deliveries: the outbox holds them until it answers
        # again, and hands them all out then. Only an operator's suspension stops broadcasts.
        if platform.status not in _RECEIVING:
            continue
        if platform.endpoint(module.value, InterfaceRole.RECEIVER.value) is None:
            continue
        for entry in platform.roles:
            if entry.role in roles and (allowed is None or entry.party_key in allowed):
                yield platform, PartyRef(entry.country_code, entry.party_id)
                break
