"""The ``ocpp`` library's ``ChargePoint`` per protocol version: one instance per open connection.

Handlers only translate: keyword arguments in (snake_case, as the library hands them over), a call
to ``hub.ocpp.ingest`` and a CALLRESULT out. They take ``**kwargs`` so that optional fields and
``customData`` never break them. State lives in the store, not here: a reconnect makes a new object.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from logging import Logger
from typing import Any

from ocpp.exceptions import GenericError
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v16.enums import RegistrationStatus
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201
from ocpp.v201.enums import RegistrationStatusEnumType

from hub.ocpi.types import format_datetime, parse_datetime
from hub.ocpp import authorization, mapping
from hub.ocpp.ingest import Ingest, StationGone
from hub.ocpp.records import OCPP16, OCPP201
from hub.ocpp.transactions import UnknownTransaction

# Seconds between heartbeats the hub asks for in BootNotification; also what the station uses to
# notice a dead hub, so not much longer than a load balancer's idle timeout.
HEARTBEAT_INTERVAL = 300
# Actions whose schemas the hub uses (handled, answered or sent), by library version; loaded before
# the first station connects (``hub.ocpp.server``), since the library reads them from disk on first use.
SCHEMA_ACTIONS = {
    "1.6": (
        "Authorize",
        "BootNotification",
        "Heartbeat",
        "MeterValues",
        "StartTransaction",
        "StatusNotification",
        "StopTransaction",
        "TriggerMessage",
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "UnlockConnector",
        "ReserveNow",
        "CancelReservation",
        "SetChargingProfile",
        "GetCompositeSchedule",
        "ClearChargingProfile",
    ),
    "2.0.1": (
        "Authorize",
        "BootNotification",
        "Heartbeat",
        "StatusNotification",
        "TransactionEvent",
        "TriggerMessage",
        "RequestStartTransaction",
        "RequestStopTransaction",
        "UnlockConnector",
        "ReserveNow",
        "CancelReservation",
        "SetChargingProfile",
        "GetCompositeSchedule",
        "ClearChargingProfile",
    ),
}


@contextlib.contextmanager
def known_station() -> Iterator[None]:
    """A call from a station an operator removed meanwhile is answered with an OCPP GenericError."""
    try:
        yield
    except StationGone as error:
        raise GenericError(description=str(error)) from None


def _moment(timestamp: str | None) -> datetime | None:
    """A station's timestamp, or None when it sent none or one that cannot be read."""
    if not timestamp:
        return None
    try:
        return parse_datetime(timestamp)
    except ValueError:
        return None


async def booted(registering: Awaitable[object]) -> bool:
    """Whether the boot was recorded: False when the station is gone (the boot is then rejected)."""
    try:
        await registering
    except StationGone:
        return False
    return True


class HostedStation:
    """What both versions' classes add to the library's ``ChargePoint``: the ingest their handlers
    call and the hub's clock (placed first among the bases, so its ``__init__`` runs first)."""

    def __init__(
        self,
        station_id: str,
        connection: Any,
        ingest: Ingest,
        *,
        clock: Callable[[], datetime],
        response_timeout: float,
        logger: Logger,
    ) -> None:
        super().__init__(station_id, connection, response_timeout=response_timeout, logger=logger)  # type: ignore[call-arg]
        self._ingest = ingest
        self._clock = clock


class Station16(HostedStation, ChargePoint16):
    @on(Action16.boot_notification)
    async def on_boot_notification(self, **payload: Any) -> result16.BootNotification:
        now = self._clock()
        recorded = await booted(self._ingest.booted(self.id, mapping.boot_v16(payload, now=now)))
        status = RegistrationStatus.accepted if recorded else RegistrationStatus.rejected
        return result16.BootNotification(
            current_time=format_datetime(now), interval=HEARTBEAT_INTERVAL, status=status
        )

    @on(Action16.heartbeat)
    def on_heartbeat(self, **_: Any) -> result16.Heartbeat:
        return result16.Heartbeat(current_time=format_datetime(self._clock()))

    @on(Action16.status_notification)
    async def on_status_notification(
        self, connector_id: int, error_code: str, status: str, timestamp: str | None = None, **_: Any
    ) -> result16.StatusNotification:
        at = _moment(timestamp)
        with known_station():
            await self._ingest.status(
                self.id,
                OCPP16,
                evse=connector_id,
                connector=1,
                ocpp_status=status,
                error_code=error_code,
                at=at,
            )
        return result16.StatusNotification()

    @on(Action16.authorize)
    async def on_authorize(self, id_tag: str, **_: Any) -> result16.Authorize:
        token_type = authorization.token_type(OCPP16)
        with known_station():
            decision = await self._ingest.authorize(self.id, id_tag, token_type)
        return result16.Authorize(id_tag_info=authorization.id_tag_info(decision))

    @on(Action16.start_transaction)
    async def on_start_transaction(
        self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **_: Any
    ) -> result16.StartTransaction:
        with known_station():
            transaction_id, decision = await self._ingest.start_transaction(
                self.id, connector=connector_id, id_tag=id_tag, meter_start=meter_start, timestamp=timestamp
            )
        return result16.StartTransaction(
            transaction_id=transaction_id, id_tag_info=authorization.id_tag_info(decision)
        )

    @on(Action16.meter_values)
    async def on_meter_values(
        self,
        connector_id: int,
        meter_value: list[dict[str, Any]],
        transaction_id: int | None = None,
        **_: Any,
    ) -> result16.MeterValues:
        await self._ingest.meter_values(self.id, transaction_id, meter_value)
        return result16.MeterValues()

    @on(Action16.stop_transaction)
    async def on_stop_transaction(
        self,
        meter_stop: int,
        timestamp: str,
        transaction_id: int,
        transaction_data: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> result16.StopTransaction:
        # A transaction the hub never gave out is still acknowledged: the station must not resend it.
        with contextlib.suppress(UnknownTransaction):
            await self._ingest.stop_transaction(
                self.id,
                transaction_id,
                meter_stop=meter_stop,
                timestamp=timestamp,
                transaction_data=transaction_data or (),
            )
        return result16.StopTransaction()


class Station201(HostedStation, ChargePoint201):
    @on(Action201.boot_notification)
    async def on_boot_notification(
        self, charging_station: dict[str, Any], reason: str, **_: Any
    ) -> result201.BootNotification:
        now = self._clock()
        recorded = await booted(
            self._ingest.booted(self.id, mapping.boot_v201(charging_station, reason, now=now))
        )
        status = RegistrationStatusEnumType.accepted if recorded else RegistrationStatusEnumType.rejected
        return result201.BootNotification(
            current_time=format_datetime(now), interval=HEARTBEAT_INTERVAL, status=status
        )

    @on(Action201.heartbeat)
    def on_heartbeat(self, **_: Any) -> result201.Heartbeat:
        return result201.Heartbeat(current_time=format_datetime(self._clock()))

    @on(Action201.status_notification)
    async def on_status_notification(
        self, connector_status: str, evse_id: int, connector_id: int, **_: Any
    ) -> result201.StatusNotification:
        with known_station():
            await self._ingest.status(
                self.id,
                OCPP201,
                evse=evse_id,
                connector=connector_id,
                ocpp_status=connector_status,
                error_code=None,
            )
        return result201.StatusNotification()

    @on(Action201.authorize)
    async def on_authorize(self, id_token: dict[str, Any], **_: Any) -> result201.Authorize:
        ocpp_type = str(id_token.get("type", ""))
        token_type = authorization.token_type(OCPP201, ocpp_type)
        with known_station():
            decision = await self._ingest.authorize(self.id, str(id_token["id_token"]), token_type)
        return result201.Authorize(id_token_info=authorization.id_token_info(decision, ocpp_type))

    @on(Action201.transaction_event)
    async def on_transaction_event(self, **payload: Any) -> result201.TransactionEvent:
        with known_station():
            decision = await self._ingest.transaction_event(self.id, payload)
        if decision is None:
            return result201.TransactionEvent()
        ocpp_type = str((payload.get("id_token") or {}).get("type", ""))
        return result201.TransactionEvent(id_token_info=authorization.id_token_info(decision, ocpp_type))


CHARGE_POINTS: dict[str, type[Station16] | type[Station201]] = {OCPP16: Station16, OCPP201: Station201}
