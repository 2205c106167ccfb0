"""Which scenario a request to one of the hub's functional module interfaces is (digest §1.6, §5).

Pure: from the method, the module, the hub interface that was called (SENDER or RECEIVER), the
path after the module URL and the ``OCPI-to-*`` headers, decide

* ``DIRECT``      TO names another party: forward to it;
* ``BROADCAST``   TO is the hub and the request pushes data meant for everybody: store, answer, fan out;
* ``GET_ALL``     TO is the hub and the request lists a Sender interface: answer from the mirror;
* ``HUB_COPY``    TO is the hub and the request reads one object: answer from the mirror;
* ``OPEN``        no TO: the hub picks the receiver from the content;

or raise ``InvalidParameters`` (2001) saying what is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from hub.errors import InvalidParameters
from hub.ocpi.v2_2_1.common import Role
from hub.ocpi.v2_2_1.versions import InterfaceRole, ModuleID


class Scenario(StrEnum):
    DIRECT = "DIRECT"
    BROADCAST = "BROADCAST"
    GET_ALL = "GET_ALL"
    HUB_COPY = "HUB_COPY"
    OPEN = "OPEN"


@dataclass(frozen=True)
class PartyRef:
    """A party as routing headers name it; compared without regard to case, written as given."""

    country_code: str
    party_id: str

    @property
    def key(self) -> str:
        return f"{self.country_code.upper()}*{self.party_id.upper()}"

    def __str__(self) -> str:
        return self.key


TO_COUNTRY = "OCPI-to-country-code"
TO_PARTY = "OCPI-to-party-id"
FROM_COUNTRY = "OCPI-from-country-code"
FROM_PARTY = "OCPI-from-party-id"

# Modules whose Receiver interface takes Client Owned Object URLs /{country_code}/{party_id}/{id}...
CLIENT_OWNED = frozenset({ModuleID.LOCATIONS, ModuleID.SESSIONS, ModuleID.TARIFFS, ModuleID.TOKENS})
# Data meant for everybody (digest §5.3); Sessions and CDRs are party-specific and never broadcast.
BROADCASTABLE = frozenset({ModuleID.LOCATIONS, ModuleID.TARIFFS, ModuleID.TOKENS})
# Modules the hub mirrors, hence can list and show from its own copy.
MIRRORED = frozenset(
    {ModuleID.LOCATIONS, ModuleID.TARIFFS, ModuleID.TOKENS, ModuleID.SESSIONS, ModuleID.CDRS}
)
PUSH_METHODS = frozenset({"PUT", "PATCH", "POST"})

_EMSP_LIKE = (Role.EMSP, Role.NSP, Role.NAP, Role.OTHER, Role.SCSP)
# The role the receiving party plays, by module and by the interface the request is addressed to
# (digest §4.6 and the "typical implementations" table of §3.2).
_TARGET_ROLES: dict[tuple[ModuleID, InterfaceRole], tuple[Role, ...]] = {
    (ModuleID.LOCATIONS, InterfaceRole.SENDER): (Role.CPO, Role.NAP),
    (ModuleID.LOCATIONS, InterfaceRole.RECEIVER): _EMSP_LIKE,
    (ModuleID.TARIFFS, InterfaceRole.SENDER): (Role.CPO, Role.NAP),
    (ModuleID.TARIFFS, InterfaceRole.RECEIVER): _EMSP_LIKE,
    (ModuleID.SESSIONS, InterfaceRole.SENDER): (Role.CPO,),
    (ModuleID.SESSIONS, InterfaceRole.RECEIVER): _EMSP_LIKE,
    (ModuleID.CDRS, InterfaceRole.SENDER): (Role.CPO,),
    (ModuleID.CDRS, InterfaceRole.RECEIVER): _EMSP_LIKE,
    (ModuleID.TOKENS, InterfaceRole.SENDER): (Role.EMSP, Role.OTHER),
    (ModuleID.TOKENS, InterfaceRole.RECEIVER): (Role.CPO,),
    (ModuleID.COMMANDS, InterfaceRole.SENDER): (Role.EMSP, Role.OTHER),
    (ModuleID.COMMANDS, InterfaceRole.RECEIVER): (Role.CPO,),
    (ModuleID.CHARGING_PROFILES, InterfaceRole.SENDER): (Role.SCSP, Role.EMSP, Role.OTHER),
    (ModuleID.CHARGING_PROFILES, InterfaceRole.RECEIVER): (Role.CPO,),
}


def target_roles(module: ModuleID, interface: InterfaceRole) -> tuple[Role, ...]:
    """Roles a party may play to receive a request on this module interface."""
    return _TARGET_ROLES[(module, interface)]


def header_party(headers: Mapping[str, str], country_header: str, party_header: str) -> PartyRef | None:
    """The pair one set of routing headers names; None when both are absent, 2001 when half is."""
    country = headers.get(country_header, "").strip()
    party = headers.get(party_header, "").strip()
    if not country and not party:
        return None
    if not country or not party:
        missing = country_header if not country else party_header
        raise InvalidParameters(f"{missing}: header is missing (its pair is present)")
    if (
        len(country) != 2
        or len(party) != 3
        or not (country + party).isascii()
        or not (country + party).isalnum()
    ):
        raise InvalidParameters(
            f"{country_header}/{party_header}: {country!r}/{party!r} is not a country code and party id"
        )
    return PartyRef(country, party)


def is_list_request(method: str, module: ModuleID, interface: InterfaceRole, tail: Sequence[str]) -> bool:
    """GET of a whole (paginated) list on a Sender interface."""
    return method == "GET" and interface is InterfaceRole.SENDER and not tail and module in MIRRORED


def decide(
    method: str,
    module: ModuleID,
    interface: InterfaceRole,
    tail: Sequence[str],
    to: PartyRef | None,
    hub: PartyRef,
) -> Scenario:
    """The scenario of one request (see the module docstring)."""
    if to is None:
        if is_list_request(method, module, interface, tail):
            raise InvalidParameters(
                f"{TO_COUNTRY}/{TO_PARTY}: headers are missing; a list GET names the party to read from "
                "(or the hub, to read everything the hub holds)"
            )
        return Scenario.OPEN
    if to.key != hub.key:
        return Scenario.DIRECT
    # TO is the hub itself.
    if method == "GET":
        if is_list_request(method, module, interface, tail):
            return Scenario.GET_ALL
        if module in MIRRORED and tail:
            return Scenario.HUB_COPY
        raise InvalidParameters(
            f"{TO_COUNTRY}/{TO_PARTY}: the hub holds no {module.value} {interface.value.lower()} data to GET "
            "here; name the party to read from"
        )
    if interface is InterfaceRole.RECEIVER and module in BROADCASTABLE:
        if method in ("PUT", "PATCH") or (method == "DELETE" and module is ModuleID.TARIFFS):
            return Scenario.BROADCAST
        raise InvalidParameters(f"{method} of {module.value} cannot be broadcast; name the receiving party")
    # Party-specific data or requests addressed to the hub: the hub finds the receiver itself.
    return Scenario.OPEN
