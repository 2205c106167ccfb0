"""From what a station says over OCPP to the OCPI Location its hosted CPO publishes.

Pure: no sockets, no store. The station record (``hub.ocpp.records``) is changed by value and the
Location is built from it and the operator's template (``hub.ocpp.template``). Status tables follow
the ingest guide §4: an OCPI status exists only per EVSE, so connector statuses are read into OCPI
terms when they arrive and aggregated per EVSE when the Location is built.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from hub.ocpi.types import format_datetime
from hub.ocpi.v2_2_1.locations import Status
from hub.ocpp.records import OCPP16, BootInfo, ConnectorState, Station
from hub.ocpp.template import connector_fields, evse_fields, evse_uid, location_document

# OCPP 1.6 ChargePointStatus (guide §4.1). Everything between plug-in and unplug keeps the EVSE from
# the next driver, so it reads CHARGING; Unavailable is out of service on purpose, Faulted is broken.
V16_STATUS: Mapping[str, Status] = {
    "Available": Status.AVAILABLE,
    "Preparing": Status.CHARGING,
    "Charging": Status.CHARGING,
    "SuspendedEV": Status.CHARGING,
    "SuspendedEVSE": Status.CHARGING,
    "Finishing": Status.CHARGING,
    "Reserved": Status.RESERVED,
    "Unavailable": Status.INOPERATIVE,
    "Faulted": Status.OUTOFORDER,
}
# OCPP 2.0.1 ConnectorStatusEnumType (guide §4.2): Occupied covers plugged-in, charging, suspended
# and finishing alike.
V201_STATUS: Mapping[str, Status] = {
    "Available": Status.AVAILABLE,
    "Occupied": Status.CHARGING,
    "Reserved": Status.RESERVED,
    "Unavailable": Status.INOPERATIVE,
    "Faulted": Status.OUTOFORDER,
}
# Several connectors in one EVSE (guide §4.3): the first of these any connector is in wins.
_PRECEDENCE = (Status.CHARGING, Status.RESERVED, Status.AVAILABLE, Status.INOPERATIVE, Status.OUTOFORDER)
# 1.6 connectorId 0 speaks for the whole station; only these two statuses override the connectors.
_STATION_WIDE = {"Unavailable": Status.INOPERATIVE, "Faulted": Status.OUTOFORDER}

# 1.6 statuses that start (True) or end (False) a charging period of the connector's transaction
# (guide §5.2); the others say nothing about it.
CHARGING_16 = {"Charging": True, "SuspendedEV": False, "SuspendedEVSE": False, "Finishing": False}


def ocpi_status(protocol: str, ocpp_status: str) -> Status:
    """The OCPI reading of one connector's OCPP status; UNKNOWN for a value the table lacks."""
    table = V16_STATUS if protocol == OCPP16 else V201_STATUS
    return table.get(ocpp_status, Status.UNKNOWN)


def evse_status(connectors: Iterable[Status]) -> Status:
    """One EVSE's status from its connectors' (in use beats reserved beats free beats out of service)."""
    present = set(connectors)
    return next((status for status in _PRECEDENCE if status in present), Status.UNKNOWN)


# --- changes to the station record -------------------------------------------------------------------


def boot_v16(payload: Mapping[str, Any], *, now: datetime) -> BootInfo:
    """A 1.6 BootNotification (snake_case keyword arguments, as the library hands them over)."""
    return BootInfo(
        vendor=str(payload["charge_point_vendor"]),
        model=str(payload["charge_point_model"]),
        serial_number=payload.get("charge_point_serial_number") or payload.get("charge_box_serial_number"),
        firmware_version=payload.get("firmware_version"),
        meter_serial_number=payload.get("meter_serial_number"),
        booted_at=now,
    )


def boot_v201(charging_station: Mapping[str, Any], reason: str, *, now: datetime) -> BootInfo:
    """A 2.0.1 BootNotification: ``chargingStation`` and ``reason``."""
    return BootInfo(
        vendor=str(charging_station["vendor_name"]),
        model=str(charging_station["model"]),
        serial_number=charging_station.get("serial_number"),
        firmware_version=charging_station.get("firmware_version"),
        reason=reason,
        booted_at=now,
    )


def connected(station: Station, protocol: str, *, now: datetime) -> Station:
    """The station after a websocket connection opened with ``protocol``.

    Statuses reported under another protocol are dropped: 1.6 numbers connectors where 2.0.1
    numbers EVSEs, so they would name other EVSEs (a station's firmware upgrade does this).
    """
    changed = station.model_copy(deep=True)
    if changed.protocol != protocol:
        changed.connectors = []
        changed.station_status = None
    changed.protocol = protocol
    changed.connected = True
    changed.connected_at = now
    return changed


def disconnected(station: Station, *, now: datetime) -> Station:
    changed = station.model_copy(deep=True)
    changed.connected = False
    changed.disconnected_at = now
    return changed


def booted(station: Station, boot: BootInfo) -> Station:
    changed = station.model_copy(deep=True)
    changed.boot = boot
    return changed


def status_reported(
    station: Station,
    protocol: str,
    *,
    evse: int,
    connector: int,
    ocpp_status: str,
    error_code: str | None,
    now: datetime,
) -> Station:
    """The station after a StatusNotification: 1.6 ``connectorId`` N is ``evse`` N, ``connector`` 1;
    1.6 ``connectorId`` 0 is the whole station (``evse`` 0)."""
    changed = station.model_copy(deep=True)
    if protocol == OCPP16 and evse == 0:
        changed.station_status = _STATION_WIDE.get(ocpp_status)
        return changed
    state = ConnectorState(
        evse=evse,
        connector=connector,
        ocpp_status=ocpp_status,
        status=ocpi_status(protocol, ocpp_status),
        error_code=error_code,
        received_at=now,
    )
    changed.connectors = sorted(
        [c for c in changed.connectors if (c.evse, c.connector) != (evse, connector)] + [state],
        key=lambda c: (c.evse, c.connector),
    )
    return changed


def needs_publishing(station: Station) -> bool:
    """Whether eMSPs would see something new: an EVSE status differs from the last published ones.

    A status that reads the same in OCPI (1.6 Preparing → Charging) publishes nothing: a natural
    debounce for the bursts 1.6 stations send.
    """
    shown = {str(number): status for number, status in evse_statuses(station).items()}
    return bool(shown) and shown != station.published_statuses


def published(station: Station, *, now: datetime) -> Station:
    """The station as its next Location shows it, stamped ``now`` but always after the previous
    one, so receivers and the mirror never take the new Location for a stale one."""
    changed = station.model_copy(deep=True)
    moment = now
    if station.published_at is not None and moment <= station.published_at:
        moment = station.published_at + timedelta(milliseconds=1)
    changed.published_at = moment
    changed.published_statuses = {str(n): status for n, status in evse_statuses(station).items()}
    return changed


# --- the Location ----------------------------------------------------------------------------------------


def evse_statuses(station: Station) -> dict[int, Status]:
    """The OCPI status of each EVSE the station reported on: UNKNOWN while it is not connected
    (guide §4.4), the station-wide status if 1.6 connector 0 put the station out of service."""
    numbers = sorted({c.evse for c in station.connectors})
    if not station.connected:
        return dict.fromkeys(numbers, Status.UNKNOWN)
    if station.station_status is not None:
        return dict.fromkeys(numbers, station.station_status)
    return {n: evse_status(c.status for c in station.connectors if c.evse == n) for n in numbers}


def location(station: Station) -> dict[str, Any]:
    """The OCPI Location of the station, stamped with ``station.published_at``.

    EVSEs appear once the station reported a status for them (OCPP says nothing of EVSEs before),
    each with the connectors it reported on; the Location is published whole, so every part carries
    the moment of publishing.
    """
    assert station.published_at is not None, "stamp the station with published() first"
    stamp = format_datetime(station.published_at)
    evses = [
        {
            **evse_fields(station.template, number),
            "uid": evse_uid(station.location_id, number),
            "status": status.value,
            "connectors": [
                {
                    **connector_fields(station.template, number, c.connector),
                    "id": str(c.connector),
                    "last_updated": stamp,
                }
                for c in station.connectors
                if c.evse == number
            ],
            "last_updated": stamp,
        }
        for number, status in evse_statuses(station).items()
    ]
    return location_document(
        station.template,
        country_code=station.country_code,
        party_id=station.party_id,
        location_id=station.location_id,
        evses=evses,
        last_updated=station.published_at,
    )
