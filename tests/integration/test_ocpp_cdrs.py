"""At the end of an OCPP 1.6 transaction of a hosted station the hub issues one CDR, priced with the
hosted CPO's tariff and delivered through clearing with a ``Hub-Signature``: a real ``ocpp`` client
station over a real websocket, the eMSP's party app receiving the CDR."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from ocpp.v16 import call as call16

from hub.keys import jobs_key
from hub.ocpi.v2_2_1.cdrs import CDR
from hub.ocpp.tariffs import put_tariff
from hub.operators import OperatorError
from hub.outbox.records import DeliveryState
from tests.integration.conftest import Network, of, settle
from tests.integration.test_clearing import verifies
from tests.integration.test_ocpp_sessions import boot, push_token, station
from tests.support.stations import RunningStation

__all__ = ["station"]  # the fixture, shared with the Session tests

TARIFF: dict[str, Any] = {
    "id": "HOSTED-AC",
    "currency": "EUR",
    "elements": [{"price_components": [{"type": "ENERGY", "price": 0.39, "vat": 21, "step_size": 1}]}],
    "last_updated": "2025-06-01T00:00:00Z",
}


async def tariff_put(net: Network, document: dict[str, Any]) -> None:
    """The operator puts the tariff; the running hub delivers the broadcast."""
    _, deliveries = await put_tariff(net.hub.services, cpo="NL*ABC", document=document)
    await net.hub.server.app[jobs_key].deliver([d.id for d in deliveries])
    await settle(net.hub)


async def charge(
    net: Network,
    running: RunningStation,
    *,
    stop_again: bool = False,
    start_again: bool = False,
    day: str = "2026-01-01",
    transaction_data: list[dict[str, Any]] | None = None,
) -> int:
    """A whole transaction: 12.345 kWh in one hour (each message sent twice when ``start_again``, as a
    station replaying its queue after a lost reply does)."""
    start = call16.StartTransaction(
        connector_id=1, id_tag="UID1", meter_start=1000, timestamp=f"{day}T10:00:00Z"
    )
    started = await running.cp.call(start)
    if start_again:
        again = await running.cp.call(start)
        assert again.transaction_id == started.transaction_id
    transaction_id = int(started.transaction_id)
    await running.cp.call(
        call16.MeterValues(
            connector_id=1,
            transaction_id=transaction_id,
            meter_value=[
                {
                    "timestamp": f"{day}T10:30:00Z",
                    "sampledValue": [{"value": "7000", "measurand": "Energy.Active.Import.Register"}],
                }
            ],
        )
    )
    stop = call16.StopTransaction(
        meter_stop=13345,
        timestamp=f"{day}T11:00:00Z",
        transaction_id=transaction_id,
        transaction_data=transaction_data,
    )
    await running.cp.call(stop)
    await settle(net.hub)
    if stop_again or start_again:
        await running.cp.call(stop)
        await settle(net.hub)
    return transaction_id


async def test_a_stopped_transaction_is_one_signed_cdr_priced_with_the_cpos_tariff(
    hosted: Network, station: RunningStation
) -> None:
    await tariff_put(hosted, TARIFF)
    assert [r.path for r in of(hosted.msp, "tariffs")] == ["/NL/ABC/HOSTED-AC"]
    token = await push_token(hosted, "UID1")
    await boot(hosted, station)

    transaction_id = await charge(hosted, station, stop_again=True)

    [delivered] = of(hosted.msp, "cdrs")
    assert (delivered.method, delivered.path) == ("POST", "")
    assert (delivered.headers["OCPI-from-country-code"], delivered.headers["OCPI-from-party-id"]) == (
        "NL",
        "ABC",
    )
    assert await verifies(hosted, delivered.headers["Hub-Signature"], delivered.body)
    cdr = json.loads(delivered.body)
    CDR.model_validate(cdr)
    session_id = f"CS001-{transaction_id}"
    assert (cdr["country_code"], cdr["party_id"], cdr["id"], cdr["session_id"]) == (
        "NL",
        "ABC",
        session_id,
        session_id,
    )
    assert (cdr["start_date_time"], cdr["end_date_time"]) == ("2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z")
    assert cdr["cdr_token"]["contract_id"] == token["contract_id"]
    assert cdr["auth_method"] == "WHITELIST"
    assert cdr["cdr_location"] == {
        "id": "CS001",
        "name": "Depot Noord",
        "address": "Stationsplein 1",
        "city": "Utrecht",
        "postal_code": "3511ED",
        "country": "NLD",
        "coordinates": {"latitude": "52.090000", "longitude": "5.110000"},
        "evse_uid": "CS001*1",
        "evse_id": "NL*ABC*E1001",
        "connector_id": "1",
        "connector_standard": "IEC_62196_T2",
        "connector_format": "SOCKET",
        "connector_power_type": "AC_3_PHASE",
    }
    assert cdr["currency"] == "EUR"
    assert [t["id"] for t in cdr["tariffs"]] == ["HOSTED-AC"]
    [period] = cdr["charging_periods"]
    assert period["tariff_id"] == "HOSTED-AC"
    assert {d["type"]: d["volume"] for d in period["dimensions"]} == {"ENERGY": 12.345, "TIME": 1}
    assert (cdr["total_energy"], cdr["total_time"]) == (12.345, 1)

    cent = Decimal("0.01")
    excl = Decimal("12.345") * Decimal("0.39")
    incl = excl * Decimal("1.21")
    expected = {
        "excl_vat": float(excl.quantize(cent, ROUND_HALF_UP)),
        "incl_vat": float(incl.quantize(cent, ROUND_HALF_UP)),
    }
    assert expected == {"excl_vat": 4.81, "incl_vat": 5.83}
    assert cdr["total_cost"] == expected
    assert cdr["total_energy_cost"] == expected

    record = await hosted.hub.services.store.clearing.get(f"NL*ABC*{session_id}")
    assert record is not None
    assert record.verdict_status in ("ok", "warnings")
    assert record.receiver_key == "DE*MSP"
    assert record.document.encode() == delivered.body
    assert of(hosted.emp, "cdrs") == []


async def test_without_a_tariff_the_cdr_costs_nothing(hosted: Network, station: RunningStation) -> None:
    await push_token(hosted, "UID1")
    await boot(hosted, station)
    await charge(hosted, station)
    [delivered] = of(hosted.msp, "cdrs")
    cdr = json.loads(delivered.body)
    assert cdr["total_cost"] == {"excl_vat": 0, "incl_vat": 0}
    assert "tariffs" not in cdr
    assert cdr["total_energy"] == 12.345


async def test_a_tariff_of_another_party_is_refused(hosted: Network) -> None:
    with pytest.raises(OperatorError, match="party_id"):
        await put_tariff(hosted.hub.services, cpo="NL*ABC", document=TARIFF | {"party_id": "XYZ"})
    with pytest.raises(OperatorError, match="not a valid OCPI Tariff"):
        await put_tariff(hosted.hub.services, cpo="NL*ABC", document={"id": "T1", "currency": "EUR"})
    stored = await hosted.hub.services.store.mirror.get("tariffs", "NL", "ABC", "HOSTED-AC")
    assert stored is None
    pending = await hosted.hub.services.store.outbox.by_state(DeliveryState.PENDING, limit=100)
    assert [d for d in pending if d.module == "tariffs"] == []


async def test_time_the_ev_stopped_charging_is_a_parking_period_priced_as_parking(
    hosted: Network, station: RunningStation
) -> None:
    parking = {"type": "PARKING_TIME", "price": 2.0, "vat": 21, "step_size": 60}
    tariff = TARIFF | {
        "elements": [{"price_components": [*TARIFF["elements"][0]["price_components"], parking]}]
    }
    await tariff_put(hosted, tariff)
    await push_token(hosted, "UID1")
    await boot(hosted, station)
    started = await station.cp.call(
        call16.StartTransaction(
            connector_id=1, id_tag="UID1", meter_start=1000, timestamp="2026-01-01T10:00:00Z"
        )
    )
    transaction_id = int(started.transaction_id)
    for status, at in (("Charging", "10:00:05"), ("SuspendedEV", "10:30:00"), ("Charging", "10:45:00")):
        if status == "SuspendedEV":
            reading = {"value": "7000", "measurand": "Energy.Active.Import.Register"}
            await station.cp.call(
                call16.MeterValues(
                    connector_id=1,
                    transaction_id=transaction_id,
                    meter_value=[{"timestamp": f"2026-01-01T{at}Z", "sampledValue": [reading]}],
                )
            )
        await station.cp.call(
            call16.StatusNotification(
                connector_id=1, error_code="NoError", status=status, timestamp=f"2026-01-01T{at}Z"
            )
        )
    await station.cp.call(
        call16.StopTransaction(
            meter_stop=13345, timestamp="2026-01-01T11:00:00Z", transaction_id=transaction_id
        )
    )
    await settle(hosted.hub)

    [delivered] = of(hosted.msp, "cdrs")
    cdr = json.loads(delivered.body)
    CDR.model_validate(cdr)
    assert [
        (p["start_date_time"][11:19], {d["type"]: d["volume"] for d in p["dimensions"]})
        for p in cdr["charging_periods"]
    ] == [
        ("10:00:00", {"ENERGY": 6, "TIME": 0.5}),
        ("10:30:00", {"PARKING_TIME": 0.25}),
        ("10:45:00", {"ENERGY": 6.345, "TIME": 0.25}),
    ]
    assert (cdr["total_energy"], cdr["total_time"], cdr["total_parking_time"]) == (12.345, 1, 0.25)
    # 15 minutes of parking at 2.00/h, billed per started minute (step_size 60).
    assert cdr["total_parking_cost"] == {"excl_vat": 0.5, "incl_vat": 0.61}
    assert cdr["total_cost"] == {"excl_vat": 5.31, "incl_vat": 6.43}
    patches = [json.loads(r.body) for r in of(hosted.msp, "sessions") if r.method == "PATCH"]
    assert any(len(p.get("charging_periods", [])) == 2 for p in patches)  # the pause reached the eMSP live
