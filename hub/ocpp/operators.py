"""What hub operators do to hosted CPOs and their stations, shared by the CLI."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog

from hub.ocpi.types import format_datetime
from hub.ocpp.hosted import hosted_cpo
from hub.ocpp.passwords import MAX_LENGTH, hash_password
from hub.ocpp.records import Station
from hub.ocpp.template import STATION_ID, TemplateError, check_template
from hub.operators import OperatorError
from hub.outbox.clientinfo import push_client_info
from hub.platforms import Platform, party_key
from hub.services import Services
from hub.store import Conflict, StaleWrite

log = structlog.get_logger(__name__)


async def add_cpo(services: Services, *, country_code: str, party_id: str, name: str) -> Platform:
    """Create a hosted CPO and tell every other party (Hub Client Info, through the outbox)."""
    try:
        platform = hosted_cpo(country_code, party_id, name, now=services.clock())
    except ValueError as error:
        raise OperatorError(str(error)) from None
    try:
        await services.store.platforms.add(platform)
    except Conflict:
        raise OperatorError(
            f"{party_key(country_code, party_id)} is a CPO held by another platform already"
        ) from None
    log.info("hosted_cpo_added", platform=platform.id, party=party_key(country_code, party_id))
    await push_client_info(services, platform)
    return platform


async def hosted_cpos(services: Services) -> list[Platform]:
    return [p for p in await services.store.platforms.all() if p.hosted]


async def find_cpo(services: Services, reference: str) -> Platform:
    """A hosted CPO by its party (``NL*ABC`` or ``NL-ABC``)."""
    separator = "*" if "*" in reference else "-"
    country_code, _, party_id = reference.partition(separator)
    found = [p for p in await services.store.platforms.by_party(country_code, party_id) if p.hosted]
    if not found:
        raise OperatorError(f"no hosted CPO {reference!r}; see 'cpos list'")
    return found[0]


async def add_station(
    services: Services,
    *,
    cpo: str,
    station_id: str,
    template: Any,
    password: str,
    location_id: str | None = None,
) -> Station:
    """Attach a station to a hosted CPO; it may connect at ``/ocpp/{station_id}`` from now on."""
    platform = await find_cpo(services, cpo)
    owner = platform.roles[0]
    if not STATION_ID.match(station_id):
        raise OperatorError(
            f"station id {station_id!r}: 1 to 48 characters of letters, digits, '.', '_', '*' or '-'"
        )
    if not password or len(password) > MAX_LENGTH:
        raise OperatorError(f"the password must have 1 to {MAX_LENGTH} characters")
    location_id = location_id or station_id
    try:
        checked = check_template(
            template,
            country_code=owner.country_code,
            party_id=owner.party_id,
            location_id=location_id,
            now=services.clock(),
        )
    except TemplateError as error:
        message = str(error)
        if location_id == station_id and message.startswith("location id"):
            message += "; give one with --location-id"
        raise OperatorError(message) from None
    station = Station(
        id=station_id,
        country_code=owner.country_code,
        party_id=owner.party_id,
        password_hash=await asyncio.to_thread(hash_password, password),
        location_id=location_id,
        template=checked,
        created_at=services.clock(),
    )
    try:
        await services.store.stations.add(station)
    except Conflict:
        raise OperatorError(
            f"station {station_id} or location {owner.party_key}*{location_id} exists already"
        ) from None
    log.info("station_added", station=station.id, cpo=owner.party_key)
    return station


async def set_station_password(services: Services, station_id: str, password: str) -> Station:
    """Give a station a new password; the old one stops working for new connections at once (an open
    connection stays up until the station reconnects)."""
    if not password or len(password) > MAX_LENGTH:
        raise OperatorError(f"the password must have 1 to {MAX_LENGTH} characters")
    password_hash = await asyncio.to_thread(hash_password, password)
    for _ in range(5):
        station = await services.store.stations.get(station_id)
        if station is None:
            raise OperatorError(f"no station {station_id!r}; see 'stations list'")
        try:
            stored = await services.store.stations.update(
                station.model_copy(update={"password_hash": password_hash})
            )
        except StaleWrite:
            continue  # the station reported something meanwhile
        log.info("station_password_changed", station=stored.id)
        return stored
    raise OperatorError(f"station {station_id} keeps changing; try again")


def describe_cpo(platform: Platform) -> dict[str, Any]:
    owner = platform.roles[0]
    return {
        "id": platform.id,
        "country_code": owner.country_code,
        "party_id": owner.party_id,
        "name": platform.name,
        "status": platform.status.value,
        "created_at": format_datetime(platform.created_at),
    }


def describe_station(station: Station) -> dict[str, Any]:
    """What an operator sees of a station: never its password, not even the hash."""
    boot = station.boot
    return {
        "id": station.id,
        "cpo": station.cpo_key,
        "location_id": station.location_id,
        "connected": station.connected,
        "protocol": station.protocol,
        "vendor": boot.vendor if boot else None,
        "model": boot.model if boot else None,
        "serial_number": boot.serial_number if boot else None,
        "firmware_version": boot.firmware_version if boot else None,
        "connectors": [
            {"evse": c.evse, "connector": c.connector, "ocpp_status": c.ocpp_status, "status": c.status.value}
            for c in station.connectors
        ],
        "created_at": format_datetime(station.created_at),
    }
