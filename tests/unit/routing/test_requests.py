"""Who a request is from, whose object its URL names, and which object its body must be."""

from __future__ import annotations

import pytest

from hub.errors import ForeignParty, InvalidParameters
from hub.ocpi.v2_2_1.cdrs import CDR
from hub.ocpi.v2_2_1.chargingprofiles import ActiveChargingProfile, SetChargingProfile
from hub.ocpi.v2_2_1.commands import StartSession, StopSession
from hub.ocpi.v2_2_1.locations import EVSE, Connector, Location
from hub.ocpi.v2_2_1.patches import ConnectorPatch, LocationPatch, SessionPatch
from hub.ocpi.v2_2_1.sessions import ChargingPreferences, Session
from hub.ocpi.v2_2_1.tokens import LocationReferences, Token
from hub.ocpi.v2_2_1.versions import InterfaceRole, ModuleID
from hub.routing.requests import ObjectUrl, body_model, check_owner, object_url, sender
from hub.routing.table import PartyRef

S, R = InterfaceRole.SENDER, InterfaceRole.RECEIVER
M = ModuleID
CPO = PartyRef("NL", "CPO")
WHITE_LABEL = PartyRef("BE", "WLC")


def test_from_must_be_one_of_the_calling_platforms_parties() -> None:
    headers = {"OCPI-from-country-code": "be", "OCPI-from-party-id": "wlc"}
    assert sender(headers, [CPO, WHITE_LABEL]).key == "BE*WLC"
    with pytest.raises(InvalidParameters, match="FR\\*EMP is not a party of the calling platform"):
        sender({"OCPI-from-country-code": "FR", "OCPI-from-party-id": "EMP"}, [CPO, WHITE_LABEL])


def test_a_single_party_platform_may_leave_from_out_but_a_multi_party_one_may_not() -> None:
    assert sender({}, [CPO]) == CPO
    with pytest.raises(InvalidParameters, match="serves several parties"):
        sender({}, [CPO, WHITE_LABEL])


@pytest.mark.parametrize(
    ("module", "interface", "tail", "expected"),
    [
        (M.LOCATIONS, R, ("NL", "CPO", "L1"), ObjectUrl(CPO, ("L1",))),
        (M.LOCATIONS, R, ("NL", "CPO", "L1", "E1", "C1"), ObjectUrl(CPO, ("L1", "E1", "C1"))),
        (M.TOKENS, R, ("NL", "CPO", "T1"), ObjectUrl(CPO, ("T1",))),
        (M.LOCATIONS, S, ("L1",), None),  # Sender interfaces are not client owned
        (M.CDRS, R, (), None),  # CDRs are POSTed, not client owned
        (M.COMMANDS, R, ("START_SESSION",), None),
    ],
)
def test_client_owned_object_urls_name_their_owner(
    module: ModuleID, interface: InterfaceRole, tail: tuple[str, ...], expected: ObjectUrl | None
) -> None:
    assert object_url(module, interface, tail) == expected


@pytest.mark.parametrize(
    ("module", "tail"),
    [
        (M.LOCATIONS, ("NL", "CPO")),
        (M.LOCATIONS, ("NL", "CPO", "L1", "E1", "C1", "X")),
        (M.SESSIONS, ("NL", "CPO", "S1", "extra")),
        (M.TARIFFS, ("NLD", "CPO", "T1")),
        (M.TOKENS, ("NL", "CPO", "x" * 37)),
    ],
)
def test_malformed_client_owned_urls_are_2001(module: ModuleID, tail: tuple[str, ...]) -> None:
    with pytest.raises(InvalidParameters, match=r"^URL"):
        object_url(module, R, tail)


def test_only_the_owner_may_use_a_client_owned_url() -> None:
    check_owner(ObjectUrl(PartyRef("nl", "cpo"), ("L1",)), [CPO])
    check_owner(None, [CPO])
    with pytest.raises(ForeignParty):
        check_owner(ObjectUrl(PartyRef("DE", "MSP"), ("L1",)), [CPO])


@pytest.mark.parametrize(
    ("module", "interface", "method", "tail", "model"),
    [
        (M.LOCATIONS, R, "PUT", ("NL", "CPO", "L1"), Location),
        (M.LOCATIONS, R, "PUT", ("NL", "CPO", "L1", "E1"), EVSE),
        (M.LOCATIONS, R, "PUT", ("NL", "CPO", "L1", "E1", "C1"), Connector),
        (M.LOCATIONS, R, "PATCH", ("NL", "CPO", "L1"), LocationPatch),
        (M.LOCATIONS, R, "PATCH", ("NL", "CPO", "L1", "E1", "C1"), ConnectorPatch),
        (M.LOCATIONS, R, "GET", ("NL", "CPO", "L1"), None),
        (M.SESSIONS, R, "PUT", ("NL", "CPO", "S1"), Session),
        (M.SESSIONS, R, "PATCH", ("NL", "CPO", "S1"), SessionPatch),
        (M.SESSIONS, S, "PUT", ("S1", "charging_preferences"), ChargingPreferences),
        (M.CDRS, R, "POST", (), CDR),
        (M.TOKENS, R, "PUT", ("DE", "MSP", "T1"), Token),
        (M.TOKENS, S, "POST", ("T1", "authorize"), LocationReferences),
        (M.COMMANDS, R, "POST", ("START_SESSION",), StartSession),
        (M.COMMANDS, R, "POST", ("STOP_SESSION",), StopSession),
        (M.CHARGING_PROFILES, R, "PUT", ("S1",), SetChargingProfile),
        (M.CHARGING_PROFILES, S, "PUT", ("S1",), ActiveChargingProfile),
        (M.TARIFFS, S, "GET", (), None),
    ],
)
def test_each_request_body_is_checked_against_its_object(
    module: ModuleID, interface: InterfaceRole, method: str, tail: tuple[str, ...], model: type | None
) -> None:
    assert body_model(module, interface, method, tail) is model


def test_an_unknown_command_is_2001_listing_the_known_ones() -> None:
    with pytest.raises(InvalidParameters, match=r"'REBOOT' is not a command .*START_SESSION"):
        body_model(M.COMMANDS, R, "POST", ("REBOOT",))
