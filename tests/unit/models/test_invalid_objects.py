"""Each kind of broken field is refused with OCPI 2001 and a message naming the field and the rule."""

from __future__ import annotations

from typing import Any

import pytest
from ocpi_samples import DELETE, load, with_change

from hub.errors import InvalidParameters
from hub.ocpi.base import OcpiModel, parse
from hub.ocpi.status import OcpiStatus
from hub.ocpi.v2_2_1 import chargingprofiles as cp
from hub.ocpi.v2_2_1 import commands, sessions, tariffs, tokens
from hub.ocpi.v2_2_1.cdrs import CDR
from hub.ocpi.v2_2_1.locations import Location

C0 = ("evses", 0, "connectors", 0)

# (case id, model, fixture, path of the field, new value or DELETE, expected part of the message)
CASES: list[tuple[str, type[OcpiModel], str, tuple[str | int, ...], Any, str]] = [
    # missing required
    (
        "missing-country_code",
        Location,
        "location.json",
        ("country_code",),
        DELETE,
        "country_code: is required",
    ),
    (
        "missing-last_updated",
        Location,
        "location.json",
        ("last_updated",),
        DELETE,
        "last_updated: is required",
    ),
    (
        "missing-connector-standard",
        Location,
        "location.json",
        (*C0, "standard"),
        DELETE,
        "evses[0].connectors[0].standard: is required",
    ),
    ("missing-cdr_token-uid", CDR, "cdr.json", ("cdr_token", "uid"), DELETE, "cdr_token.uid: is required"),
    ("missing-token-issuer", tokens.Token, "token.json", ("issuer",), DELETE, "issuer: is required"),
    ("missing-session-status", sessions.Session, "session.json", ("status",), DELETE, "status: is required"),
    (
        "missing-tariff-step_size",
        tariffs.Tariff,
        "tariff.json",
        ("elements", 0, "price_components", 0, "step_size"),
        DELETE,
        "elements[0].price_components[0].step_size: is required",
    ),
    (
        "missing-response_url",
        commands.StopSession,
        "command_stop_session.json",
        ("response_url",),
        DELETE,
        "response_url: is required",
    ),
    (
        "missing-rate-unit",
        cp.SetChargingProfile,
        "set_charging_profile.json",
        ("charging_profile", "charging_rate_unit"),
        DELETE,
        "charging_profile.charging_rate_unit: is required",
    ),
    # null for a required field
    ("null-city", Location, "location.json", ("city",), None, "city: must be a string"),
    # too long
    (
        "long-country_code",
        Location,
        "location.json",
        ("country_code",),
        "NLD",
        "country_code: must be at most 2",
    ),
    ("long-party_id", Location, "location.json", ("party_id",), "HBXX", "party_id: must be at most 3"),
    ("long-id", Location, "location.json", ("id",), "L" * 37, "id: must be at most 36"),
    ("long-address", Location, "location.json", ("address",), "a" * 256, "address: must be at most 255"),
    ("long-state", Location, "location.json", ("state",), "s" * 46, "state: must be at most 45"),
    ("long-city", Location, "location.json", ("city",), "c" * 46, "city: must be at most 45"),
    (
        "long-evse_id",
        Location,
        "location.json",
        ("evses", 0, "evse_id"),
        "E" * 49,
        "evses[0].evse_id: must be at most 48",
    ),
    (
        "long-cdr-address",
        CDR,
        "cdr.json",
        ("cdr_location", "address"),
        "a" * 46,
        "cdr_location.address: must be at most 45",
    ),
    (
        "long-cdr-state",
        CDR,
        "cdr.json",
        ("cdr_location", "state"),
        "s" * 21,
        "cdr_location.state: must be at most 20",
    ),
    ("long-cdr-id", CDR, "cdr.json", ("id",), "C" * 40, "id: must be at most 39"),
    (
        "long-plain_data",
        CDR,
        "cdr.json",
        ("signed_data", "signed_values", 0, "plain_data"),
        "p" * 5001,
        "signed_data.signed_values[0].plain_data: must be at most 5000",
    ),
    (
        "long-display-text",
        tokens.AuthorizationInfo,
        "authorization_info.json",
        ("info", "text"),
        "t" * 513,
        "info.text: must be at most 512",
    ),
    ("long-currency", sessions.Session, "session.json", ("currency",), "EURO", "currency: must be at most 3"),
    ("long-token-uid", tokens.Token, "token.json", ("uid",), "U" * 37, "uid: must be at most 36"),
    # characters a CiString / string may not hold
    ("non-ascii-cistring", tokens.Token, "token.json", ("uid",), "TÖKEN", "uid: contains characters"),
    (
        "control-char-string",
        Location,
        "location.json",
        ("name",),
        "Garage\nOudegracht",
        "name: contains characters",
    ),
    # bad enum value (enum values are case-sensitive)
    (
        "enum-case",
        Location,
        "location.json",
        (*C0, "standard"),
        "IEC_60309_2_SINGLE_16",
        "evses[0].connectors[0].standard: must be one of",
    ),
    (
        "enum-unknown-status",
        Location,
        "location.json",
        ("evses", 0, "status"),
        "BROKEN",
        "evses[0].status: must be one of",
    ),
    (
        "enum-session-reserved",
        sessions.Session,
        "session.json",
        ("status",),
        "RESERVED",
        "status: must be one of",
    ),
    ("enum-token-type-lowercase", tokens.Token, "token.json", ("type",), "rfid", "type: must be one of"),
    (
        "enum-capability",
        Location,
        "location.json",
        ("evses", 0, "capabilities", 1),
        "REMOTE_START",
        "evses[0].capabilities[1]",
    ),
    (
        "enum-command-result",
        commands.CommandResult,
        "command_result.json",
        ("result",),
        "OK",
        "result: must be one of",
    ),
    (
        "enum-rate-unit",
        cp.SetChargingProfile,
        "set_charging_profile.json",
        ("charging_profile", "charging_rate_unit"),
        "kW",
        "charging_profile.charging_rate_unit: must be one of",
    ),
    # bad DateTime
    (
        "datetime-space",
        Location,
        "location.json",
        ("last_updated",),
        "2024-02-12 14:02:11Z",
        "last_updated: must be an RFC 3339",
    ),
    (
        "datetime-date-only",
        sessions.Session,
        "session.json",
        ("start_date_time",),
        "2024-02-12",
        "start_date_time: must be",
    ),
    (
        "datetime-epoch-number",
        tokens.Token,
        "token.json",
        ("last_updated",),
        1707746531,
        "last_updated: must be a date-time",
    ),
    (
        "datetime-unpadded",
        CDR,
        "cdr.json",
        ("end_date_time",),
        "2024-2-12T16:10:00Z",
        "end_date_time: must be an RFC 3339",
    ),
    (
        "datetime-nested",
        Location,
        "location.json",
        ("opening_times", "exceptional_closings", 0, "period_end"),
        "tomorrow",
        "opening_times.exceptional_closings[0].period_end",
    ),
    # wrong type
    (
        "int-as-string",
        Location,
        "location.json",
        (*C0, "max_voltage"),
        "230",
        "evses[0].connectors[0].max_voltage: must be an integer",
    ),
    (
        "int-as-bool",
        Location,
        "location.json",
        (*C0, "max_amperage"),
        True,
        "max_amperage: must be an integer",
    ),
    (
        "int-as-float",
        Location,
        "location.json",
        (*C0, "max_electric_power"),
        22000.5,
        "max_electric_power: must be an integer",
    ),
    ("bool-as-string", Location, "location.json", ("publish",), "false", "publish: must be a boolean"),
    ("bool-as-int", tokens.Token, "token.json", ("valid",), 1, "valid: must be a boolean"),
    ("number-as-string", sessions.Session, "session.json", ("kwh",), "18.42", "kwh: must be a number"),
    (
        "number-as-bool",
        CDR,
        "cdr.json",
        ("total_cost", "excl_vat"),
        True,
        "total_cost.excl_vat: must be a number",
    ),
    (
        "step_size-as-bool",
        tariffs.Tariff,
        "tariff.json",
        ("elements", 0, "price_components", 0, "step_size"),
        True,
        "step_size: must be an integer",
    ),
    (
        "timeout-as-string",
        commands.CommandResponse,
        "command_response.json",
        ("timeout",),
        "30",
        "timeout: must be an integer",
    ),
    (
        "object-as-string",
        Location,
        "location.json",
        ("coordinates",),
        "52.09,5.12",
        "coordinates: must be an object",
    ),
    ("list-as-object", Location, "location.json", ("evses",), {"uid": "x"}, "evses: must be a list"),
    # empty list where at least one element is required
    (
        "empty-connectors",
        Location,
        "location.json",
        ("evses", 0, "connectors"),
        [],
        "evses[0].connectors: must not be empty",
    ),
    ("empty-elements", tariffs.Tariff, "tariff.json", ("elements",), [], "elements: must not be empty"),
    (
        "empty-price_components",
        tariffs.Tariff,
        "tariff.json",
        ("elements", 2, "price_components"),
        [],
        "elements[2].price_components: must not be empty",
    ),
    (
        "empty-charging_periods",
        CDR,
        "cdr.json",
        ("charging_periods",),
        [],
        "charging_periods: must not be empty",
    ),
    (
        "empty-dimensions",
        sessions.Session,
        "session.json",
        ("charging_periods", 0, "dimensions"),
        [],
        "charging_periods[0].dimensions: must not be empty",
    ),
    (
        "empty-signed_values",
        CDR,
        "cdr.json",
        ("signed_data", "signed_values"),
        [],
        "signed_values: must not be empty",
    ),
    # regexes and ranges
    (
        "latitude-too-few-decimals",
        Location,
        "location.json",
        ("coordinates", "latitude"),
        "52.09",
        "coordinates.latitude: must match",
    ),
    (
        "latitude-comma",
        Location,
        "location.json",
        ("coordinates", "latitude"),
        "52,090737",
        "coordinates.latitude: must match",
    ),
    (
        "longitude-number",
        Location,
        "location.json",
        ("coordinates", "longitude"),
        5.12142,
        "coordinates.longitude: must be a string",
    ),
    (
        "longitude-too-many-digits",
        CDR,
        "cdr.json",
        ("cdr_location", "coordinates", "longitude"),
        "1234.123456",
        "cdr_location.coordinates.longitude",
    ),
    (
        "related-location-latitude",
        Location,
        "location.json",
        ("related_locations", 0, "latitude"),
        "N52.09100",
        "related_locations[0].latitude: must match",
    ),
    (
        "period_begin-unpadded",
        Location,
        "location.json",
        ("opening_times", "regular_hours", 0, "period_begin"),
        "7:00",
        "opening_times.regular_hours[0].period_begin: must match",
    ),
    (
        "period_end-24h",
        Location,
        "location.json",
        ("opening_times", "regular_hours", 0, "period_end"),
        "24:00",
        "opening_times.regular_hours[0].period_end: must match",
    ),
    (
        "weekday-8",
        Location,
        "location.json",
        ("opening_times", "regular_hours", 1, "weekday"),
        8,
        "opening_times.regular_hours[1].weekday",
    ),
    (
        "start_time-bad",
        tariffs.Tariff,
        "tariff.json",
        ("elements", 1, "restrictions", "start_time"),
        "7am",
        "elements[1].restrictions.start_time: must match",
    ),
    (
        "start_date-month-13",
        tariffs.Tariff,
        "tariff.json",
        ("elements", 1, "restrictions", "start_date"),
        "2024-13-01",
        "elements[1].restrictions.start_date: must match",
    ),
    (
        "percentage-over-100",
        Location,
        "location.json",
        ("energy_mix", "energy_sources", 0, "percentage"),
        100.5,
        "energy_mix.energy_sources[0].percentage",
    ),
    (
        "step_size-negative",
        tariffs.Tariff,
        "tariff.json",
        ("elements", 3, "price_components", 0, "step_size"),
        -1,
        "elements[3].price_components[0].step_size",
    ),
    (
        "limit-two-decimals",
        cp.SetChargingProfile,
        "set_charging_profile.json",
        ("charging_profile", "charging_profile_period", 1, "limit"),
        16.55,
        "charging_profile.charging_profile_period[1].limit",
    ),
    (
        "url-too-long",
        commands.StopSession,
        "command_stop_session.json",
        ("response_url",),
        "https://emsp.example/" + "x" * 240,
        "response_url: must be at most 255",
    ),
]


@pytest.mark.parametrize(
    ("model", "fixture", "path", "value", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_broken_field_is_refused_naming_the_field(
    model: type[OcpiModel], fixture: str, path: tuple[str | int, ...], value: Any, expected: str
) -> None:
    data = with_change(load(fixture), path, value)
    with pytest.raises(InvalidParameters) as caught:
        parse(model, data)
    assert expected in caught.value.message
    assert caught.value.ocpi_status == OcpiStatus.INVALID_PARAMETERS == 2001
