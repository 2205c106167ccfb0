"""OCPI 2.2.1 objects for the tests and benchmarks, built to measure (own data, valid by our models)."""

from __future__ import annotations

from typing import Any


def connector(connector_id: str, last_updated: str) -> dict[str, Any]:
    return {
        "id": connector_id,
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "max_voltage": 230,
        "max_amperage": 32,
        "max_electric_power": 22000,
        "tariff_ids": ["AC-1"],
        "last_updated": last_updated,
    }


def evse(uid: str, last_updated: str, *, connectors: int = 2, status: str = "AVAILABLE") -> dict[str, Any]:
    return {
        "uid": uid,
        "evse_id": f"NL*CPO*E{uid}",
        "status": status,
        "capabilities": ["RFID_READER", "REMOTE_START_STOP_CAPABLE"],
        "connectors": [connector(str(i + 1), last_updated) for i in range(connectors)],
        "coordinates": {"latitude": "52.090737", "longitude": "5.121420"},
        "physical_reference": "1",
        "parking_restrictions": ["EV_ONLY"],
        "last_updated": last_updated,
    }


def location(
    country_code: str = "NL",
    party_id: str = "CPO",
    location_id: str = "LOC1",
    *,
    last_updated: str = "2025-01-01T10:00:00Z",
    evses: int = 2,
    publish: bool = True,
    publish_allowed_to: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "country_code": country_code,
        "party_id": party_id,
        "id": location_id,
        "publish": publish,
        "name": f"Station {location_id}",
        "address": "Oudegracht 101",
        "city": "Utrecht",
        "postal_code": "3511 AE",
        "country": "NLD",
        "coordinates": {"latitude": "52.090737", "longitude": "5.121420"},
        "parking_type": "PARKING_GARAGE",
        "evses": [evse(f"{location_id}-E{i + 1}", last_updated) for i in range(evses)],
        "operator": {"name": "Test CPO", "website": "https://cpo.example.com"},
        "time_zone": "Europe/Amsterdam",
        "opening_times": {"twentyfourseven": True},
        "charging_when_closed": True,
        "energy_mix": {"is_green_energy": True},
        "last_updated": last_updated,
    }
    if publish_allowed_to is not None:
        document["publish_allowed_to"] = publish_allowed_to
    document.update(extra)
    return document


def token(
    country_code: str = "DE",
    party_id: str = "MSP",
    uid: str = "TOKEN1",
    *,
    token_type: str = "RFID",
    valid: bool = True,
    last_updated: str = "2025-01-01T10:00:00Z",
) -> dict[str, Any]:
    return {
        "country_code": country_code,
        "party_id": party_id,
        "uid": uid,
        "type": token_type,
        "contract_id": f"{country_code}-{party_id}-C{uid}",
        "issuer": "Test eMSP",
        "valid": valid,
        "whitelist": "ALLOWED",
        "last_updated": last_updated,
    }


def cdr_token(country_code: str = "DE", party_id: str = "MSP", uid: str = "TOKEN1") -> dict[str, Any]:
    return {
        "country_code": country_code,
        "party_id": party_id,
        "uid": uid,
        "type": "RFID",
        "contract_id": f"{country_code}-{party_id}-C{uid}",
    }


def session(
    country_code: str = "NL",
    party_id: str = "CPO",
    session_id: str = "S1",
    *,
    emsp: tuple[str, str] = ("DE", "MSP"),
    last_updated: str = "2025-01-01T10:00:00Z",
) -> dict[str, Any]:
    return {
        "country_code": country_code,
        "party_id": party_id,
        "id": session_id,
        "start_date_time": "2025-01-01T09:00:00Z",
        "kwh": 0,
        "cdr_token": cdr_token(*emsp),
        "auth_method": "WHITELIST",
        "location_id": "LOC1",
        "evse_uid": "LOC1-E1",
        "connector_id": "1",
        "currency": "EUR",
        "status": "ACTIVE",
        "last_updated": last_updated,
    }


def cdr(
    country_code: str = "NL",
    party_id: str = "CPO",
    cdr_id: str = "CDR1",
    *,
    emsp: tuple[str, str] = ("DE", "MSP"),
    last_updated: str = "2025-01-01T11:00:00Z",
) -> dict[str, Any]:
    return {
        "country_code": country_code,
        "party_id": party_id,
        "id": cdr_id,
        "start_date_time": "2025-01-01T09:00:00Z",
        "end_date_time": "2025-01-01T10:00:00Z",
        "cdr_token": cdr_token(*emsp),
        "auth_method": "WHITELIST",
        "cdr_location": {
            "id": "LOC1",
            "address": "Oudegracht 101",
            "city": "Utrecht",
            "postal_code": "3511 AE",
            "country": "NLD",
            "coordinates": {"latitude": "52.090737", "longitude": "5.121420"},
            "evse_uid": "LOC1-E1",
            "evse_id": "NL*CPO*ELOC1-E1",
            "connector_id": "1",
            "connector_standard": "IEC_62196_T2",
            "connector_format": "SOCKET",
            "connector_power_type": "AC_3_PHASE",
        },
        "currency": "EUR",
        "charging_periods": [
            {"start_date_time": "2025-01-01T09:00:00Z", "dimensions": [{"type": "ENERGY", "volume": 10}]}
        ],
        "total_cost": {"excl_vat": 3.5, "incl_vat": 4.24},
        "total_energy": 10,
        "total_time": 1,
        "last_updated": last_updated,
    }


def tariff(
    country_code: str = "NL",
    party_id: str = "CPO",
    tariff_id: str = "AC-1",
    *,
    last_updated: str = "2025-01-01T10:00:00Z",
) -> dict[str, Any]:
    return {
        "country_code": country_code,
        "party_id": party_id,
        "id": tariff_id,
        "currency": "EUR",
        "elements": [{"price_components": [{"type": "ENERGY", "price": 0.35, "vat": 21, "step_size": 1}]}],
        "last_updated": last_updated,
    }
