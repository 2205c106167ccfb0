"""The CDR of an OCPP transaction of a hosted station (ingest guide §6), handed to clearing.

``build_cdr`` is pure: the CDR is made from what the hub stored of the transaction (its start, final
register reading and ``last_updated``), the mirrored Location and the hosted CPO's tariff, so building
it twice gives the same document, and clearing (idempotent by CDR id) takes it once. Its id is the
Session id. The Session's charging periods (``hub.ocpp.sessions.charging_periods``: ENERGY and TIME
while charging, PARKING_TIME otherwise) priced with the CPO's tariff
(``hub.ocpp.tariffs.pick_tariff``) by ``hub.clearing.pricing.recompute_cost``; the totals are rounded
to the currency's minor unit. A CPO without a tariff gets a CDR with total_cost 0 (and a warning in
the log). Signed meter values (guide §10) become ``signed_data``, each record as the station sent it
(``hub.ocpp.signed``); the Session's ``auth_method`` and ``authorization_reference`` are copied.

``issue_cdr`` is the shell: it finds the Location, the tariff, the hosted CPO and the token's eMSP,
and gives the CDR to ``CdrIntake.accept`` (checked, signed, stored, ledgered, queued with its
``Hub-Signature``). A token no eMSP pushed, or an eMSP without a cdrs RECEIVER endpoint, gets no CDR.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import structlog
from pydantic import ValidationError

from hub.cdr_intake import CdrIntake
from hub.clearing.cost import json_number
from hub.clearing.money import Amount
from hub.clearing.pricing import PricingError, recompute_cost
from hub.errors import HubError
from hub.ocpi.types import format_datetime
from hub.ocpi.v2_2_1.cdrs import CDR
from hub.ocpi.v2_2_1.versions import InterfaceRole, ModuleID
from hub.ocpp import sessions, signed
from hub.ocpp.sessions import Transaction
from hub.ocpp.tariffs import cpo_tariffs, pick_tariff
from hub.ocpp.template import evse_uid
from hub.routing.table import PartyRef
from hub.services import Services

log = structlog.get_logger(__name__)

_HOURS = Decimal("0.000001")


class CdrError(ValueError):
    """The CDR cannot be built; the message says why."""


def _price(amount: Amount, currency: str) -> dict[str, int | float]:
    rounded = amount.rounded(currency)
    return {"excl_vat": json_number(rounded.excl_vat), "incl_vat": json_number(rounded.incl_vat)}


def _cdr_location(location: Mapping[str, Any], uid: str, connector_id: str = "1") -> dict[str, Any]:
    evse = next((e for e in location.get("evses") or [] if e.get("uid") == uid), None)
    if evse is None:
        raise CdrError(f"the Location {location.get('id')} has no EVSE {uid}")
    connectors = evse.get("connectors") or []
    connector = next(
        (c for c in connectors if c.get("id") == connector_id), connectors[0] if connectors else None
    )
    if connector is None:
        raise CdrError(f"the EVSE {uid} has no connector")
    found = {
        "id": location["id"],
        "name": location.get("name"),
        "address": location.get("address"),
        "city": location.get("city"),
        "postal_code": location.get("postal_code"),
        "state": location.get("state"),
        "country": location.get("country"),
        "coordinates": location.get("coordinates"),
        "evse_uid": uid,
        "evse_id": evse.get("evse_id") or uid,
        "connector_id": connector.get("id"),
        "connector_standard": connector.get("standard"),
        "connector_format": connector.get("format"),
        "connector_power_type": connector.get("power_type"),
    }
    return {k: v for k, v in found.items() if v is not None}


def build_cdr(
    transaction: Transaction,
    *,
    end: datetime,
    location: Mapping[str, Any],
    tariff: Mapping[str, Any] | None,
    time_zone: tzinfo = UTC,
) -> dict[str, Any]:
    """The CDR of a stopped transaction (``sessions.stopped`` gave ``transaction``: its register is
    the stop reading, its ``last_updated`` the Session's last change); ``CdrError`` or
    ``PricingError`` when it cannot be made. ``time_zone`` is the Location's (tariff restrictions are
    in local time)."""
    if transaction.token is None:
        raise CdrError(f"the id tag of session {transaction.session_id} belongs to no known eMSP")
    energy = sessions.kwh(transaction, transaction.register_wh)
    hours = (Decimal(max((end - transaction.started_at).total_seconds(), 0)) / 3600).quantize(_HOURS)
    periods = sessions.charging_periods(transaction, transaction.register_wh, end)
    currency = str(tariff["currency"]) if tariff is not None else transaction.currency
    if tariff is not None:
        for period in periods:
            period["tariff_id"] = tariff["id"]
    stamp = transaction.last_updated or end
    document: dict[str, Any] = {
        "country_code": transaction.country_code,
        "party_id": transaction.party_id,
        "id": transaction.session_id,
        "start_date_time": format_datetime(transaction.started_at),
        "end_date_time": format_datetime(end),
        "session_id": transaction.session_id,
        "cdr_token": sessions.cdr_token(transaction.token, transaction.id_tag),
        "auth_method": transaction.auth_method,
        "cdr_location": _cdr_location(
            location, evse_uid(transaction.location_id, transaction.evse), transaction.connector_id
        ),
        "currency": currency,
        "charging_periods": periods,
        "total_cost": {"excl_vat": 0, "incl_vat": 0},
        "total_energy": json_number(energy),
        "total_time": json_number(hours),
        "last_updated": format_datetime(stamp),
    }
    parking = sessions.parking_hours(transaction, end)
    if parking:
        document["total_parking_time"] = json_number(parking)
    if transaction.authorization_reference is not None:
        document["authorization_reference"] = transaction.authorization_reference
    evidence = signed.signed_data(transaction.signed)
    if evidence is not None:
        document["signed_data"] = evidence
    if tariff is None:
        return document
    document["tariffs"] = [dict(tariff)]
    cost = recompute_cost(document, time_zone=time_zone)
    document["total_cost"] = _price(cost.total, currency)
    document["total_energy_cost"] = _price(cost.energy, currency)
    document["total_time_cost"] = _price(cost.time, currency)
    if cost.parking.excl_vat:
        document["total_parking_cost"] = _price(cost.parking, currency)
    if cost.fixed.excl_vat:
        document["total_fixed_cost"] = _price(cost.fixed, currency)
    return document


async def issue_cdr(
    services: Services,
    deliver: Callable[[Sequence[str]], Awaitable[None]],
    transaction: Transaction,
    *,
    end: datetime,
) -> str | None:
    """Build the transaction's CDR and take it into clearing; its clearing key, or None (logged)."""
    store = services.store
    emsp = transaction.emsp
    if emsp is None:
        log.warning("cdr_emsp_missing", session=transaction.session_id)
        return None
    receivers = await store.platforms.by_party(*emsp)
    receiver_platform = next(
        (
            p
            for p in receivers
            if p.registered
            and not p.hosted
            and p.endpoint(ModuleID.CDRS.value, InterfaceRole.RECEIVER.value) is not None
        ),
        None,
    )
    owners = await store.platforms.by_party(transaction.country_code, transaction.party_id)
    sender = next((p for p in owners if p.hosted), None)
    record = await store.mirror.get(
        ModuleID.LOCATIONS.value, transaction.country_code, transaction.party_id, transaction.location_id
    )
    if receiver_platform is None or sender is None or record is None:
        log.warning(
            "cdr_not_issued",
            session=transaction.session_id,
            receiver=receiver_platform is not None,
            cpo=sender is not None,
            location=record is not None,
        )
        return None
    tariff = pick_tariff(await cpo_tariffs(services, transaction.country_code, transaction.party_id))
    if tariff is None:
        log.warning("cdr_without_tariff", session=transaction.session_id, cpo=sender.id)
    try:
        document = build_cdr(
            transaction,
            end=end,
            location=record.document,
            tariff=tariff,
            time_zone=await _zone(record.document.get("time_zone")),
        )
        body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
        cdr = CDR.model_validate(document)
        cleared = await CdrIntake(services, deliver).accept(
            body,
            cdr,
            sender=sender,
            origin=PartyRef(transaction.country_code, transaction.party_id),
            receiver=PartyRef(*emsp),
            receiver_platform=receiver_platform,
            correlation_id=str(uuid.uuid4()),
        )
    except (CdrError, PricingError, ValidationError, HubError) as error:
        log.error("cdr_failed", session=transaction.session_id, error=str(error))
        return None
    log.info("cdr_issued", cdr=cleared.key, verdict=cleared.verdict_status)
    return cleared.key


async def _zone(name: Any) -> tzinfo:
    """The Location's time zone, read off the event loop (the zone database is files); UTC without."""
    if not isinstance(name, str) or not name:
        return UTC
    try:
        return await asyncio.to_thread(ZoneInfo, name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC
