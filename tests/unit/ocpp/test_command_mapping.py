"""OCPI commands as OCPP calls and the station's answers as CommandResults (guide §8), as tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from ocpp.exceptions import GenericError, InternalError, NotSupportedError
from ocpp.exceptions import NotImplementedError as OcppNotImplemented
from ocpp.v16 import call as call16
from ocpp.v16.enums import RemoteStartStopStatus
from ocpp.v201 import call as call201
from ocpp.v201 import datatypes as types201

from hub.ocpi.v2_2_1.commands import CommandResultType as R
from hub.ocpi.v2_2_1.commands import CommandType as C
from hub.ocpi.v2_2_1.locations import Status
from hub.ocpp import command_mapping, ocpp_ids
from hub.ocpp.command_mapping import UnknownProtocol
from hub.ocpp.connection import StationDisconnected
from hub.ocpp.records import OCPP16, OCPP201, Station
from tests.support import objects

TOKEN = objects.token(uid="TOKEN1", token_type="APP_USER") | {"group_id": "GROUP1"}


@pytest.mark.parametrize(
    ("protocol", "evse", "expected"),
    [
        (OCPP16, 2, call16.RemoteStartTransaction(id_tag="TAG", connector_id=2)),
        (OCPP16, None, call16.RemoteStartTransaction(id_tag="TAG")),
        (
            OCPP201,
            2,
            call201.RequestStartTransaction(
                id_token=types201.IdTokenType(id_token="TOKEN1", type="Central"),
                remote_start_id=7,
                evse_id=2,
                group_id_token=types201.IdTokenType(id_token="GROUP1", type="Central"),
            ),
        ),
    ],
)
def test_start_session(protocol: str, evse: int | None, expected: Any) -> None:
    request = command_mapping.start_request(protocol, token=TOKEN, id_tag="TAG", evse=evse, remote_start_id=7)
    assert request == expected


@pytest.mark.parametrize(
    ("token_type", "id_token_type"),
    [("RFID", "ISO14443"), ("APP_USER", "Central"), ("AD_HOC_USER", "Local"), ("OTHER", "Central")],
)
def test_token_types_for_201(token_type: str, id_token_type: str) -> None:
    assert command_mapping.id_token(objects.token(token_type=token_type)).type == id_token_type


@pytest.mark.parametrize(
    ("protocol", "expected"),
    [
        (OCPP16, call16.RemoteStopTransaction(transaction_id=123)),
        (OCPP201, call201.RequestStopTransaction(transaction_id="123")),
    ],
)
def test_stop_session(protocol: str, expected: Any) -> None:
    assert command_mapping.stop_request(protocol, "123") == expected


@pytest.mark.parametrize(
    ("protocol", "expected"),
    [
        (OCPP16, call16.UnlockConnector(connector_id=3)),
        (OCPP201, call201.UnlockConnector(evse_id=3, connector_id=2)),
    ],
)
def test_unlock_connector(protocol: str, expected: Any) -> None:
    assert command_mapping.unlock_request(protocol, evse=3, connector=2) == expected


EXPIRY = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("protocol", "evse", "expected"),
    [
        (
            OCPP16,
            2,
            call16.ReserveNow(
                connector_id=2,
                expiry_date="2026-01-01T12:00:00Z",
                id_tag="TAG",
                reservation_id=9,
                parent_id_tag="PARENT",
            ),
        ),
        (
            OCPP16,
            None,
            call16.ReserveNow(
                connector_id=0,
                expiry_date="2026-01-01T12:00:00Z",
                id_tag="TAG",
                reservation_id=9,
                parent_id_tag="PARENT",
            ),
        ),
        (
            OCPP201,
            None,
            call201.ReserveNow(
                id=9,
                expiry_date_time="2026-01-01T12:00:00Z",
                id_token=types201.IdTokenType(id_token="TOKEN1", type="Central"),
                group_id_token=types201.IdTokenType(id_token="GROUP1", type="Central"),
            ),
        ),
    ],
)
def test_reserve_now(protocol: str, evse: int | None, expected: Any) -> None:
    request = command_mapping.reserve_request(
        protocol,
        reservation_id=9,
        expiry=EXPIRY,
        token=TOKEN,
        id_tag="TAG",
        parent_id_tag="PARENT",
        evse=evse,
    )
    assert request == expected


@pytest.mark.parametrize(
    ("protocol", "expected"),
    [
        (OCPP16, call16.CancelReservation(reservation_id=9)),
        (OCPP201, call201.CancelReservation(reservation_id=9)),
    ],
)
def test_cancel_reservation(protocol: str, expected: Any) -> None:
    assert command_mapping.cancel_request(protocol, 9) == expected


def test_a_station_that_never_said_its_protocol_gets_no_request() -> None:
    with pytest.raises(UnknownProtocol):
        command_mapping.cancel_request(None, 9)


@pytest.mark.parametrize(
    ("command", "status", "evse_status", "result"),
    [
        (C.START_SESSION, "Accepted", Status.CHARGING, R.ACCEPTED),
        (C.START_SESSION, RemoteStartStopStatus.accepted, None, R.ACCEPTED),  # an enum reads alike
        (C.START_SESSION, "Rejected", Status.CHARGING, R.EVSE_OCCUPIED),
        (C.START_SESSION, "Rejected", Status.RESERVED, R.EVSE_OCCUPIED),
        (C.START_SESSION, "Rejected", Status.BLOCKED, R.EVSE_OCCUPIED),
        (C.START_SESSION, "Rejected", Status.OUTOFORDER, R.EVSE_INOPERATIVE),
        (C.START_SESSION, "Rejected", Status.INOPERATIVE, R.EVSE_INOPERATIVE),
        (C.START_SESSION, "Rejected", Status.AVAILABLE, R.REJECTED),
        (C.START_SESSION, "Rejected", None, R.REJECTED),
        (C.STOP_SESSION, "Accepted", None, R.ACCEPTED),
        (C.STOP_SESSION, "Rejected", Status.CHARGING, R.REJECTED),
        (C.UNLOCK_CONNECTOR, "Unlocked", None, R.ACCEPTED),
        (C.UNLOCK_CONNECTOR, "UnlockFailed", None, R.FAILED),
        (C.UNLOCK_CONNECTOR, "NotSupported", None, R.NOT_SUPPORTED),
        (C.UNLOCK_CONNECTOR, "OngoingAuthorizedTransaction", None, R.EVSE_OCCUPIED),
        (C.UNLOCK_CONNECTOR, "UnknownConnector", None, R.REJECTED),
        (C.RESERVE_NOW, "Accepted", None, R.ACCEPTED),
        (C.RESERVE_NOW, "Occupied", None, R.EVSE_OCCUPIED),
        (C.RESERVE_NOW, "Faulted", None, R.EVSE_INOPERATIVE),
        (C.RESERVE_NOW, "Unavailable", None, R.EVSE_INOPERATIVE),
        (C.RESERVE_NOW, "Rejected", None, R.REJECTED),
        (C.CANCEL_RESERVATION, "Accepted", None, R.ACCEPTED),
        (C.CANCEL_RESERVATION, "Rejected", None, R.UNKNOWN_RESERVATION),
        (C.CANCEL_RESERVATION, "SomethingNew", None, R.FAILED),
    ],
)
def test_command_results(command: C, status: Any, evse_status: Status | None, result: R) -> None:
    assert command_mapping.command_result(command, status, evse_status=evse_status) is result


@pytest.mark.parametrize(
    ("error", "result"),
    [
        (TimeoutError(), R.TIMEOUT),
        (OcppNotImplemented(), R.NOT_SUPPORTED),
        (NotSupportedError(), R.NOT_SUPPORTED),
        (GenericError(), R.FAILED),
        (InternalError(), R.FAILED),
        (StationDisconnected("gone"), R.FAILED),
    ],
)
def test_failures(error: BaseException, result: R) -> None:
    assert command_mapping.failure_result(error) is result


# --- hub-allocated ids ------------------------------------------------------------------------------


def station() -> Station:
    return Station(
        id="CS001",
        country_code="NL",
        party_id="ABC",
        password_hash="x",
        location_id="CS001",
        template={},
    )


def test_the_same_reservation_of_the_same_emsp_keeps_its_number() -> None:
    first, number = ocpp_ids.reservation_id(station(), ocpp_ids.reservation_key("DE", "MSP", "res-1"))
    assert first is not None and number == 1
    again, same = ocpp_ids.reservation_id(first, ocpp_ids.reservation_key("de", "msp", "RES-1"))
    assert (again, same) == (None, 1)
    other_emsp, other = ocpp_ids.reservation_id(first, ocpp_ids.reservation_key("FR", "EMP", "RES-1"))
    assert other_emsp is not None and other == 2


def test_numbers_are_never_reused_across_kinds() -> None:
    with_reservation, reservation = ocpp_ids.reservation_id(station(), "DE*MSP*R")
    assert with_reservation is not None
    with_profile, profile = ocpp_ids.profile_id(with_reservation, "SESSION-1")
    assert with_profile is not None
    _, remote_start = ocpp_ids.next_id(with_profile)
    assert len({reservation, profile, remote_start}) == 3


@pytest.mark.parametrize(
    ("uid", "short"),
    [("TOKEN1", True), ("A" * 20, True), ("A" * 21, False), ("B" * 36, False)],
)
def test_id_tags_fit_in_20_characters(uid: str, short: bool) -> None:
    tag = ocpp_ids.id_tag("DE", "MSP", uid)
    assert len(tag) <= 20
    assert (tag == uid) is short
    assert tag == ocpp_ids.id_tag("de", "msp", uid)  # the same alias every time
    if not short:
        assert tag != ocpp_ids.id_tag("FR", "EMP", uid)
