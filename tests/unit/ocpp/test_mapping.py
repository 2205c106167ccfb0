"""OCPP statuses and reports → the hosted CPO's OCPI Location (guide §4), without sockets or a store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.ocpi.v2_2_1.locations import Location, Status
from hub.ocpp import mapping
from hub.ocpp.records import OCPP16, OCPP201, Station
from tests.support.stations import TEMPLATE

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def station(**changes: Any) -> Station:
    base = Station(
        id="CS001",
        country_code="NL",
        party_id="ABC",
        password_hash="scrypt$…",
        location_id="CS001",
        template=TEMPLATE,
        connected=True,
        protocol=OCPP16,
        created_at=NOW,
    )
    return base.model_copy(update=changes)


def report(s: Station, protocol: str, evse: int, connector: int, status: str) -> Station:
    return mapping.status_reported(
        s, protocol, evse=evse, connector=connector, ocpp_status=status, error_code=None, now=NOW
    )


@pytest.mark.parametrize(
    ("ocpp_status", "expected"),
    [
        ("Available", Status.AVAILABLE),
        ("Preparing", Status.CHARGING),  # no longer free for the next driver
        ("Charging", Status.CHARGING),
        ("SuspendedEV", Status.CHARGING),
        ("SuspendedEVSE", Status.CHARGING),
        ("Finishing", Status.CHARGING),  # cable still plugged in
        ("Reserved", Status.RESERVED),
        ("Unavailable", Status.INOPERATIVE),  # out of service on purpose
        ("Faulted", Status.OUTOFORDER),  # broken
        ("Occupied", Status.UNKNOWN),  # a 2.0.1 word, not 1.6
    ],
)
def test_16_connector_statuses_read_as_the_guide_table(ocpp_status: str, expected: Status) -> None:
    assert mapping.ocpi_status(OCPP16, ocpp_status) is expected


@pytest.mark.parametrize(
    ("ocpp_status", "expected"),
    [
        ("Available", Status.AVAILABLE),
        ("Occupied", Status.CHARGING),  # plugged in, charging, suspended or finishing
        ("Reserved", Status.RESERVED),
        ("Unavailable", Status.INOPERATIVE),
        ("Faulted", Status.OUTOFORDER),
        ("Charging", Status.UNKNOWN),  # a 1.6 word, not 2.0.1
    ],
)
def test_201_connector_statuses_read_as_the_guide_table(ocpp_status: str, expected: Status) -> None:
    assert mapping.ocpi_status(OCPP201, ocpp_status) is expected


@pytest.mark.parametrize(
    ("connectors", "expected"),
    [
        ([Status.AVAILABLE, Status.CHARGING], Status.CHARGING),
        ([Status.AVAILABLE, Status.RESERVED], Status.RESERVED),
        ([Status.OUTOFORDER, Status.AVAILABLE], Status.AVAILABLE),
        ([Status.OUTOFORDER, Status.INOPERATIVE], Status.INOPERATIVE),
        ([Status.OUTOFORDER], Status.OUTOFORDER),
        ([], Status.UNKNOWN),
    ],
)
def test_an_evse_shows_its_busiest_connector(connectors: list[Status], expected: Status) -> None:
    assert mapping.evse_status(connectors) is expected


def test_16_connectors_become_one_evse_each_with_connector_1() -> None:
    s = report(report(station(), OCPP16, 1, 1, "Available"), OCPP16, 2, 1, "Charging")
    assert mapping.evse_statuses(s) == {1: Status.AVAILABLE, 2: Status.CHARGING}


def test_16_connector_zero_overrides_every_evse_until_it_is_available_again() -> None:
    s = report(report(station(), OCPP16, 1, 1, "Available"), OCPP16, 2, 1, "Charging")
    faulted = report(s, OCPP16, 0, 0, "Faulted")
    assert mapping.evse_statuses(faulted) == {1: Status.OUTOFORDER, 2: Status.OUTOFORDER}
    assert [c.evse for c in faulted.connectors] == [1, 2]  # connector 0 is no EVSE
    assert mapping.evse_statuses(report(faulted, OCPP16, 0, 0, "Available")) == mapping.evse_statuses(s)


def test_201_connectors_of_one_evse_aggregate() -> None:
    s = station(protocol=OCPP201)
    for evse, connector, status in ((1, 1, "Occupied"), (1, 2, "Available"), (2, 1, "Unavailable")):
        s = report(s, OCPP201, evse, connector, status)
    assert mapping.evse_statuses(s) == {1: Status.CHARGING, 2: Status.INOPERATIVE}


def test_a_repeated_report_replaces_the_connectors_state() -> None:
    s = report(report(station(), OCPP16, 1, 1, "Charging"), OCPP16, 1, 1, "Available")
    assert [(c.evse, c.connector, c.ocpp_status) for c in s.connectors] == [(1, 1, "Available")]


def test_a_disconnected_station_shows_every_evse_unknown() -> None:
    s = report(station(), OCPP16, 1, 1, "Available")
    gone = mapping.disconnected(s, now=NOW)
    assert mapping.evse_statuses(gone) == {1: Status.UNKNOWN}
    assert gone.connectors == s.connectors  # kept, for the operator and for the record


def test_a_connection_with_another_protocol_forgets_the_old_numbering() -> None:
    s = report(station(), OCPP16, 2, 1, "Available")
    assert mapping.connected(s, OCPP16, now=NOW).connectors == s.connectors
    assert mapping.connected(s, OCPP201, now=NOW).connectors == []


def test_the_location_is_valid_ocpi_built_from_template_and_reports() -> None:
    s = mapping.published(
        report(report(station(), OCPP16, 1, 1, "Available"), OCPP16, 2, 1, "Faulted"), now=NOW
    )
    document = mapping.location(s)
    parsed = Location.model_validate(document)
    assert (parsed.country_code, parsed.party_id, parsed.id) == ("NL", "ABC", "CS001")
    assert parsed.address == "Stationsplein 1" and parsed.publish is True
    assert document["last_updated"] == "2026-03-01T12:00:00Z"
    evses = {e["uid"]: e for e in document["evses"]}
    assert {uid: e["status"] for uid, e in evses.items()} == {"CS001*1": "AVAILABLE", "CS001*2": "OUTOFORDER"}
    assert evses["CS001*1"]["evse_id"] == "NL*ABC*E1001"  # the template's EVSE 1 fields
    assert "evse_id" not in evses["CS001*2"]
    assert evses["CS001*2"]["connectors"] == [
        {**TEMPLATE["connector"], "id": "1", "last_updated": "2026-03-01T12:00:00Z"}
    ]
    assert "connector" not in document  # the template's own keys stay out of OCPI


def test_per_connector_overrides_apply_to_that_connector_only() -> None:
    template = {**TEMPLATE, "evses": {"1": {"connectors": {"2": {"standard": "CHADEMO", "format": "CABLE"}}}}}
    s = station(protocol=OCPP201, template=template)
    s = mapping.published(report(report(s, OCPP201, 1, 1, "Available"), OCPP201, 1, 2, "Available"), now=NOW)
    connectors = mapping.location(s)["evses"][0]["connectors"]
    assert [(c["id"], c["standard"], c["format"]) for c in connectors] == [
        ("1", "IEC_62196_T2", "SOCKET"),
        ("2", "CHADEMO", "CABLE"),
    ]


def test_each_published_location_is_newer_than_the_one_before() -> None:
    first = mapping.published(report(station(), OCPP16, 1, 1, "Available"), now=NOW)
    second = mapping.published(first, now=NOW - timedelta(seconds=5))  # a clock that went back
    assert second.published_at is not None and first.published_at is not None
    assert second.published_at > first.published_at


def test_only_a_change_emsps_can_see_needs_publishing() -> None:
    s = report(station(), OCPP16, 1, 1, "Preparing")
    assert not mapping.needs_publishing(station())  # no EVSE reported yet
    assert mapping.needs_publishing(s)
    shown = mapping.published(s, now=NOW)
    assert not mapping.needs_publishing(report(shown, OCPP16, 1, 1, "Charging"))  # CHARGING either way
    assert mapping.needs_publishing(report(shown, OCPP16, 1, 1, "Available"))
    assert mapping.needs_publishing(mapping.disconnected(shown, now=NOW))


def test_boot_notifications_of_both_versions_fill_the_same_record() -> None:
    v16 = mapping.boot_v16(
        {"charge_point_vendor": "Alfen", "charge_point_model": "Eve", "charge_box_serial_number": "B1"},
        now=NOW,
    )
    v201 = mapping.boot_v201(
        {"vendor_name": "Alfen", "model": "Eve", "serial_number": "B1", "firmware_version": "7"},
        "PowerUp",
        now=NOW,
    )
    assert (v16.vendor, v16.model, v16.serial_number) == (v201.vendor, v201.model, v201.serial_number)
    assert (v201.firmware_version, v201.reason) == ("7", "PowerUp")
