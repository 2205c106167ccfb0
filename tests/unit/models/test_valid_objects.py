"""Every OCPI 2.2.1 functional-module object and class reads a valid instance and writes it back."""

from __future__ import annotations

import inspect
import json
from decimal import Decimal
from enum import StrEnum

import pytest
from ocpi_samples import CLASSES, MODULES, OBJECTS, dig, load

from hub.ocpi.base import OcpiModel, parse, parse_json
from hub.ocpi.v2_2_1.cdrs import CDR
from hub.ocpi.v2_2_1.common import Role
from hub.ocpi.v2_2_1.locations import Location
from hub.ocpi.v2_2_1.sessions import Session

# Enums of the shared module whose docstrings follow the same convention.
_PREEXISTING = {Role}


def _models_defined_in_modules() -> set[type[OcpiModel]]:
    found = set()
    for module in MODULES:
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, OcpiModel) and value.__module__ == module.__name__:
                found.add(value)
    return found


@pytest.mark.parametrize(("model", "fixture"), OBJECTS, ids=lambda v: getattr(v, "__name__", v))
def test_each_object_fixture_parses_and_dumps_back_unchanged(model: type[OcpiModel], fixture: str) -> None:
    raw = load(fixture)
    assert parse(model, raw).to_json() == raw
    assert parse_json(model, json.dumps(raw).encode()).to_json() == raw


@pytest.mark.parametrize(
    ("model", "fixture", "path"), CLASSES, ids=lambda v: getattr(v, "__name__", None) or str(v)
)
def test_each_class_parses_on_its_own(
    model: type[OcpiModel], fixture: str, path: tuple[str | int, ...]
) -> None:
    data = dig(load(fixture), path)
    assert parse(model, data).to_json() == data


def test_every_model_of_the_modules_has_a_valid_sample() -> None:
    covered = {model for model, _ in OBJECTS} | {model for model, _, _ in CLASSES}
    missing = {model.__name__ for model in _models_defined_in_modules() - covered}
    assert not missing


def test_every_model_names_the_spec_section_it_mirrors() -> None:
    for model in _models_defined_in_modules():
        assert (model.__doc__ or "").startswith("OCPI 2.2.1, "), model.__name__
        assert "'" in (model.__doc__ or ""), model.__name__


def test_every_enum_is_a_str_enum_with_values_equal_to_names() -> None:
    enums = [
        value
        for module in MODULES
        for _, value in inspect.getmembers(module, inspect.isclass)
        if issubclass(value, StrEnum) and value is not StrEnum
    ]
    assert len(enums) > 30
    for enum in enums:
        if enum not in _PREEXISTING:
            assert (enum.__doc__ or "").startswith("OCPI 2.2.1, "), enum.__name__
        for member in enum:
            assert member.value == member.name


def test_numbers_are_decimals_inside_and_json_numbers_outside() -> None:
    session = parse(Session, load("session.json"))
    assert session.kwh == Decimal("18.42")
    assert isinstance(session.kwh, Decimal)
    assert session.to_json()["kwh"] == 18.42


def test_absent_optional_fields_stay_absent_and_explicit_nulls_stay_null() -> None:
    data = load("credit_cdr.json") | {"meter_id": None, "tariffs": None}
    dumped = parse(CDR, data).to_json()
    assert "session_id" not in dumped
    assert "signed_data" not in dumped
    assert dumped["meter_id"] is None
    assert dumped["tariffs"] is None


@pytest.mark.parametrize("value", [None, []])
def test_star_lists_may_be_null_or_empty(value: list[object] | None) -> None:
    data = load("location.json") | {"evses": value, "facilities": value, "images": value}
    assert parse(Location, data).to_json()["evses"] == value


def test_datetimes_are_written_in_utc_with_z() -> None:
    data = load("session.json") | {
        "start_date_time": "2024-02-12T15:02:11+01:00",
        "end_date_time": "2024-02-12T15:40:00",
        "last_updated": "2024-02-12T15:40:00.1Z",
    }
    dumped = parse(Session, data).to_json()
    assert dumped["start_date_time"] == "2024-02-12T14:02:11Z"
    assert dumped["end_date_time"] == "2024-02-12T15:40:00Z"
    assert dumped["last_updated"] == "2024-02-12T15:40:00.100Z"


def test_corrected_field_lengths_are_accepted_at_their_maximum() -> None:
    location = load("location.json") | {"address": "a" * 255, "state": "s" * 45}
    assert parse(Location, location).to_json()["address"] == "a" * 255
    cdr = load("cdr.json")
    cdr["signed_data"]["signed_values"][0]["plain_data"] = "p" * 5000
    cdr["cdr_location"] |= {"address": "a" * 45, "state": "s" * 20}
    cdr["id"] = "C" * 39
    assert parse(CDR, cdr).to_json() == cdr
