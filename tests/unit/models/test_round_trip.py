"""Unknown fields, at any depth, survive parse → dump → parse unchanged (digest §1.13, §19 item 23)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ocpi_samples import OBJECTS, load

from hub.ocpi.base import OcpiModel, parse, parse_json


def _unknown_value(path: str) -> Any:
    # A different, awkward value at each place: nested structures, Unicode, floats, null.
    return {"where": path, "n": [1, 2.5, -0.001, None, True], "text": 'Zoë ⚡ "quoted"', "deep": {"x": [{}]}}


def _add_unknown_fields(data: Any, path: str = "") -> Any:
    if isinstance(data, dict):
        result = {key: _add_unknown_fields(value, f"{path}.{key}") for key, value in data.items()}
        result["x_vendor_extension"] = _unknown_value(path or "root")
        return result
    if isinstance(data, list):
        return [_add_unknown_fields(item, f"{path}[{index}]") for index, item in enumerate(data)]
    return data


def _unknown_fields(data: Any, path: str = "") -> dict[str, Any]:
    found: dict[str, Any] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "x_vendor_extension":
                found[path or "root"] = value
            else:
                found |= _unknown_fields(value, f"{path}.{key}")
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found |= _unknown_fields(item, f"{path}[{index}]")
    return found


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


@pytest.mark.parametrize(("model", "fixture"), OBJECTS, ids=lambda v: getattr(v, "__name__", v))
def test_unknown_fields_survive_a_round_trip_at_every_depth(model: type[OcpiModel], fixture: str) -> None:
    original = _add_unknown_fields(load(fixture))
    expected_unknowns = _unknown_fields(original)
    assert expected_unknowns

    first = parse_json(model, json.dumps(original).encode()).to_json()
    second = parse(model, first).to_json()

    assert _canonical(second) == _canonical(first)
    # Our fixtures are written in the canonical OCPI form, so the first dump is the input, to the byte.
    assert _canonical(first) == _canonical(original)
    assert _unknown_fields(first) == expected_unknowns


def test_unknown_field_inside_a_connector_is_kept_with_its_exact_value() -> None:
    from hub.ocpi.v2_2_1.locations import Location

    data = load("location.json")
    data["evses"][0]["connectors"][1]["x_plug_colour"] = {"rgb": [0, 128, 255], "name": "Blauw"}
    dumped = parse(Location, data).to_json()
    assert dumped["evses"][0]["connectors"][1]["x_plug_colour"] == {"rgb": [0, 128, 255], "name": "Blauw"}
