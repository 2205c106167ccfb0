"""Rules the spec states across fields (SHALL), each refused with a message naming the field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from ocpi_samples import DELETE, load, with_change

from hub.errors import InvalidParameters
from hub.ocpi.base import OcpiModel, parse, parse_json
from hub.ocpi.v2_2_1.cdrs import CDR
from hub.ocpi.v2_2_1.commands import COMMAND_REQUESTS, CommandType, StartSession
from hub.ocpi.v2_2_1.locations import Hours, Location, PublishTokenType, RegularHours
from hub.ocpi.v2_2_1.sessions import Session
from hub.ocpi.v2_2_1.tariffs import Tariff


def _refusal(model: type[OcpiModel], data: Any) -> str:
    with pytest.raises(InvalidParameters) as caught:
        parse(model, data)
    return caught.value.message


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (
            {"type": "RFID", "issuer": "Emsy"},
            "uid: at least one of uid, visual_number or group_id is required",
        ),
        ({}, "uid: at least one of uid, visual_number or group_id is required"),
        ({"uid": "04A1B2"}, "type: is required when uid is set"),
        ({"visual_number": "DE-EMS-1"}, "issuer: is required when visual_number is set"),
    ],
)
def test_publish_token_type_needs_enough_to_identify_a_token(token: dict[str, str], expected: str) -> None:
    assert _refusal(PublishTokenType, token) == expected


def test_publish_token_type_rule_names_the_full_path_inside_a_location() -> None:
    data = with_change(load("location.json"), ("publish_allowed_to", 1, "issuer"), DELETE)
    assert _refusal(Location, data) == "publish_allowed_to[1].issuer: is required when visual_number is set"


def test_publish_allowed_to_only_for_unpublished_locations() -> None:
    data = load("location.json") | {"publish": True}
    assert _refusal(Location, data) == "publish_allowed_to: may only be set when publish is false"
    assert parse(Location, data | {"publish_allowed_to": []}).publish is True


def test_regular_hours_must_end_after_they_begin() -> None:
    message = _refusal(RegularHours, {"weekday": 2, "period_begin": "18:00", "period_end": "08:00"})
    assert message == "period_end: must be later than period_begin (18:00)"
    assert _refusal(RegularHours, {"weekday": 2, "period_begin": "08:00", "period_end": "08:00"})


def test_hours_need_regular_hours_exactly_when_not_twentyfourseven() -> None:
    assert parse(Hours, {"twentyfourseven": True}).twentyfourseven is True
    assert _refusal(Hours, {"twentyfourseven": False}) == (
        "regular_hours: needs at least one entry when twentyfourseven is false"
    )
    always_open = {
        "twentyfourseven": True,
        "regular_hours": [{"weekday": 1, "period_begin": "08:00", "period_end": "20:00"}],
    }
    assert _refusal(Hours, always_open) == "regular_hours: must be empty when twentyfourseven is true"


def test_start_session_with_a_connector_needs_the_evse() -> None:
    data = with_change(load("command_start_session.json"), ("evse_uid",), DELETE)
    assert _refusal(StartSession, data) == "evse_uid: is required when connector_id is set"
    without_either = with_change(data, ("connector_id",), DELETE)
    assert parse(StartSession, without_either).evse_uid is None


def test_every_command_type_has_its_request_model() -> None:
    assert set(COMMAND_REQUESTS) == set(CommandType)
    for command, model in COMMAND_REQUESTS.items():
        assert parse(model, load(f"command_{command.value.lower()}.json"))


def test_credit_cdr_needs_the_credited_id() -> None:
    data = with_change(load("credit_cdr.json"), ("credit_reference_id",), DELETE)
    assert _refusal(CDR, data) == "credit_reference_id: is required when credit is true"


@pytest.mark.parametrize(
    "dimension", ["CURRENT", "ENERGY_EXPORT", "ENERGY_IMPORT", "POWER", "STATE_OF_CHARGE"]
)
def test_session_only_dimensions_are_refused_in_cdrs(dimension: str) -> None:
    data = with_change(load("cdr.json"), ("charging_periods", 1, "dimensions", 0, "type"), dimension)
    assert _refusal(CDR, data) == (
        f"charging_periods[1].dimensions[0].type: {dimension} may only be used in Sessions, not in CDRs"
    )


def test_session_only_dimensions_are_fine_in_sessions() -> None:
    session = parse(Session, load("session.json"))
    assert session.charging_periods is not None
    assert {d.type.value for p in session.charging_periods for d in p.dimensions} >= {
        "POWER",
        "STATE_OF_CHARGE",
    }


def test_reservation_elements_only_price_flat_and_time() -> None:
    data = with_change(load("tariff.json"), ("elements", 0, "price_components", 1, "type"), "ENERGY")
    assert _refusal(Tariff, data) == (
        "elements[0].price_components[1].type: "
        "must be FLAT or TIME in an element with a reservation restriction"
    )


def test_not_applicable_ids_are_read_for_reservations() -> None:
    cdr = parse(CDR, load("reservation_cdr.json"))
    assert (cdr.cdr_location.evse_uid, cdr.cdr_location.evse_id, cdr.cdr_location.connector_id) == (
        "#NA",
    ) * 3
    session = load("session.json") | {"status": "RESERVATION", "evse_uid": "#NA", "connector_id": "#NA"}
    assert parse(Session, session).to_json()["evse_uid"] == "#NA"


@pytest.mark.parametrize("sentinel", ["1970-1-1T00:00:00Z", "1970-01-01T00:00:00Z", "1970-1-1T00:00:00"])
def test_cdr_times_accept_the_unknown_time_sentinel(sentinel: str) -> None:
    data = load("cdr.json") | {"start_date_time": sentinel, "end_date_time": sentinel}
    cdr = parse_json(CDR, json.dumps(data))
    assert cdr.start_date_time == datetime(1970, 1, 1, tzinfo=UTC)
    assert cdr.to_json()["end_date_time"] == "1970-01-01T00:00:00Z"


def test_the_sentinel_is_only_tolerated_where_the_spec_uses_it() -> None:
    data = load("cdr.json") | {"last_updated": "1970-1-1T00:00:00Z"}
    assert _refusal(CDR, data).startswith("last_updated: must be an RFC 3339")
