"""Our own OCPI 2.2.1 sample objects (tests/fixtures/ocpi) and where each model finds one.

The fixtures are written in canonical form (times as ``…Z`` with 0 or 3 decimals, integral numbers
without ``.0``), so a parse followed by ``to_json()`` must give them back unchanged.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hub.ocpi.base import OcpiModel
from hub.ocpi.v2_2_1 import cdrs, commands, common, locations, sessions, tariffs, tokens
from hub.ocpi.v2_2_1 import chargingprofiles as cp
from hub.ocpi.v2_2_1.cdrs import (
    CDR,
    CdrDimension,
    CdrLocation,
    CdrToken,
    ChargingPeriod,
    SignedData,
    SignedValue,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ocpi"

Path_ = tuple[str | int, ...]


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def dig(data: Any, path: Path_) -> Any:
    for part in path:
        data = data[part]
    return data


def with_change(data: Any, path: Path_, value: Any) -> Any:
    """A deep copy of ``data`` with the field at ``path`` set to ``value`` (or removed if DELETE)."""
    changed = copy.deepcopy(data)
    parent = dig(changed, path[:-1])
    if value is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return changed


DELETE = object()

# Top-level objects: (model, fixture).
OBJECTS: list[tuple[type[OcpiModel], str]] = [
    (locations.Location, "location.json"),
    (sessions.Session, "session.json"),
    (sessions.ChargingPreferences, "charging_preferences.json"),
    (CDR, "cdr.json"),
    (CDR, "credit_cdr.json"),
    (CDR, "reservation_cdr.json"),
    (tariffs.Tariff, "tariff.json"),
    (tokens.Token, "token.json"),
    (tokens.AuthorizationInfo, "authorization_info.json"),
    (tokens.LocationReferences, "location_references.json"),
    (commands.CancelReservation, "command_cancel_reservation.json"),
    (commands.ReserveNow, "command_reserve_now.json"),
    (commands.StartSession, "command_start_session.json"),
    (commands.StopSession, "command_stop_session.json"),
    (commands.UnlockConnector, "command_unlock_connector.json"),
    (commands.CommandResponse, "command_response.json"),
    (commands.CommandResult, "command_result.json"),
    (cp.SetChargingProfile, "set_charging_profile.json"),
    (cp.ChargingProfileResponse, "charging_profile_response.json"),
    (cp.ActiveChargingProfile, "active_charging_profile.json"),
    (cp.ActiveChargingProfileResult, "active_charging_profile_result.json"),
    (cp.ChargingProfileResult, "charging_profile_result.json"),
    (cp.ClearProfileResult, "clear_profile_result.json"),
]

# Inner classes: (model, fixture, path of one instance inside it).
CLASSES: list[tuple[type[OcpiModel], str, Path_]] = [
    (locations.EVSE, "location.json", ("evses", 0)),
    (locations.EVSE, "location.json", ("evses", 1)),
    (locations.Connector, "location.json", ("evses", 0, "connectors", 0)),
    (locations.Connector, "location.json", ("evses", 0, "connectors", 1)),
    (locations.PublishTokenType, "location.json", ("publish_allowed_to", 0)),
    (locations.PublishTokenType, "location.json", ("publish_allowed_to", 1)),
    (locations.PublishTokenType, "location.json", ("publish_allowed_to", 2)),
    (locations.StatusSchedule, "location.json", ("evses", 0, "status_schedule", 0)),
    (locations.Hours, "location.json", ("opening_times",)),
    (locations.RegularHours, "location.json", ("opening_times", "regular_hours", 0)),
    (locations.ExceptionalPeriod, "location.json", ("opening_times", "exceptional_openings", 0)),
    (common.GeoLocation, "location.json", ("coordinates",)),
    (common.AdditionalGeoLocation, "location.json", ("related_locations", 0)),
    (common.DisplayText, "location.json", ("directions", 0)),
    (common.BusinessDetails, "location.json", ("operator",)),
    (common.Image, "location.json", ("operator", "logo")),
    (common.EnergyMix, "location.json", ("energy_mix",)),
    (common.EnergySource, "location.json", ("energy_mix", "energy_sources", 0)),
    (common.EnvironmentalImpact, "location.json", ("energy_mix", "environ_impact", 0)),
    (common.Price, "cdr.json", ("total_cost",)),
    (common.Price, "cdr.json", ("total_time_cost",)),
    (CdrToken, "cdr.json", ("cdr_token",)),
    (CdrLocation, "cdr.json", ("cdr_location",)),
    (ChargingPeriod, "cdr.json", ("charging_periods", 0)),
    (ChargingPeriod, "session.json", ("charging_periods", 1)),
    (CdrDimension, "cdr.json", ("charging_periods", 0, "dimensions", 0)),
    (SignedData, "cdr.json", ("signed_data",)),
    (SignedValue, "cdr.json", ("signed_data", "signed_values", 0)),
    (tariffs.Tariff, "cdr.json", ("tariffs", 0)),
    (tariffs.TariffElement, "tariff.json", ("elements", 1)),
    (tariffs.PriceComponent, "tariff.json", ("elements", 0, "price_components", 0)),
    (tariffs.TariffRestrictions, "tariff.json", ("elements", 1, "restrictions")),
    (tokens.EnergyContract, "token.json", ("energy_contract",)),
    (tokens.LocationReferences, "authorization_info.json", ("location",)),
    (tokens.Token, "command_start_session.json", ("token",)),
    (cp.ChargingProfile, "set_charging_profile.json", ("charging_profile",)),
    (
        cp.ChargingProfilePeriod,
        "set_charging_profile.json",
        ("charging_profile", "charging_profile_period", 1),
    ),
]

# Every module whose models this suite covers.
MODULES = [common, locations, sessions, cdrs, tariffs, tokens, commands, cp]
