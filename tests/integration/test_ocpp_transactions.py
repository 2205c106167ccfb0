"""OCPP transactions kept in the store: 2.0.1 TransactionEvents as OCPI Sessions and CDRs, queued
messages replayed after an outage, a hub restarted in the middle of a transaction, remote starts and
signed meter values. Real ``ocpp`` client stations over real websockets, the eMSP's party app
receiving the Sessions and the CDRs, one SQLite file."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from hub.app import create_app
from hub.bootstrap import build_services
from hub.ocpi.v2_2_1.cdrs import CDR
from hub.ocpi.v2_2_1.sessions import Session
from hub.ocpp.server import transactions_key
from tests.conftest import Hub
from tests.integration.conftest import Network, of, settle
from tests.integration.test_clearing import verifies
from tests.integration.test_ocpp_cdrs import TARIFF, charge, tariff_put
from tests.integration.test_ocpp_sessions import PASSWORD, boot, push_token, station
from tests.support.stations import RunningStation, connect_station

__all__ = ["station"]

# OCMF records as a meter writes them (spacing and number forms kept: the signature covers these bytes).
OCMF_BEGIN = (
    'OCMF|{"FV":"1.0","GI":"M1","RD":[{"TM":"2026-01-01T10:00:00,000+0000 S","TX":"B","RV":1.000}]}'
    '|{"SD":"30450221"}'
)
OCMF_END = (
    'OCMF|{"FV":"1.0", "GI":"M1","RD":[{"TM":"2026-01-01T11:00:00,000+0000 S","TX":"E","RV":13.3450}]}'
    '|{"SD":"30460221"}'
)


@pytest.fixture
async def station201(hosted: Network) -> AsyncIterator[RunningStation]:
    running = await connect_station(hosted.hub.http, hosted.hub.base_url, "CS001", PASSWORD, "ocpp2.0.1")
    yield running
    await running.close()


async def boot201(net: Network, running: RunningStation) -> None:
    await running.cp.call(
        call201.BootNotification(charging_station={"model": "M2", "vendor_name": "V2"}, reason="PowerUp")
    )
    await running.cp.call(
        call201.StatusNotification(
            timestamp="2026-01-01T09:00:00Z", connector_status="Available", evse_id=1, connector_id=1
        )
    )
    await settle(net.hub)
    net.msp.party.received.clear()


def energy(
    wh: float, *, context: str = "Sample.Periodic", signed_record: str | None = None
) -> dict[str, Any]:
    sample: dict[str, Any] = {
        "value": wh / 1000,
        "context": context,
        "measurand": "Energy.Active.Import.Register",
        "unitOfMeasure": {"unit": "kWh", "multiplier": 0},
    }
    if signed_record is not None:
        sample["signedMeterValue"] = {
            "signedMeterData": base64.b64encode(signed_record.encode()).decode(),
            "signingMethod": "ECDSA-secp256r1-SHA256",
            "encodingMethod": "OCMF",
            "publicKey": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE",
        }
    return sample


def transaction_event(
    event_type: str,
    seq_no: int,
    at: str,
    transaction_id: str = "TX-201-A",
    *,
    wh: float | None = None,
    uid: str | None = None,
    token_type: str = "ISO14443",
    trigger: str | None = None,
    offline: bool | None = None,
    signed_record: str | None = None,
    **info: Any,
) -> Any:
    context = {"Started": "Transaction.Begin", "Ended": "Transaction.End"}.get(event_type, "Sample.Periodic")
    return call201.TransactionEvent(
        event_type=event_type,
        timestamp=at,
        trigger_reason=trigger
        or {"Started": "Authorized", "Ended": "StopAuthorized"}.get(event_type, "MeterValuePeriodic"),
        seq_no=seq_no,
        transaction_info={"transactionId": transaction_id, **info},
        meter_value=[
            {"timestamp": at, "sampledValue": [energy(wh, context=context, signed_record=signed_record)]}
        ]
        if wh is not None
        else None,
        offline=offline,
        evse={"id": 1, "connectorId": 1} if event_type == "Started" else None,
        id_token={"idToken": uid, "type": token_type} if uid is not None else None,
    )


async def whole_transaction(
    net: Network,
    running: RunningStation,
    transaction_id: str,
    *,
    day: str,
    offline: bool | None = None,
    twice: bool = False,
) -> None:
    """Started (1 kWh on the register) → Updated (3.5 kWh) → Ended (13.345 kWh), each event sent twice
    when ``twice``."""
    events = [
        transaction_event(
            "Started",
            0,
            f"{day}T10:00:00Z",
            transaction_id,
            wh=1000,
            uid="UID1",
            offline=offline,
            signed_record=OCMF_BEGIN,
            charging_state="Charging",
        ),
        transaction_event("Updated", 1, f"{day}T10:30:00Z", transaction_id, wh=3500, offline=offline),
        transaction_event(
            "Ended",
            2,
            f"{day}T11:00:00Z",
            transaction_id,
            wh=13345,
            offline=offline,
            signed_record=OCMF_END,
            stopped_reason="Local",
        ),
    ]
    for event in events:
        for _ in range(2 if twice else 1):
            await running.cp.call(event)
    await settle(net.hub)


async def test_a_2_0_1_transaction_is_a_session_and_one_signed_priced_cdr(
    hosted: Network, station201: RunningStation
) -> None:
    await tariff_put(hosted, TARIFF)
    token = await push_token(hosted, "UID1")
    await boot201(hosted, station201)

    started = await station201.cp.call(
        transaction_event("Started", 0, "2026-01-01T10:00:00Z", wh=1000, uid="UID1", signed_record=OCMF_BEGIN)
    )
    assert started.id_token_info["status"] == "Accepted"
    await settle(hosted.hub)
    [put] = of(hosted.msp, "sessions")
    assert put.method == "PUT"
    session = json.loads(put.body)
    Session.model_validate(session)
    session_id = session["id"]
    assert len(session_id) <= 36 and "TX-201-A" not in session_id
    assert put.path == f"/NL/ABC/{session_id}"
    assert (session["status"], session["kwh"], session["auth_method"]) == ("ACTIVE", 0, "WHITELIST")
    assert (session["evse_uid"], session["connector_id"]) == ("CS001*1", "1")
    assert session["cdr_token"]["contract_id"] == token["contract_id"]

    await station201.cp.call(transaction_event("Updated", 1, "2026-01-01T10:30:00Z", wh=3500))
    await settle(hosted.hub)
    [_, metered] = of(hosted.msp, "sessions")
    assert (metered.method, json.loads(metered.body)["kwh"]) == ("PATCH", 2.5)

    ended = transaction_event(
        "Ended", 2, "2026-01-01T11:00:00Z", wh=13345, signed_record=OCMF_END, stopped_reason="Local"
    )
    await station201.cp.call(ended)
    await station201.cp.call(ended)  # sent again: a repeat
    await settle(hosted.hub)
    [_, _, completed] = of(hosted.msp, "sessions")
    final = json.loads(completed.body)
    assert (final["status"], final["kwh"], final["end_date_time"]) == (
        "COMPLETED",
        12.345,
        "2026-01-01T11:00:00Z",
    )

    [delivered] = of(hosted.msp, "cdrs")
    assert await verifies(hosted, delivered.headers["Hub-Signature"], delivered.body)
    cdr = json.loads(delivered.body)
    CDR.model_validate(cdr)
    assert (cdr["id"], cdr["session_id"], cdr["auth_method"]) == (session_id, session_id, "WHITELIST")
    assert (cdr["total_energy"], cdr["total_time"]) == (12.345, 1)
    assert cdr["total_cost"] == {"excl_vat": 4.81, "incl_vat": 5.83}
    assert cdr["cdr_location"]["evse_uid"] == "CS001*1"
    signed_data = cdr["signed_data"]
    assert (signed_data["encoding_method"], signed_data["public_key"]) == (
        "OCMF",
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE",
    )
    assert [
        (v["nature"], base64.b64decode(v["signed_data"]).decode()) for v in signed_data["signed_values"]
    ] == [
        ("Start", OCMF_BEGIN),
        ("End", OCMF_END),
    ]
    record = await hosted.hub.services.store.transactions.get("CS001", "TX-201-A")
    assert record is not None and (record.seq_no, record.status) == (2, "stopped")
    running = await hosted.hub.server.app[transactions_key].by_session(session_id)
    assert running is not None
    assert (running.station_id, running.protocol, running.transaction_id, running.status) == (
        "CS001",
        "ocpp2.0.1",
        "TX-201-A",
        "COMPLETED",
    )


@pytest.mark.parametrize(
    ("valid", "pushed", "answer", "status"),
    [
        (True, True, "Accepted", "ACTIVE"),
        (False, True, "Blocked", "INVALID"),
        (True, False, "Unknown", "INVALID"),
    ],
    ids=["known", "blocked", "unknown"],
)
async def test_the_id_token_of_a_transaction_event_is_decided_and_answered(
    hosted: Network, station201: RunningStation, valid: bool, pushed: bool, answer: str, status: str
) -> None:
    if pushed:
        await push_token(hosted, "UID1", valid=valid)
    await boot201(hosted, station201)
    started = await station201.cp.call(
        transaction_event("Started", 0, "2026-01-01T10:00:00Z", wh=1000, uid="UID1")
    )
    assert started.id_token_info["status"] == answer
    await station201.cp.call(
        transaction_event("Ended", 1, "2026-01-01T10:05:00Z", wh=2000, stopped_reason="Local")
    )
    await settle(hosted.hub)
    record = await hosted.hub.services.store.transactions.get("CS001", "TX-201-A")
    assert record is not None and record.transaction is not None
    mirrored = await hosted.hub.services.store.mirror.get("sessions", "NL", "ABC", record.session_id)
    assert mirrored is not None
    assert mirrored.document["status"] == ("COMPLETED" if status == "ACTIVE" else "INVALID")
    assert len(of(hosted.msp, "cdrs")) == (1 if status == "ACTIVE" else 0)


async def test_a_transaction_started_without_a_token_is_pending_until_one_is_accepted(
    hosted: Network, station201: RunningStation
) -> None:
    await push_token(hosted, "UID1")
    await boot201(hosted, station201)
    plain = await station201.cp.call(transaction_event("Started", 0, "2026-01-01T10:00:00Z", wh=1000))
    assert plain.id_token_info is None
    await settle(hosted.hub)
    record = await hosted.hub.services.store.transactions.get("CS001", "TX-201-A")
    assert record is not None
    mirrored = await hosted.hub.services.store.mirror.get("sessions", "NL", "ABC", record.session_id)
    assert mirrored is not None and mirrored.document["status"] == "PENDING"
    assert of(hosted.msp, "sessions") == []
    authorized = await station201.cp.call(transaction_event("Updated", 1, "2026-01-01T10:02:00Z", uid="UID1"))
    assert authorized.id_token_info["status"] == "Accepted"
    await settle(hosted.hub)
    [put] = of(hosted.msp, "sessions")
    session = json.loads(put.body)
    assert (put.method, session["status"], session["start_date_time"]) == (
        "PUT",
        "ACTIVE",
        "2026-01-01T10:02:00Z",
    )


async def test_2_0_1_events_replayed_offline_give_one_session_and_one_cdr_each(
    hosted: Network, station201: RunningStation
) -> None:
    await push_token(hosted, "UID1")
    await boot201(hosted, station201)
    await whole_transaction(hosted, station201, "TX-OFF-1", day="2025-12-01", offline=True, twice=True)
    await whole_transaction(hosted, station201, "TX-OFF-2", day="2025-12-02", offline=True)
    puts = [r for r in of(hosted.msp, "sessions") if r.method == "PUT"]
    assert len({r.path for r in puts}) == len(puts) == 2
    cdrs = [json.loads(r.body) for r in of(hosted.msp, "cdrs")]
    assert sorted(c["start_date_time"] for c in cdrs) == ["2025-12-01T10:00:00Z", "2025-12-02T10:00:00Z"]
    assert [c["total_energy"] for c in cdrs] == [12.345, 12.345]


async def test_1_6_messages_replayed_after_an_outage_give_one_session_and_one_cdr_each(
    hosted: Network, station: RunningStation
) -> None:
    await push_token(hosted, "UID1")
    await boot(hosted, station)
    first = await charge(hosted, station, day="2025-12-01", start_again=True)
    second = await charge(hosted, station, day="2025-12-02")
    assert first != second
    puts = [r for r in of(hosted.msp, "sessions") if r.method == "PUT"]
    assert [r.path for r in puts] == [f"/NL/ABC/CS001-{first}", f"/NL/ABC/CS001-{second}"]
    cdrs = [json.loads(r.body) for r in of(hosted.msp, "cdrs")]
    assert [c["id"] for c in cdrs] == [f"CS001-{first}", f"CS001-{second}"]
    assert [c["start_date_time"] for c in cdrs] == ["2025-12-01T10:00:00Z", "2025-12-02T10:00:00Z"]
    sent = len(of(hosted.msp, "sessions"))
    await station.cp.call(  # a reading of the stopped first transaction, still queued
        call16.MeterValues(
            connector_id=1,
            transaction_id=first,
            meter_value=[{"timestamp": "2025-12-01T10:45:00Z", "sampledValue": [{"value": "9000"}]}],
        )
    )
    await settle(hosted.hub)
    assert len(of(hosted.msp, "sessions")) == sent


async def test_signed_1_6_readings_reach_the_cdr_as_received(
    hosted: Network, station: RunningStation
) -> None:
    await push_token(hosted, "UID1")
    await boot(hosted, station)
    signed_end = [
        {
            "timestamp": "2026-01-01T11:00:00Z",
            "sampledValue": [{"value": OCMF_END, "format": "SignedData", "context": "Transaction.End"}],
        }
    ]
    await charge(hosted, station, transaction_data=signed_end)
    [delivered] = of(hosted.msp, "cdrs")
    cdr = json.loads(delivered.body)
    [value] = cdr["signed_data"]["signed_values"]
    assert value["nature"] == "End"
    assert base64.b64decode(value["signed_data"]) == OCMF_END.encode()


async def test_a_hub_restarted_mid_transaction_carries_it_on_and_issues_its_cdr(
    hosted: Network, station: RunningStation, hub_port: int
) -> None:
    await push_token(hosted, "UID1")
    await boot(hosted, station)
    started = await station.cp.call(
        call16.StartTransaction(
            connector_id=1, id_tag="UID1", meter_start=1000, timestamp="2026-01-01T10:00:00Z"
        )
    )
    await settle(hosted.hub)
    await station.close()
    await hosted.hub.server.close()

    services = await build_services(hosted.hub.services.settings)  # a new process on the same file
    server = TestServer(create_app(services.settings, services=services), host="127.0.0.1", port=hub_port)
    await server.start_server()
    try:
        restarted = Hub(server, services, hosted.hub.http)
        again = await connect_station(restarted.http, restarted.base_url, "CS001", PASSWORD, "ocpp1.6")
        await again.cp.call(
            call16.StopTransaction(
                meter_stop=13345, timestamp="2026-01-01T11:00:00Z", transaction_id=started.transaction_id
            )
        )
        await settle(restarted)
        fresh = await again.cp.call(
            call16.StartTransaction(
                connector_id=1, id_tag="UID1", meter_start=0, timestamp="2026-01-02T10:00:00Z"
            )
        )
        assert fresh.transaction_id != started.transaction_id
        await again.close()
        await settle(restarted)
    finally:
        await server.close()
        await services.close()
    completed = [json.loads(r.body) for r in of(hosted.msp, "sessions") if r.method == "PATCH"]
    assert [(p["status"], p["kwh"]) for p in completed] == [("COMPLETED", 12.345)]
    [delivered] = of(hosted.msp, "cdrs")
    assert json.loads(delivered.body)["id"] == f"CS001-{started.transaction_id}"


async def test_a_remote_start_takes_the_transaction_and_vouches_for_its_token(
    hosted: Network, station: RunningStation
) -> None:
    token = await push_token(hosted, "APP1", whitelist="NEVER")  # would have to be asked for otherwise
    await boot(hosted, station)
    transactions = hosted.hub.server.app[transactions_key]
    await transactions.expect_remote_start(
        "CS001", evse=1, id_tag="APP1", token=token, authorization_reference="REF-42", remote_start_id=42
    )
    authorized = await station.cp.call(call16.Authorize(id_tag="APP1"))
    assert authorized.id_tag_info["status"] == "Accepted"
    started = await station.cp.call(
        call16.StartTransaction(
            connector_id=1, id_tag="APP1", meter_start=0, timestamp="2026-01-01T10:00:00Z"
        )
    )
    assert started.id_tag_info["status"] == "Accepted"
    await station.cp.call(
        call16.StopTransaction(
            meter_stop=5000, timestamp="2026-01-01T10:30:00Z", transaction_id=started.transaction_id
        )
    )
    await settle(hosted.hub)
    [put, _] = of(hosted.msp, "sessions")
    session = json.loads(put.body)
    assert (session["auth_method"], session["authorization_reference"]) == ("COMMAND", "REF-42")
    assert session["cdr_token"]["uid"] == "APP1"
    [delivered] = of(hosted.msp, "cdrs")
    cdr = json.loads(delivered.body)
    assert (cdr["auth_method"], cdr["authorization_reference"]) == ("COMMAND", "REF-42")
    running = await transactions.by_session(session["id"])
    assert running is not None and (running.evse, running.connector, running.status) == (1, 1, "COMPLETED")


async def test_a_2_0_1_transaction_with_the_remote_start_id_is_the_commanded_session(
    hosted: Network, station201: RunningStation
) -> None:
    token = await push_token(hosted, "APP1", whitelist="NEVER")
    await boot201(hosted, station201)
    transactions = hosted.hub.server.app[transactions_key]
    await transactions.expect_remote_start(
        "CS001", evse=1, id_tag="APP1", token=token, authorization_reference="REF-7", remote_start_id=7
    )
    started = await station201.cp.call(
        transaction_event("Started", 0, "2026-01-01T10:00:00Z", wh=1000, uid="APP1", remote_start_id=7)
    )
    assert started.id_token_info["status"] == "Accepted"
    await station201.cp.call(
        transaction_event("Ended", 1, "2026-01-01T10:30:00Z", wh=6000, stopped_reason="Remote")
    )
    await settle(hosted.hub)
    [put, _] = of(hosted.msp, "sessions")
    session = json.loads(put.body)
    assert (session["status"], session["auth_method"], session["authorization_reference"]) == (
        "ACTIVE",
        "COMMAND",
        "REF-7",
    )
    [delivered] = of(hosted.msp, "cdrs")
    cdr = json.loads(delivered.body)
    assert (cdr["auth_method"], cdr["authorization_reference"], cdr["total_energy"]) == (
        "COMMAND",
        "REF-7",
        5,
    )
