"""OCPI 2001 messages name the full JSON path; PATCH bodies validate as partial objects."""

from __future__ import annotations

import json

import pytest
from ocpi_samples import load

from hub.errors import InvalidParameters
from hub.ocpi.base import parse, parse_json
from hub.ocpi.v2_2_1.locations import Location
from hub.ocpi.v2_2_1.patches import (
    ConnectorPatch,
    EvsePatch,
    LocationPatch,
    SessionPatch,
    TokenPatch,
    patch_model,
)


def test_a_deep_error_names_the_full_path() -> None:
    data = load("location.json")
    data["evses"][0]["connectors"][1]["max_voltage"] = "abc"
    with pytest.raises(InvalidParameters) as caught:
        parse_json(Location, json.dumps(data).encode())
    assert "evses[0].connectors[1].max_voltage" in caught.value.message
    assert caught.value.message == "evses[0].connectors[1].max_voltage: must be an integer"
    assert caught.value.ocpi_status == 2001


def test_several_errors_are_all_named() -> None:
    data = load("location.json") | {"city": None, "publish": "yes"}
    with pytest.raises(InvalidParameters) as caught:
        parse(Location, data)
    assert "publish: must be a boolean" in caught.value.message
    assert "city: must be a string" in caught.value.message


def test_patch_models_are_built_once() -> None:
    assert patch_model(Location) is LocationPatch
    assert LocationPatch.__name__ == "LocationPatch"


def test_a_location_patch_with_last_updated_and_one_field_parses() -> None:
    body = {"last_updated": "2024-02-13T08:00:00Z", "name": "Garage Oudegracht (renovated)"}
    patch = parse_json(LocationPatch, json.dumps(body))
    assert patch.to_json() == body


def test_a_patch_without_last_updated_fails_naming_it() -> None:
    with pytest.raises(InvalidParameters) as caught:
        parse(LocationPatch, {"name": "Garage"})
    assert caught.value.message == "last_updated: is required"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"city": "c" * 46}, "city: must be at most 45 characters"),
        ({"publish": "true"}, "publish: must be a boolean"),
        ({"city": None}, "city: must be a string"),
        ({"coordinates": {"latitude": "52.1", "longitude": "5.12142"}}, "coordinates.latitude: must match"),
        (
            {
                "evses": [
                    {
                        "uid": "EVSE-9",
                        "status": "AVAILABLE",
                        "connectors": [],
                        "last_updated": "2024-02-13T08:00:00Z",
                    }
                ]
            },
            "evses[0].connectors: must not be empty",
        ),
        ({"last_updated": "yesterday"}, "last_updated: must be an RFC 3339"),
    ],
)
def test_an_invalid_present_field_fails_naming_it(body: dict[str, object], expected: str) -> None:
    with pytest.raises(InvalidParameters) as caught:
        parse(LocationPatch, {"last_updated": "2024-02-13T08:00:00Z"} | body)
    assert expected in caught.value.message


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (EvsePatch, {"status": "CHARGING"}),
        (ConnectorPatch, {"tariff_ids": ["TARIFF-AC-NEW"], "x_vendor": 1}),
        (SessionPatch, {"kwh": 20.5, "status": "COMPLETED", "end_date_time": "2024-02-12T15:41:00Z"}),
        (
            SessionPatch,
            {
                "charging_periods": [
                    {
                        "start_date_time": "2024-02-12T15:20:00Z",
                        "dimensions": [{"type": "ENERGY", "volume": 2}],
                    }
                ]
            },
        ),
        (TokenPatch, {"valid": False}),
    ],
)
def test_other_patches_parse_and_write_back_only_what_was_sent(model: type, body: dict[str, object]) -> None:
    full = {"last_updated": "2024-02-13T08:00:00Z"} | body
    assert parse(model, full).to_json() == full


@pytest.mark.parametrize(
    ("model", "body", "expected"),
    [
        (EvsePatch, {"status": "GONE"}, "status: must be one of"),
        (ConnectorPatch, {"max_voltage": True}, "max_voltage: must be an integer"),
        (
            SessionPatch,
            {"charging_periods": [{"start_date_time": "2024-02-12T15:20:00Z", "dimensions": []}]},
            "charging_periods[0].dimensions: must not be empty",
        ),
        (TokenPatch, {"whitelist": "SOMETIMES"}, "whitelist: must be one of"),
        (TokenPatch, {"valid": False, "last_updated": None}, "last_updated: must be a date-time"),
    ],
)
def test_other_patches_refuse_invalid_fields(model: type, body: dict[str, object], expected: str) -> None:
    with pytest.raises(InvalidParameters) as caught:
        parse(model, {"last_updated": "2024-02-13T08:00:00Z"} | body)
    assert expected in caught.value.message
