"""The shape of a request to a functional module interface of the hub, as pure rules:
who sent it, whose object its URL names, and which OCPI object its body must be (digest §1.9, §8 to §15).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hub.errors import ForeignParty, InvalidParameters
from hub.ocpi.base import OcpiModel
from hub.ocpi.v2_2_1.cdrs import CDR
from hub.ocpi.v2_2_1.chargingprofiles import ActiveChargingProfile, SetChargingProfile
from hub.ocpi.v2_2_1.commands import COMMAND_REQUESTS, CommandType
from hub.ocpi.v2_2_1.locations import EVSE, Connector, Location
from hub.ocpi.v2_2_1.patches import ConnectorPatch, EvsePatch, LocationPatch, SessionPatch, TokenPatch
from hub.ocpi.v2_2_1.sessions import ChargingPreferences, Session
from hub.ocpi.v2_2_1.tariffs import Tariff
from hub.ocpi.v2_2_1.tokens import LocationReferences, Token
from hub.ocpi.v2_2_1.versions import InterfaceRole, ModuleID
from hub.routing.table import CLIENT_OWNED, FROM_COUNTRY, FROM_PARTY, PartyRef, header_party


def sender(headers: Mapping[str, str], own_parties: Sequence[PartyRef]) -> PartyRef:
    """The party a request is from: its ``OCPI-from-*`` pair, which must be one of the calling
    platform's parties. A platform that serves one party may leave the headers out (2.1.1 habits)."""
    named = header_party(headers, FROM_COUNTRY, FROM_PARTY)
    keys = {party.key: party for party in own_parties}
    if named is None:
        if len(keys) == 1:
            return next(iter(keys.values()))
        raise InvalidParameters(
            f"{FROM_COUNTRY}/{FROM_PARTY}: headers are missing; this platform serves several parties "
            f"({', '.join(sorted(keys))}) and must say which one is sending"
        )
    if named.key not in keys:
        raise InvalidParameters(
            f"{FROM_COUNTRY}/{FROM_PARTY}: {named.key} is not a party of the calling platform"
        )
    return named


@dataclass(frozen=True)
class ObjectUrl:
    """A Client Owned Object URL: ``/{country_code}/{party_id}/{id}[/{evse_uid}[/{connector_id}]]``."""

    owner: PartyRef
    ids: tuple[str, ...]


_MAX_IDS = {ModuleID.LOCATIONS: 3, ModuleID.SESSIONS: 1, ModuleID.TARIFFS: 1, ModuleID.TOKENS: 1}


def object_url(module: ModuleID, interface: InterfaceRole, tail: Sequence[str]) -> ObjectUrl | None:
    """The owner and ids in a Client Owned Object URL, or None when the URL is not one."""
    if interface is not InterfaceRole.RECEIVER or module not in CLIENT_OWNED:
        return None
    if len(tail) < 3 or len(tail) > 2 + _MAX_IDS[module]:
        raise InvalidParameters(
            f"URL: {module.value} receiver URLs are /{{country_code}}/{{party_id}}/{{id}}"
            + ("[/{evse_uid}[/{connector_id}]]" if module is ModuleID.LOCATIONS else "")
        )
    country_code, party_id, *ids = tail
    if len(country_code) != 2 or len(party_id) != 3:
        raise InvalidParameters(f"URL: {country_code!r}/{party_id!r} is not a country code and party id")
    for identifier in ids:
        if not identifier or len(identifier) > 36:
            raise InvalidParameters(f"URL: {identifier!r} is not an OCPI id (1 to 36 characters)")
    return ObjectUrl(PartyRef(country_code, party_id), tuple(ids))


def check_owner(url: ObjectUrl | None, own_parties: Sequence[PartyRef]) -> None:
    """A Client Owned Object URL may only be used by its owner (digest §1.9)."""
    if url is not None and url.owner.key not in {party.key for party in own_parties}:
        raise ForeignParty(f"URL: {url.owner.key} is not a party of the calling platform")


def body_model(
    module: ModuleID, interface: InterfaceRole, method: str, tail: Sequence[str]
) -> type[OcpiModel] | None:
    """The OCPI object the body of this request must be; None when it carries none the hub checks."""
    receiver = interface is InterfaceRole.RECEIVER
    if module is ModuleID.LOCATIONS and receiver and method in ("PUT", "PATCH"):
        depth = len(tail) - 2
        full: dict[int, type[OcpiModel]] = {1: Location, 2: EVSE, 3: Connector}
        partial: dict[int, type[OcpiModel]] = {1: LocationPatch, 2: EvsePatch, 3: ConnectorPatch}
        return (full if method == "PUT" else partial).get(depth)
    if module is ModuleID.SESSIONS:
        if receiver and method == "PUT":
            return Session
        if receiver and method == "PATCH":
            return SessionPatch
        if not receiver and method == "PUT" and len(tail) == 2 and tail[1] == "charging_preferences":
            return ChargingPreferences
    if module is ModuleID.CDRS and receiver and method == "POST":
        return CDR
    if module is ModuleID.TARIFFS and receiver and method == "PUT":
        return Tariff
    if module is ModuleID.TOKENS:
        if receiver and method == "PUT":
            return Token
        if receiver and method == "PATCH":
            return TokenPatch
        if not receiver and method == "POST" and is_authorization(module, interface, method, tail):
            return LocationReferences
    if module is ModuleID.COMMANDS and receiver and method == "POST":
        return COMMAND_REQUESTS[command_type(tail)]
    if module is ModuleID.CHARGING_PROFILES and method == "PUT":
        return SetChargingProfile if receiver else ActiveChargingProfile
    return None


def command_type(tail: Sequence[str]) -> CommandType:
    if len(tail) != 1:
        raise InvalidParameters("URL: commands are POSTed to /{command}")
    try:
        return CommandType(tail[0])
    except ValueError:
        known = ", ".join(c.value for c in CommandType)
        raise InvalidParameters(f"URL: {tail[0]!r} is not a command ({known})") from None


def is_authorization(module: ModuleID, interface: InterfaceRole, method: str, tail: Sequence[str]) -> bool:
    """Real-time authorization: ``POST {tokens sender}/{token_uid}/authorize[?type=]``."""
    return (
        module is ModuleID.TOKENS
        and interface is InterfaceRole.SENDER
        and method == "POST"
        and len(tail) == 2
        and tail[1] == "authorize"
    )
