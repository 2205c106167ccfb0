"""Which scenario a request is (digest §1.6, §5, appendix A): a table of the spec's cases, and the
rules that must hold over every combination of method, module, interface, path and TO."""

from __future__ import annotations

import itertools

import pytest

from hub.errors import InvalidParameters
from hub.ocpi.v2_2_1.versions import FUNCTIONAL_MODULES, InterfaceRole, ModuleID
from hub.routing.table import PartyRef, Scenario, decide, header_party

HUB = PartyRef("NL", "HUB")
OTHER = PartyRef("DE", "MSP")
S, R = InterfaceRole.SENDER, InterfaceRole.RECEIVER
M = ModuleID
OBJECT = ("NL", "CPO", "LOC1")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@pytest.mark.parametrize(
    ("method", "module", "interface", "tail", "to", "expected"),
    [
        # Direct requests: any method, any module, TO names the receiver.
        ("PUT", M.LOCATIONS, R, OBJECT, OTHER, Scenario.DIRECT),
        ("GET", M.LOCATIONS, S, (), OTHER, Scenario.DIRECT),
        ("POST", M.COMMANDS, R, ("START_SESSION",), OTHER, Scenario.DIRECT),
        ("POST", M.TOKENS, S, ("TOKEN1", "authorize"), OTHER, Scenario.DIRECT),
        ("DELETE", M.CHARGING_PROFILES, R, ("S1",), OTHER, Scenario.DIRECT),
        # Broadcast push: TO = hub, a push of data meant for everybody.
        ("PUT", M.LOCATIONS, R, OBJECT, HUB, Scenario.BROADCAST),
        ("PATCH", M.LOCATIONS, R, (*OBJECT, "EVSE1"), HUB, Scenario.BROADCAST),
        ("PUT", M.TARIFFS, R, OBJECT, HUB, Scenario.BROADCAST),
        ("DELETE", M.TARIFFS, R, OBJECT, HUB, Scenario.BROADCAST),
        ("PUT", M.TOKENS, R, ("DE", "MSP", "T1"), HUB, Scenario.BROADCAST),
        # Sessions and CDRs are never broadcast: the hub finds their receiver.
        ("PUT", M.SESSIONS, R, OBJECT, HUB, Scenario.OPEN),
        ("POST", M.CDRS, R, (), HUB, Scenario.OPEN),
        # GET all via hub and the hub's own copies.
        ("GET", M.LOCATIONS, S, (), HUB, Scenario.GET_ALL),
        ("GET", M.CDRS, S, (), HUB, Scenario.GET_ALL),
        ("GET", M.LOCATIONS, R, OBJECT, HUB, Scenario.HUB_COPY),
        ("GET", M.TARIFFS, S, ("T1",), HUB, Scenario.HUB_COPY),
        # Open routing: no TO.
        ("POST", M.COMMANDS, R, ("STOP_SESSION",), None, Scenario.OPEN),
        ("POST", M.TOKENS, S, ("TOKEN1", "authorize"), None, Scenario.OPEN),
        ("GET", M.LOCATIONS, S, ("LOC1",), None, Scenario.OPEN),
        ("PUT", M.LOCATIONS, R, OBJECT, None, Scenario.OPEN),
    ],
)
def test_the_scenarios_of_the_spec(
    method: str,
    module: ModuleID,
    interface: InterfaceRole,
    tail: tuple[str, ...],
    to: PartyRef | None,
    expected: Scenario,
) -> None:
    assert decide(method, module, interface, tail, to, HUB) is expected


@pytest.mark.parametrize(
    ("method", "module", "interface", "tail", "to", "words"),
    [
        ("GET", M.LOCATIONS, S, (), None, "a list GET names the party"),
        ("GET", M.COMMANDS, R, ("X",), HUB, "the hub holds no commands"),
        ("POST", M.LOCATIONS, R, OBJECT, HUB, "POST of locations cannot be broadcast"),
        ("DELETE", M.TOKENS, R, OBJECT, HUB, "DELETE of tokens cannot be broadcast"),
    ],
)
def test_requests_that_cannot_be_routed_are_2001_saying_why(
    method: str,
    module: ModuleID,
    interface: InterfaceRole,
    tail: tuple[str, ...],
    to: PartyRef | None,
    words: str,
) -> None:
    with pytest.raises(InvalidParameters, match=words):
        decide(method, module, interface, tail, to, HUB)


COMBINATIONS = list(
    itertools.product(METHODS, FUNCTIONAL_MODULES, (S, R), ((), ("X",), OBJECT), (None, HUB, OTHER))
)


@pytest.mark.parametrize(("method", "module", "interface", "tail", "to"), COMBINATIONS)
def test_every_combination_gets_a_scenario_or_a_2001_and_obeys_the_spec(
    method: str, module: ModuleID, interface: InterfaceRole, tail: tuple[str, ...], to: PartyRef | None
) -> None:
    try:
        scenario = decide(method, module, interface, tail, to, HUB)
    except InvalidParameters:
        scenario = None
    if to == OTHER:
        assert scenario is Scenario.DIRECT  # TO names a party: always forwarded
    if scenario is Scenario.BROADCAST:
        assert method != "GET"  # GET SHALL NOT be broadcast (§5.3)
        assert module in (M.LOCATIONS, M.TARIFFS, M.TOKENS)  # never Sessions or CDRs
        assert interface is R and to == HUB
    if scenario is Scenario.GET_ALL:
        assert (method, interface, tail, to) == ("GET", S, (), HUB)
    if to is None and scenario is None:
        assert method == "GET" and interface is S and not tail  # only a list GET needs a TO
    if to is None and scenario is not None:
        assert scenario is Scenario.OPEN


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"OCPI-to-country-code": "de", "OCPI-to-party-id": "msp"}, PartyRef("de", "msp")),
    ],
)
def test_routing_headers_name_a_party_or_none(headers: dict[str, str], expected: PartyRef | None) -> None:
    assert header_party(headers, "OCPI-to-country-code", "OCPI-to-party-id") == expected


@pytest.mark.parametrize(
    "headers",
    [
        {"OCPI-to-country-code": "DE"},
        {"OCPI-to-party-id": "MSP"},
        {"OCPI-to-country-code": "DEU", "OCPI-to-party-id": "MSP"},
        {"OCPI-to-country-code": "DE", "OCPI-to-party-id": "M$P"},
    ],
)
def test_half_or_malformed_routing_headers_are_2001(headers: dict[str, str]) -> None:
    with pytest.raises(InvalidParameters, match="OCPI-to-"):
        header_party(headers, "OCPI-to-country-code", "OCPI-to-party-id")


def test_parties_compare_without_regard_to_case() -> None:
    assert PartyRef("de", "msp").key == PartyRef("DE", "MSP").key == "DE*MSP"
