"""Time to validate and re-serialise OCPI 2.2.1 objects from JSON bytes (parse_json → to_json).

Run as ``.venv/bin/python bench/models_bench.py``; prints the best of several runs in µs per operation for
a Location with 10 EVSEs x 2 connectors and a CDR with 50 charging periods.
"""

from __future__ import annotations

import json
import sys
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.ocpi.base import OcpiModel, parse_json
from hub.ocpi.v2_2_1.cdrs import CDR
from hub.ocpi.v2_2_1.locations import Location

REPEATS = 5
TARGET_SECONDS_PER_RUN = 0.2


def _connector(index: int) -> dict[str, Any]:
    return {
        "id": str(index + 1),
        "standard": "IEC_62196_T2" if index == 0 else "IEC_62196_T2_COMBO",
        "format": "SOCKET" if index == 0 else "CABLE",
        "power_type": "AC_3_PHASE" if index == 0 else "DC",
        "max_voltage": 230 if index == 0 else 920,
        "max_amperage": 32 if index == 0 else 200,
        "max_electric_power": 22000 if index == 0 else 150000,
        "tariff_ids": ["TARIFF-AC-REG", "TARIFF-DC-FAST"],
        "last_updated": "2024-02-11T09:30:00Z",
    }


def _evse(index: int) -> dict[str, Any]:
    return {
        "uid": f"EVSE-{index:04d}",
        "evse_id": f"NL*HBX*E{index:04d}*1",
        "status": "AVAILABLE",
        "capabilities": ["RFID_READER", "REMOTE_START_STOP_CAPABLE"],
        "connectors": [_connector(0), _connector(1)],
        "coordinates": {"latitude": "52.090701", "longitude": "5.121399"},
        "physical_reference": f"P-1 bay {index}",
        "parking_restrictions": ["EV_ONLY"],
        "last_updated": "2024-02-11T09:30:00.250Z",
    }


def location_bytes() -> bytes:
    location = {
        "country_code": "NL",
        "party_id": "HBX",
        "id": "LOC-UTR-0001",
        "publish": True,
        "name": "Parkeergarage Oudegracht",
        "address": "Oudegracht 101",
        "city": "Utrecht",
        "postal_code": "3511 AE",
        "country": "NLD",
        "coordinates": {"latitude": "52.090737", "longitude": "5.121420"},
        "parking_type": "PARKING_GARAGE",
        "evses": [_evse(index) for index in range(10)],
        "operator": {"name": "Hubex Charging", "website": "https://hubex.example"},
        "facilities": ["PARKING_LOT", "CAFE"],
        "time_zone": "Europe/Amsterdam",
        "opening_times": {"twentyfourseven": True},
        "energy_mix": {"is_green_energy": True, "supplier_name": "Windkracht Nederland"},
        "last_updated": "2024-02-12T14:02:11.250Z",
    }
    return json.dumps(location).encode()


def cdr_bytes() -> bytes:
    periods = [
        {
            "start_date_time": f"2024-02-12T{14 + minute // 60:02d}:{minute % 60:02d}:00Z",
            "dimensions": [
                {"type": "ENERGY", "volume": 0.5125},
                {"type": "MAX_POWER", "volume": 61.3},
                {"type": "TIME", "volume": 0.0333},
            ],
            "tariff_id": "TARIFF-DC-FAST",
        }
        for minute in range(0, 100, 2)
    ]
    cdr = {
        "country_code": "NL",
        "party_id": "HBX",
        "id": "CDR-2024-000731",
        "start_date_time": "2024-02-12T14:00:00Z",
        "end_date_time": "2024-02-12T15:40:00Z",
        "session_id": "SES-2024-000731",
        "cdr_token": {
            "country_code": "DE",
            "party_id": "EMS",
            "uid": "04A1B2C3D4E5F6",
            "type": "RFID",
            "contract_id": "DE-EMS-C00012345-7",
        },
        "auth_method": "WHITELIST",
        "cdr_location": {
            "id": "LOC-UTR-0001",
            "address": "Oudegracht 101",
            "city": "Utrecht",
            "country": "NLD",
            "coordinates": {"latitude": "52.090737", "longitude": "5.121420"},
            "evse_uid": "EVSE-0002",
            "evse_id": "NL*HBX*E0002*1",
            "connector_id": "2",
            "connector_standard": "IEC_62196_T2_COMBO",
            "connector_format": "CABLE",
            "connector_power_type": "DC",
        },
        "currency": "EUR",
        "charging_periods": periods,
        "total_cost": {"excl_vat": 12.81, "incl_vat": 15.5},
        "total_energy": 25.625,
        "total_time": 1.6667,
        "last_updated": "2024-02-12T15:40:05Z",
    }
    return json.dumps(cdr).encode()


def measure(model: type[OcpiModel], raw: bytes) -> dict[str, float]:
    parsed = parse_json(model, raw)
    steps: dict[str, Callable[[], object]] = {
        "parse_json": lambda: parse_json(model, raw),
        "to_json": parsed.to_json,
        "parse_json → to_json": lambda: parse_json(model, raw).to_json(),
    }
    results = {}
    for name, step in steps.items():
        timer = timeit.Timer(step)
        number, elapsed = timer.autorange()
        number = max(1, int(number * TARGET_SECONDS_PER_RUN / max(elapsed, 1e-9)))
        best = min(timer.repeat(repeat=REPEATS, number=number)) / number
        results[name] = best * 1e6
    return results


def main() -> None:
    cases = [
        ("Location, 10 EVSEs x 2 connectors", Location, location_bytes()),
        ("CDR, 50 charging periods", CDR, cdr_bytes()),
    ]
    print(f"best of {REPEATS} runs, µs per operation")
    for label, model, raw in cases:
        results = measure(model, raw)
        parts = ", ".join(f"{name}: {micros:,.1f} µs" for name, micros in results.items())
        print(f"{label} ({len(raw):,} bytes): {parts}")


if __name__ == "__main__":
    main()
