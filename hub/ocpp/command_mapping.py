"""OCPI commands as OCPP calls, and the station's answers as OCPI CommandResults (guide §8).

Pure. Each request function returns the ``ocpp.v16.call`` or ``ocpp.v201.call`` dataclass for the
station's protocol (``Station.protocol``); ``command_result`` and ``failure_result`` read what came
back. The hub's own numbers (remote start, reservation) and the 1.6 idTag are chosen by the caller
(``hub.ocpp.ocpp_ids``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ocpp.exceptions import NotImplementedError as OcppNotImplemented
from ocpp.exceptions import NotSupportedError
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201
from ocpp.v201 import datatypes as types201

from hub.ocpi.types import format_datetime
from hub.ocpi.v2_2_1.commands import CommandResultType, CommandType
from hub.ocpi.v2_2_1.locations import Status
from hub.ocpp.records import OCPP16, OCPP201

# --- requests --------------------------------------------------------------------------------------

# OCPI TokenType → 2.0.1 IdTokenEnumType for tokens the hub sends (guide §7.3).
ID_TOKEN_TYPES = {
    "RFID": "ISO14443",
    "APP_USER": "Central",
    "AD_HOC_USER": "Local",
    "OTHER": "Central",
}


class UnknownProtocol(ValueError):
    """The station has not said which OCPP version it speaks (it never connected)."""


def _check(protocol: str | None) -> str:
    if protocol not in (OCPP16, OCPP201):
        raise UnknownProtocol(f"no OCPP version known for the station (got {protocol!r})")
    return protocol


def id_token(token: Mapping[str, Any]) -> types201.IdTokenType:
    """The 2.0.1 ``IdTokenType`` of an OCPI Token."""
    return types201.IdTokenType(
        id_token=str(token["uid"]), type=ID_TOKEN_TYPES.get(str(token.get("type")), "Central")
    )


def group_id_token(token: Mapping[str, Any]) -> types201.IdTokenType | None:
    group = token.get("group_id")
    return types201.IdTokenType(id_token=str(group), type="Central") if group else None


def start_request(
    protocol: str | None,
    *,
    token: Mapping[str, Any],
    id_tag: str,
    evse: int | None,
    remote_start_id: int,
) -> Any:
    """START_SESSION: 1.6 RemoteStartTransaction (``id_tag``, at most 20 characters) or 2.0.1
    RequestStartTransaction (the token itself and the hub's ``remote_start_id``)."""
    if _check(protocol) == OCPP16:
        return call16.RemoteStartTransaction(id_tag=id_tag, connector_id=evse)
    return call201.RequestStartTransaction(
        id_token=id_token(token),
        remote_start_id=remote_start_id,
        evse_id=evse,
        group_id_token=group_id_token(token),
    )


def stop_request(protocol: str | None, transaction_id: str) -> Any:
    """STOP_SESSION: 1.6 transaction ids are the hub's integers, 2.0.1 ids the station's strings."""
    if _check(protocol) == OCPP16:
        return call16.RemoteStopTransaction(transaction_id=int(transaction_id))
    return call201.RequestStopTransaction(transaction_id=transaction_id)


def unlock_request(protocol: str | None, *, evse: int, connector: int) -> Any:
    """UNLOCK_CONNECTOR: a 1.6 connector is the EVSE (``hub.ocpp.records.ConnectorState``)."""
    if _check(protocol) == OCPP16:
        return call16.UnlockConnector(connector_id=evse)
    return call201.UnlockConnector(evse_id=evse, connector_id=connector)


def reserve_request(
    protocol: str | None,
    *,
    reservation_id: int,
    expiry: datetime,
    token: Mapping[str, Any],
    id_tag: str,
    parent_id_tag: str | None,
    evse: int | None,
) -> Any:
    """RESERVE_NOW with the hub's ``reservation_id``. 1.6 needs a connector (0: any, which the
    caller only asks for when it cannot pick one); 2.0.1 leaves ``evseId`` out for any EVSE."""
    if _check(protocol) == OCPP16:
        return call16.ReserveNow(
            connector_id=evse or 0,
            expiry_date=format_datetime(expiry),
            id_tag=id_tag,
            reservation_id=reservation_id,
            parent_id_tag=parent_id_tag,
        )
    return call201.ReserveNow(
        id=reservation_id,
        expiry_date_time=format_datetime(expiry),
        id_token=id_token(token),
        evse_id=evse,
        group_id_token=group_id_token(token),
    )


def cancel_request(protocol: str | None, reservation_id: int) -> Any:
    if _check(protocol) == OCPP16:
        return call16.CancelReservation(reservation_id=reservation_id)
    return call201.CancelReservation(reservation_id=reservation_id)


# --- answers ---------------------------------------------------------------------------------------

_R = CommandResultType
# OCPP status → CommandResult, per command; both versions share the status words (guide §8.1-§8.5).
_RESULTS: dict[CommandType, dict[str, CommandResultType]] = {
    CommandType.START_SESSION: {"Accepted": _R.ACCEPTED, "Rejected": _R.REJECTED},
    CommandType.STOP_SESSION: {"Accepted": _R.ACCEPTED, "Rejected": _R.REJECTED},
    CommandType.UNLOCK_CONNECTOR: {
        "Unlocked": _R.ACCEPTED,
        "UnlockFailed": _R.FAILED,
        "NotSupported": _R.NOT_SUPPORTED,  # 1.6
        "OngoingAuthorizedTransaction": _R.EVSE_OCCUPIED,  # 2.0.1
        "UnknownConnector": _R.REJECTED,  # 2.0.1
    },
    CommandType.RESERVE_NOW: {
        "Accepted": _R.ACCEPTED,
        "Occupied": _R.EVSE_OCCUPIED,
        "Faulted": _R.EVSE_INOPERATIVE,
        "Unavailable": _R.EVSE_INOPERATIVE,
        "Rejected": _R.REJECTED,
    },
    CommandType.CANCEL_RESERVATION: {"Accepted": _R.ACCEPTED, "Rejected": _R.UNKNOWN_RESERVATION},
}
# The last known EVSE status that explains a refused remote start.
_BUSY = frozenset({Status.CHARGING, Status.BLOCKED, Status.RESERVED})
_DOWN = frozenset({Status.INOPERATIVE, Status.OUTOFORDER})


def status_text(status: Any) -> str:
    """An OCPP status as its wire word, whether the library handed over an enum or a string."""
    return str(getattr(status, "value", status))


def command_result(
    command: CommandType, status: Any, *, evse_status: Status | None = None
) -> CommandResultType:
    """The CommandResult for the station's ``status``; a start the station refused reads as
    EVSE_OCCUPIED or EVSE_INOPERATIVE when the EVSE's last known status explains it. A status word
    the table does not know is FAILED."""
    result = _RESULTS[command].get(status_text(status), _R.FAILED)
    if command is CommandType.START_SESSION and result is _R.REJECTED:
        if evse_status in _BUSY:
            return _R.EVSE_OCCUPIED
        if evse_status in _DOWN:
            return _R.EVSE_INOPERATIVE
    return result


def failure_result(error: BaseException) -> CommandResultType:
    """The CommandResult when the call got no answer: no answer in time is TIMEOUT, a station that
    does not know the action NOT_SUPPORTED, any other CALLERROR or a lost connection FAILED."""
    if isinstance(error, TimeoutError):
        return _R.TIMEOUT
    if isinstance(error, OcppNotImplemented | NotSupportedError):
        return _R.NOT_SUPPORTED
    return _R.FAILED
