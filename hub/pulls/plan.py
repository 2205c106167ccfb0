"""What the hub may pull from a platform, and whom it addresses, as pure rules.

A platform offers a module to pull when it publishes the module's Sender endpoint and holds a role
that serves it (digest §3.2, §4.6): a CPO (or NAP) for Locations and Tariffs, a CPO for Sessions
and CDRs, an eMSP (or OTHER) for Tokens.
"""

from __future__ import annotations

from hub.ocpi.v2_2_1.hubclientinfo import ConnectionStatus
from hub.ocpi.v2_2_1.versions import InterfaceRole, ModuleID
from hub.platforms import PartyRole, Platform
from hub.routing.table import PartyRef, target_roles

# The modules the hub mirrors, in the order a pull of everything takes them: Tokens and Tariffs
# before the Locations whose publish rules and connectors name them, CDRs last.
PULLABLE: tuple[str, ...] = ("tokens", "tariffs", "locations", "sessions", "cdrs")


def _serving(platform: Platform, module: str) -> list[PartyRole]:
    roles = set(target_roles(ModuleID(module), InterfaceRole.SENDER))
    return [entry for entry in platform.roles if entry.role in roles]


def not_pullable(platform: Platform, module: str) -> str | None:
    """Why the hub cannot pull ``module`` from this platform now, or None when it can."""
    if module not in PULLABLE:
        return f"{module!r} is not a module the hub pulls ({', '.join(PULLABLE)})"
    if not platform.registered:
        return f"platform {platform.id} is not registered"
    if platform.status is not ConnectionStatus.CONNECTED:
        return f"platform {platform.id} is {platform.status.value.lower()}"
    if platform.outgoing_token is None:
        return f"the hub holds no token to call platform {platform.id}"
    if platform.endpoint(module, InterfaceRole.SENDER.value) is None:
        return f"platform {platform.id} publishes no {module} SENDER endpoint"
    if not _serving(platform, module):
        return f"platform {platform.id} holds no role that sends {module}"
    return None


def sender_modules(platform: Platform) -> list[str]:
    """The modules a registered, connected platform offers to pull, in ``PULLABLE`` order."""
    return [module for module in PULLABLE if not_pullable(platform, module) is None]


def sender_party(platform: Platform, module: str) -> PartyRef:
    """The party a pull is addressed to (``OCPI-to-*``): the platform's first role that sends the
    module. A platform hosting several such parties serves them all on one endpoint."""
    entry = _serving(platform, module)[0]
    return PartyRef(entry.country_code, entry.party_id)


def owner_keys(platform: Platform, module: str) -> frozenset[str]:
    """The parties whose objects a pull of ``module`` from this platform may bring (``CC*PID``):
    those of its roles that send the module. Objects of anyone else are ignored (digest §1.9)."""
    return frozenset(entry.party_key for entry in _serving(platform, module))


def pull_headers(
    *, authorization: str, hub: PartyRef, to: PartyRef, request_id: str, correlation_id: str
) -> dict[str, str]:
    """The headers of one page request: from the hub, to the party pulled (digest §1.6, §16.2), a
    fresh request id, and the pull's correlation id on every page."""
    return {
        "Authorization": authorization,
        "X-Request-ID": request_id,
        "X-Correlation-ID": correlation_id,
        "OCPI-from-country-code": hub.country_code,
        "OCPI-from-party-id": hub.party_id,
        "OCPI-to-country-code": to.country_code,
        "OCPI-to-party-id": to.party_id,
    }
