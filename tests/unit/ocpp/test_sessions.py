"""OCPP 1.6 transactions as OCPI Sessions: the pure mapping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from hub.ocpi.v2_2_1.sessions import Session
from hub.ocpp import sessions
from hub.ocpp.sessions import Transaction

START = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
TOKEN = {
    "country_code": "DE",
    "party_id": "MSP",
    "uid": "UID1",
    "type": "RFID",
    "contract_id": "DE-MSP-C1",
    "whitelist": "ALWAYS",
}


def transaction(**changes: Any) -> Transaction:
    fields: dict[str, Any] = {
        "station_id": "CS001",
        "transaction_id": "7",
        "session_id": sessions.session_id("CS001", 7),
        "id_tag": "UID1",
        "country_code": "NL",
        "party_id": "ABC",
        "location_id": "CS001",
        "evse": 2,
        "meter_start_wh": Decimal(1000),
        "started_at": START,
        "token": TOKEN,
        "auth_method": "WHITELIST",
    } | changes
    return Transaction(**fields)


def sample(value: str, **fields: str) -> dict[str, Any]:
    return {"timestamp": "2026-01-01T10:30:00Z", "sampled_value": [{"value": value, **fields}]}


def test_the_start_is_a_whole_active_session_of_the_hosted_cpo() -> None:
    _, session = sessions.started(transaction(), now=START)
    Session.model_validate(session)
    assert session["id"] == "CS001-7"
    assert (session["country_code"], session["party_id"]) == ("NL", "ABC")
    assert (session["status"], session["kwh"], session["currency"]) == ("ACTIVE", 0, "EUR")
    assert (session["evse_uid"], session["connector_id"]) == ("CS001*2", "1")
    assert session["cdr_token"] == {
        k: TOKEN[k] for k in ("country_code", "party_id", "uid", "type", "contract_id")
    }


@pytest.mark.parametrize(
    ("entries", "wh"),
    [
        ([sample("4500")], Decimal(4500)),
        ([sample("4.5", unit="kWh")], Decimal(4500)),
        ([sample("4500", measurand="Energy.Active.Import.Register", unit="Wh")], Decimal(4500)),
        ([sample("230", measurand="Voltage")], None),
        ([sample("1500", phase="L1")], None),
        ([sample("not a number")], None),
        (
            [
                {
                    "timestamp": "2026-01-01T10:30:00Z",
                    "sampled_value": [
                        {"value": "4000", "location": "Inlet"},
                        {"value": "3900", "location": "Outlet"},
                    ],
                }
            ],
            Decimal(3900),
        ),
        ([sample("2000"), sample("3000")], Decimal(3000)),
    ],
    ids=["Wh by default", "kWh", "named", "other measurand", "one phase", "garbage", "outlet", "latest"],
)
def test_the_register_is_read_in_wh(entries: list[dict[str, Any]], wh: Decimal | None) -> None:
    assert sessions.register_wh(entries) == wh


def test_meter_values_patch_the_energy_in_kwh_and_the_period_in_hours() -> None:
    tx, _ = sessions.started(transaction(), now=START)
    _, patch = sessions.metered(tx, Decimal(3500), at=START + timedelta(minutes=45), now=START)
    assert patch["kwh"] == 2.5
    [period] = patch["charging_periods"]
    assert period["start_date_time"] == "2026-01-01T10:00:00Z"
    assert period["dimensions"] == [{"type": "ENERGY", "volume": 2.5}, {"type": "TIME", "volume": 0.75}]
    assert patch["last_updated"] == "2026-01-01T10:00:00Z"


def test_a_register_below_the_start_counts_no_energy() -> None:
    _, patch = sessions.metered(transaction(), Decimal(10), at=START, now=START)
    assert patch["kwh"] == 0


def test_the_stop_completes_the_session_with_the_final_energy() -> None:
    _, patch = sessions.stopped(
        transaction(), Decimal(13345), at=START + timedelta(hours=1), now=START + timedelta(hours=1)
    )
    assert patch["status"] == "COMPLETED"
    assert patch["end_date_time"] == "2026-01-01T11:00:00Z"
    assert patch["kwh"] == 12.345


def test_last_updated_never_goes_back() -> None:
    later = START + timedelta(minutes=5)
    tx, _ = sessions.started(transaction(), now=later)
    _, patch = sessions.metered(tx, Decimal(2000), at=START, now=START)
    assert patch["last_updated"] == "2026-01-01T10:05:00Z"


def volumes(period: dict[str, Any]) -> dict[str, float]:
    return {d["type"]: d["volume"] for d in period["dimensions"]}


def test_a_pause_in_charging_is_a_parking_period_and_the_periods_add_up_to_the_energy() -> None:
    running, _ = sessions.started(transaction(), now=START)
    running, _ = sessions.metered(running, Decimal(8_000), at=START + timedelta(hours=1), now=START)
    paused, patch = sessions.charging_changed(running, False, at=START + timedelta(hours=1), now=START)
    assert patch is not None and len(patch["charging_periods"]) == 2
    resumed, _ = sessions.charging_changed(paused, True, at=START + timedelta(hours=1, minutes=30), now=START)
    ended, patch = sessions.stopped(
        resumed, Decimal("10333.3"), at=START + timedelta(hours=2), now=START + timedelta(hours=2)
    )

    periods = patch["charging_periods"]
    assert [p["start_date_time"] for p in periods] == [
        "2026-01-01T10:00:00Z",
        "2026-01-01T11:00:00Z",
        "2026-01-01T11:30:00Z",
    ]
    assert [volumes(p) for p in periods] == [
        {"ENERGY": 7, "TIME": 1},
        {"PARKING_TIME": 0.5},
        {"ENERGY": 2.333, "TIME": 0.5},
    ]
    assert patch["kwh"] == 9.333
    assert sessions.parking_hours(ended, START + timedelta(hours=2)) == Decimal("0.5")


def test_the_same_state_again_a_state_from_before_the_period_or_after_the_end_change_nothing() -> None:
    running, _ = sessions.started(transaction(), now=START)
    same, patch = sessions.charging_changed(running, True, at=START + timedelta(minutes=5), now=START)
    assert patch is None and same == running
    early, patch = sessions.charging_changed(running, False, at=START - timedelta(minutes=5), now=START)
    assert patch is None and early == running
    ended, _ = sessions.stopped(running, Decimal(2000), at=START + timedelta(hours=1), now=START)
    after, patch = sessions.charging_changed(ended, False, at=START + timedelta(hours=2), now=START)
    assert patch is None and after == ended


def test_energy_that_flows_while_suspended_is_counted_in_the_parking_period() -> None:
    running, _ = sessions.started(transaction(), now=START)
    paused, _ = sessions.charging_changed(running, False, at=START + timedelta(hours=1), now=START)
    _, patch = sessions.stopped(paused, Decimal(1500), at=START + timedelta(hours=2), now=START)
    # No reading at the pause: the rise is in the period that ends with the reading.
    assert [volumes(p) for p in patch["charging_periods"]] == [
        {"ENERGY": 0, "TIME": 1},
        {"ENERGY": 0.5, "PARKING_TIME": 1},
    ]
