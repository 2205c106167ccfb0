"""OCPI 2.2.1 commands module: the five requests, the CPO's answer and the async result (digest §14)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import model_validator

from hub.ocpi.base import OcpiModel
from hub.ocpi.types import CiString36, OcpiDateTime, Url
from hub.ocpi.v2_2_1.common import DisplayText, StrictInt, rule_broken
from hub.ocpi.v2_2_1.tokens import Token

# --- Enums (digest §14.3) ---


class CommandType(StrEnum):
    """OCPI 2.2.1, mod_commands, 'CommandType enum'."""

    CANCEL_RESERVATION = "CANCEL_RESERVATION"
    RESERVE_NOW = "RESERVE_NOW"
    START_SESSION = "START_SESSION"
    STOP_SESSION = "STOP_SESSION"
    UNLOCK_CONNECTOR = "UNLOCK_CONNECTOR"


class CommandResponseType(StrEnum):
    """OCPI 2.2.1, mod_commands, 'CommandResponseType enum'."""

    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    ACCEPTED = "ACCEPTED"
    UNKNOWN_SESSION = "UNKNOWN_SESSION"


class CommandResultType(StrEnum):
    """OCPI 2.2.1, mod_commands, 'CommandResultType enum'."""

    ACCEPTED = "ACCEPTED"
    CANCELED_RESERVATION = "CANCELED_RESERVATION"
    EVSE_OCCUPIED = "EVSE_OCCUPIED"
    EVSE_INOPERATIVE = "EVSE_INOPERATIVE"
    FAILED = "FAILED"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    TIMEOUT = "TIMEOUT"
    UNKNOWN_RESERVATION = "UNKNOWN_RESERVATION"


# --- Request objects (digest §14.2), one per CommandType ---


class CancelReservation(OcpiModel):
    """OCPI 2.2.1, mod_commands, 'CancelReservation object'."""

    response_url: Url
    reservation_id: CiString36


class ReserveNow(OcpiModel):
    """OCPI 2.2.1, mod_commands, 'ReserveNow object'."""

    response_url: Url
    token: Token
    expiry_date: OcpiDateTime
    reservation_id: CiString36
    location_id: CiString36
    evse_uid: CiString36 | None = None
    authorization_reference: CiString36 | None = None


class StartSession(OcpiModel):
    """OCPI 2.2.1, mod_commands, 'StartSession object'."""

    response_url: Url
    token: Token
    location_id: CiString36
    evse_uid: CiString36 | None = None
    connector_id: CiString36 | None = None
    authorization_reference: CiString36 | None = None

    @model_validator(mode="after")
    def _connector_needs_evse(self) -> StartSession:
        if self.connector_id is not None and self.evse_uid is None:
            raise rule_broken("is required when connector_id is set", "evse_uid")
        return self


class StopSession(OcpiModel):
    """OCPI 2.2.1, mod_commands, 'StopSession object'."""

    response_url: Url
    session_id: CiString36


class UnlockConnector(OcpiModel):
    """OCPI 2.2.1, mod_commands, 'UnlockConnector object'."""

    response_url: Url
    location_id: CiString36
    evse_uid: CiString36
    connector_id: CiString36


# The body model of ``POST {commands_endpoint_url}/{command}``.
COMMAND_REQUESTS: dict[CommandType, type[OcpiModel]] = {
    CommandType.CANCEL_RESERVATION: CancelReservation,
    CommandType.RESERVE_NOW: ReserveNow,
    CommandType.START_SESSION: StartSession,
    CommandType.STOP_SESSION: StopSession,
    CommandType.UNLOCK_CONNECTOR: UnlockConnector,
}

# --- Answers (digest §14.2) ---


class CommandResponse(OcpiModel):
    """OCPI 2.2.1, mod_commands, 'CommandResponse object'."""

    result: CommandResponseType
    timeout: StrictInt
    message: list[DisplayText] | None = None


class CommandResult(OcpiModel):
    """OCPI 2.2.1, mod_commands, 'CommandResult object'."""

    result: CommandResultType
    message: list[DisplayText] | None = None
