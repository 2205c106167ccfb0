"""OCPP 2.0.1 TransactionEvent as OCPI Session changes, and signed meter values: the pure mapping."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from hub.ocpi.v2_2_1.cdrs import SignedData
from hub.ocpi.v2_2_1.sessions import Session
from hub.ocpp import signed, transaction_events
from hub.ocpp.records import OCPP201
from hub.ocpp.sessions import Transaction
from hub.ocpp.transaction_events import Identified, TransactionEvent

START = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
TOKEN = {"country_code": "DE", "party_id": "MSP", "uid": "UID1", "type": "RFID", "contract_id": "DE-MSP-C1"}
ACCEPTED = Identified(uid="UID1", accepted=True, token=TOKEN, auth_method="WHITELIST")
REFUSED = Identified(uid="UID1", accepted=False, token=TOKEN, auth_method="WHITELIST")


def sample(value: float, *, unit: str | None = None, multiplier: int | None = None, **fields: Any) -> Any:
    measure = {k: v for k, v in (("unit", unit), ("multiplier", multiplier)) if v is not None}
    return {"value": value, **({"unit_of_measure": measure} if measure else {}), **fields}


def reading(at: str, *samples: Any) -> dict[str, Any]:
    return {"timestamp": at, "sampled_value": list(samples)}


def event(event_type: str, seq_no: int, at: str, *meter: dict[str, Any], **fields: Any) -> TransactionEvent:
    payload = {
        "event_type": event_type,
        "timestamp": at,
        "trigger_reason": "Authorized",
        "seq_no": seq_no,
        "transaction_info": {"transaction_id": "TX-1"} | fields.pop("info", {}),
        "meter_value": list(meter),
    } | fields
    return transaction_events.read_event(payload)


def pending() -> Transaction:
    return Transaction(
        station_id="CS201",
        protocol=OCPP201,
        transaction_id="TX-1",
        session_id="S-1",
        id_tag=None,
        country_code="NL",
        party_id="ABC",
        location_id="CS201",
        evse=0,
        meter_start_wh=None,
        started_at=START,
        token=None,
        auth_method="AUTH_REQUEST",
        status="PENDING",
    )


@pytest.mark.parametrize(
    ("value", "wh"),
    [
        (sample(4500), Decimal(4500)),
        (sample(4.5, unit="kWh"), Decimal(4500)),
        (sample(45, unit="Wh", multiplier=2), Decimal(4500)),
        (sample(4.5, unit="kWh", multiplier=1), Decimal(45000)),
        (sample(0.1, unit="Wh"), Decimal("0.1")),
        (sample(4500, unit="varh"), None),
        (sample(230, measurand="Voltage"), None),
        (sample(1500, phase="L1"), None),
    ],
    ids=[
        "Wh by default",
        "kWh",
        "multiplier",
        "kWh and multiplier",
        "exact decimal",
        "unit",
        "other",
        "phase",
    ],
)
def test_the_register_is_read_in_wh_with_unit_and_multiplier(value: Any, wh: Decimal | None) -> None:
    found = transaction_events.register_wh([reading("2026-01-01T10:30:00Z", value)])
    assert (found[0] if found else None) == wh


@pytest.mark.parametrize(
    ("last", "seq_no", "repeat"), [(None, 0, False), (3, 4, False), (3, 3, True), (3, 1, True)]
)
def test_a_seq_no_not_above_the_last_applied_is_a_repeat(last: int | None, seq_no: int, repeat: bool) -> None:
    assert transaction_events.is_repeat(last, seq_no) is repeat


def test_started_with_an_accepted_token_is_a_whole_active_session() -> None:
    started = event(
        "Started",
        0,
        "2026-01-01T10:00:00Z",
        reading("2026-01-01T10:00:00Z", sample(1000, context="Transaction.Begin")),
        evse={"id": 2, "connector_id": 3},
    )
    tx, changes = transaction_events.apply(pending(), started, ACCEPTED, now=START)
    [(method, session)] = changes
    assert method == "PUT"
    Session.model_validate(session)
    assert (session["status"], session["kwh"], session["auth_method"]) == ("ACTIVE", 0, "WHITELIST")
    assert (session["evse_uid"], session["connector_id"]) == ("CS201*2", "3")
    assert session["cdr_token"]["contract_id"] == "DE-MSP-C1"
    assert (tx.meter_start_wh, tx.evse) == (Decimal(1000), 2)


def test_started_without_a_token_is_pending_and_active_from_the_authorizing_event() -> None:
    started = event("Started", 0, "2026-01-01T10:00:00Z", evse={"id": 1, "connector_id": 1})
    tx, [(method, session)] = transaction_events.apply(pending(), started, None, now=START)
    assert (method, session["status"]) == ("PUT", "PENDING")
    authorized = event(
        "Updated", 1, "2026-01-01T10:05:00Z", id_token={"id_token": "UID1", "type": "ISO14443"}
    )
    tx, [(method, session)] = transaction_events.apply(tx, authorized, ACCEPTED, now=START)
    assert (method, session["status"]) == ("PUT", "ACTIVE")
    assert session["start_date_time"] == "2026-01-01T10:05:00Z"
    assert tx.evse == 1  # cached from the first event that named it


def test_a_refused_token_makes_the_session_invalid_and_the_end_gives_no_cdr() -> None:
    started = event("Started", 0, "2026-01-01T10:00:00Z", evse={"id": 1, "connector_id": 1})
    tx, [(_, session)] = transaction_events.apply(pending(), started, REFUSED, now=START)
    assert session["status"] == "INVALID"
    ended = event("Ended", 1, "2026-01-01T10:01:00Z", info={"stopped_reason": "DeAuthorized"})
    tx, _ = transaction_events.apply(tx, ended, None, now=START)
    assert not transaction_events.completed(tx)


def test_updates_meter_and_the_end_completes_with_the_final_energy() -> None:
    started = event(
        "Started",
        0,
        "2026-01-01T10:00:00Z",
        reading("2026-01-01T10:00:00Z", sample(1, unit="kWh")),
        evse={"id": 1, "connector_id": 1},
    )
    tx, _ = transaction_events.apply(pending(), started, ACCEPTED, now=START)
    updated = event("Updated", 1, "2026-01-01T10:30:00Z", reading("2026-01-01T10:30:00Z", sample(3500)))
    tx, [(method, patch)] = transaction_events.apply(tx, updated, None, now=START)
    assert (method, patch["kwh"]) == ("PATCH", 2.5)
    late = event("Updated", 2, "2026-01-01T10:40:00Z", reading("2026-01-01T10:15:00Z", sample(2000)))
    tx, changes = transaction_events.apply(tx, late, None, now=START)
    assert changes == []  # an older reading sent late changes no figure
    ended = event(
        "Ended",
        3,
        "2026-01-01T11:00:00Z",
        reading("2026-01-01T11:00:00Z", sample(13.345, unit="kWh")),
        info={"stopped_reason": "Local"},
    )
    tx, [(method, patch)] = transaction_events.apply(tx, ended, None, now=START)
    assert (method, patch["status"], patch["kwh"], patch["end_date_time"]) == (
        "PATCH",
        "COMPLETED",
        12.345,
        "2026-01-01T11:00:00Z",
    )
    assert transaction_events.completed(tx)


def test_the_charging_state_splits_the_session_into_charging_and_parking_periods() -> None:
    started = event(
        "Started",
        0,
        "2026-01-01T10:00:00Z",
        reading("2026-01-01T10:00:00Z", sample(1000)),
        evse={"id": 1, "connector_id": 1},
        info={"charging_state": "EVConnected"},  # before any charging: still the first period
    )
    tx, _ = transaction_events.apply(pending(), started, ACCEPTED, now=START)
    suspended = event(
        "Updated",
        1,
        "2026-01-01T10:30:00Z",
        reading("2026-01-01T10:30:00Z", sample(6000)),
        info={"charging_state": "SuspendedEV"},
    )
    tx, changes = transaction_events.apply(tx, suspended, None, now=START)
    assert [len(patch.get("charging_periods", [])) for _, patch in changes] == [1, 2]
    resumed = event("Updated", 2, "2026-01-01T11:00:00Z", info={"charging_state": "Charging"})
    tx, _ = transaction_events.apply(tx, resumed, None, now=START)
    ended = event(
        "Ended",
        3,
        "2026-01-01T11:30:00Z",
        reading("2026-01-01T11:30:00Z", sample(8000)),
        info={"stopped_reason": "EVDisconnected", "charging_state": "EVConnected"},
    )
    tx, [(_, patch)] = transaction_events.apply(tx, ended, None, now=START)

    assert [{d["type"]: d["volume"] for d in p["dimensions"]} for p in patch["charging_periods"]] == [
        {"ENERGY": 5, "TIME": 0.5},
        {"PARKING_TIME": 0.5},
        {"ENERGY": 2, "TIME": 0.5},
    ]
    assert patch["kwh"] == 7


OCMF = 'OCMF|{"FV":"1.0","RD":[{"TM":"2026-01-01T10:00:00,000+0000 S","TX":"B","RV":1.0}]}|{"SD":"3045AB"}'


def test_1_6_signed_values_are_base64_of_the_record_as_received() -> None:
    as_json = json.dumps({"signedMeterData": "QUJD", "encodingMethod": "EDL", "publicKey": "KEY"})
    entries = [
        reading(
            "2026-01-01T10:00:00Z", {"value": OCMF, "format": "SignedData", "context": "Transaction.Begin"}
        ),
        reading("2026-01-01T10:30:00Z", {"value": as_json, "format": "SignedData"}),
        reading("2026-01-01T10:30:00Z", {"value": "4f434d467c", "format": "SignedData"}),
        reading("2026-01-01T10:30:00Z", {"value": "1000"}),
    ]
    begin, structure, hexed = signed.from_v16(entries)
    assert base64.b64decode(begin.signed_data).decode() == OCMF
    assert (begin.nature, begin.encoding_method) == ("Start", "OCMF")
    assert (structure.signed_data, structure.encoding_method, structure.public_key) == ("QUJD", "EDL", "KEY")
    assert base64.b64decode(hexed.signed_data) == b"OCMF|"
    [end] = signed.from_v16(
        [reading("2026-01-01T11:00:00Z", {"value": OCMF, "format": "SignedData"})],
        default_context="Transaction.End",
    )
    assert end.nature == "End"
    document = signed.signed_data(signed.merged([begin], [begin, end]))
    assert document is not None
    SignedData.model_validate(document)
    assert [v["nature"] for v in document["signed_values"]] == ["Start", "End"]
    assert "public_key" not in document  # OCMF text records carry no key


def test_2_0_1_signed_meter_data_passes_through_unchanged() -> None:
    data = base64.b64encode(OCMF.encode()).decode()
    value = sample(
        1000,
        context="Transaction.End",
        signed_meter_value={
            "signed_meter_data": data,
            "signing_method": "ECDSA",
            "encoding_method": "OCMF",
            "public_key": "PK",
        },
    )
    [record] = signed.from_v201([reading("2026-01-01T11:00:00Z", value)])
    assert (record.signed_data, record.nature, record.public_key) == (data, "End", "PK")
    assert signed.signed_data([]) is None
