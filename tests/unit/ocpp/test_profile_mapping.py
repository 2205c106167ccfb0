"""OCPI charging profiles as OCPP calls and the station's answers as OCPI results (guide §9)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import ocpp.messages
import pytest
from ocpp.charge_point import remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.messages import Call, CallResult, validate_payload
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201

from hub.ocpi.v2_2_1.chargingprofiles import ChargingProfile, ChargingRateUnit
from hub.ocpi.v2_2_1.chargingprofiles import ChargingProfileResultType as P
from hub.ocpp import profile_mapping
from hub.ocpp.records import OCPP16, OCPP201
from hub.ocpp.server import load_schemas

NOW = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)


async def on_the_wire(request: Any, version: str) -> dict[str, Any]:
    """The payload as the library sends it, after the schema check it makes before sending."""
    payload = remove_nones(snake_to_camel_case(serialize_as_dict(request)))
    message = Call(unique_id="1", action=type(request).__name__, payload=payload)
    await validate_payload(message, version)
    return dict(json.loads(message.to_json())[3])


@pytest.mark.parametrize(
    ("limit", "truncated"),
    [("16.05", "16.0"), ("16.09", "16.0"), ("16.1", "16.1"), ("7", "7.0"), ("11000.99", "11000.9")],
)
def test_limits_are_truncated_down_to_one_decimal(limit: str, truncated: str) -> None:
    assert profile_mapping.one_decimal(Decimal(limit)) == Decimal(truncated)


def profile(**extra: Any) -> ChargingProfile:
    document = {
        "charging_rate_unit": "A",
        "charging_profile_period": [{"start_period": 0, "limit": 16.3}, {"start_period": 900, "limit": 8}],
    } | extra
    return ChargingProfile.model_validate(document)


async def test_a_16_profile_is_a_tx_profile_of_the_running_transaction() -> None:
    request = profile_mapping.set_request(
        OCPP16, profile(duration=3600, min_charging_rate=6.2), profile_id=5, transaction_id="123", evse=2
    )
    assert isinstance(request, call16.SetChargingProfile)
    wire = await on_the_wire(request, "1.6")
    assert wire == {
        "connectorId": 2,
        "csChargingProfiles": {
            "chargingProfileId": 5,
            "transactionId": 123,
            "stackLevel": profile_mapping.STACK_LEVEL,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 16.3},
                    {"startPeriod": 900, "limit": 8.0},
                ],
                "duration": 3600,
                "minChargingRate": 6.2,
            },
        },
    }


async def test_the_schemas_the_hub_loads_check_16_rates_as_the_library_reads_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ocpp.messages, "_validators", {})
    await asyncio.to_thread(load_schemas)
    request = profile_mapping.set_request(OCPP16, profile(), profile_id=5, transaction_id="123", evse=2)
    wire = await on_the_wire(request, "1.6")
    assert wire["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 16.3
    composite = {
        "status": "Accepted",
        "connectorId": 2,
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.3}],
        },
    }
    await validate_payload(CallResult(unique_id="1", action="GetCompositeSchedule", payload=composite), "1.6")


async def test_a_201_profile_with_a_start_is_absolute_and_has_a_list_of_schedules() -> None:
    start = datetime(2026, 1, 1, 11, 0, tzinfo=UTC)
    request = profile_mapping.set_request(
        OCPP201, profile(start_date_time=start), profile_id=5, transaction_id="tx-9", evse=1
    )
    assert isinstance(request, call201.SetChargingProfile)
    wire = await on_the_wire(request, "2.0.1")
    assert wire["evseId"] == 1
    charging_profile = wire["chargingProfile"]
    assert (charging_profile["id"], charging_profile["transactionId"]) == (5, "tx-9")
    assert (charging_profile["chargingProfilePurpose"], charging_profile["chargingProfileKind"]) == (
        "TxProfile",
        "Absolute",
    )
    [schedule] = charging_profile["chargingSchedule"]
    assert schedule["id"] == 5
    assert schedule["startSchedule"] == "2026-01-01T11:00:00Z"
    assert schedule["chargingSchedulePeriod"][0] == {"startPeriod": 0, "limit": 16.3}


def test_rates_are_floats_with_one_decimal_and_nothing_is_a_decimal() -> None:
    request = profile_mapping.set_request(
        OCPP16, profile(duration=60, min_charging_rate=6.2), profile_id=5, transaction_id="123", evse=2
    )
    schedule = request.cs_charging_profiles["charging_schedule"]
    assert [p["limit"] for p in schedule["charging_schedule_period"]] == [16.3, 8.0]
    assert schedule["min_charging_rate"] == 6.2
    assert "Decimal" not in repr(request)


@pytest.mark.parametrize(
    ("protocol", "expected"),
    [
        (OCPP16, call16.GetCompositeSchedule(connector_id=2, duration=900, charging_rate_unit="W")),
        (OCPP201, call201.GetCompositeSchedule(duration=900, evse_id=2, charging_rate_unit="W")),
    ],
)
def test_composite_schedule(protocol: str, expected: Any) -> None:
    request = profile_mapping.composite_request(protocol, evse=2, duration=900, unit=ChargingRateUnit.W)
    assert request == expected


@pytest.mark.parametrize(
    ("protocol", "expected"),
    [
        (OCPP16, call16.ClearChargingProfile(id=5)),
        (OCPP201, call201.ClearChargingProfile(charging_profile_id=5)),
    ],
)
def test_clear_profile(protocol: str, expected: Any) -> None:
    assert profile_mapping.clear_request(protocol, profile_id=5) == expected


@pytest.mark.parametrize(
    ("status", "result"),
    [("Accepted", P.ACCEPTED), ("Rejected", P.REJECTED), ("NotSupported", P.REJECTED)],
)
def test_set_results(status: str, result: P) -> None:
    assert profile_mapping.set_result(status) is result


@pytest.mark.parametrize(
    ("status", "result"),
    [("Accepted", P.ACCEPTED), ("Unknown", P.UNKNOWN), ("Else", P.REJECTED)],
)
def test_clear_results(status: str, result: P) -> None:
    assert profile_mapping.clear_result(status) is result


def test_a_16_composite_schedule_is_the_active_profile() -> None:
    answer = result16.GetCompositeSchedule(
        status="Accepted",
        connector_id=1,
        schedule_start="2026-01-01T10:00:00Z",
        charging_schedule={
            "duration": 900,
            "charging_rate_unit": "A",
            "charging_schedule_period": [{"start_period": 0, "limit": 16.05}],
        },
    )
    active = profile_mapping.active_profile(OCPP16, answer, now=NOW)
    assert active is not None
    assert active.to_json() == {
        "start_date_time": "2026-01-01T10:00:00Z",
        "charging_profile": {
            "start_date_time": "2026-01-01T10:00:00Z",
            "charging_rate_unit": "A",
            "charging_profile_period": [{"start_period": 0, "limit": 16.0}],
            "duration": 900,
        },
    }


def test_a_201_composite_schedule_is_the_active_profile() -> None:
    answer = result201.GetCompositeSchedule(
        status="Accepted",
        schedule={
            "evse_id": 1,
            "duration": 600,
            "schedule_start": "2026-01-01T10:05:00Z",
            "charging_rate_unit": "W",
            "charging_schedule_period": [{"start_period": 0, "limit": 11000}],
        },
    )
    active = profile_mapping.active_profile(OCPP201, answer, now=NOW)
    assert active is not None
    assert active.charging_profile.charging_rate_unit is ChargingRateUnit.W
    assert active.start_date_time == datetime(2026, 1, 1, 10, 5, tzinfo=UTC)


def test_a_refused_composite_schedule_has_no_profile() -> None:
    assert (
        profile_mapping.active_profile(OCPP16, result16.GetCompositeSchedule(status="Rejected"), now=NOW)
        is None
    )
