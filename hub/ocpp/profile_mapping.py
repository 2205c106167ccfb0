"""OCPI charging profiles as OCPP SetChargingProfile, GetCompositeSchedule and ClearChargingProfile,
and the station's answers as OCPI results (guide §9).

Pure. An OCPI profile is bound to the running transaction: a TxProfile at the hub's stack level,
with the hub's profile id for the session, so a new OCPI profile replaces the previous one. OCPP
takes at most one decimal in a rate: limits are truncated down (rounding up would exceed the ceiling
the eMSP asked for) and sent as floats. Not as ``Decimal``: the library checks a 1.6 profile by
dumping it with the plain JSON encoder, which refuses Decimals, and reads the floats back as
Decimals for the schema's ``multipleOf 0.1``; the float of a one-decimal Decimal prints with that
one decimal.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any

from ocpp.v16 import call as call16
from ocpp.v201 import call as call201
from ocpp.v201 import datatypes as types201

from hub.ocpi.types import format_datetime, parse_datetime
from hub.ocpi.v2_2_1.chargingprofiles import (
    ActiveChargingProfile,
    ChargingProfile,
    ChargingProfileResultType,
    ChargingRateUnit,
)
from hub.ocpp.command_mapping import status_text
from hub.ocpp.records import OCPP16, OCPP201

# The stack level of profiles set through OCPI: above a station's own defaults, one fixed level so a
# new OCPI profile of the session replaces the old one (same id, same level).
STACK_LEVEL = 1
_TENTH = Decimal("0.1")


def one_decimal(rate: Decimal) -> Decimal:
    """``rate`` truncated towards zero to one decimal: 16.05 → 16.0."""
    return rate.quantize(_TENTH, rounding=ROUND_DOWN)


def rate(value: Decimal) -> float:
    """A rate as OCPP gets it: truncated to one decimal, as a float."""
    return float(one_decimal(value))


def _schedule(profile: ChargingProfile) -> dict[str, Any]:
    """The 1.6 ChargingSchedule (2.0.1 adds an ``id``)."""
    schedule: dict[str, Any] = {
        "charging_rate_unit": profile.charging_rate_unit.value,
        "charging_schedule_period": [
            {"start_period": period.start_period, "limit": rate(period.limit)}
            for period in profile.charging_profile_period or []
        ],
    }
    if profile.duration is not None:
        schedule["duration"] = profile.duration
    if profile.start_date_time is not None:
        schedule["start_schedule"] = format_datetime(profile.start_date_time)
    if profile.min_charging_rate is not None:
        schedule["min_charging_rate"] = rate(profile.min_charging_rate)
    return schedule


def set_request(
    protocol: str | None,
    profile: ChargingProfile,
    *,
    profile_id: int,
    transaction_id: str,
    evse: int,
) -> Any:
    """SetChargingProfile for the running transaction ``transaction_id`` on ``evse`` (1.6: its
    connector). Absolute with a start time, Relative (to the start of charging) without."""
    kind = "Absolute" if profile.start_date_time is not None else "Relative"
    if protocol == OCPP16:
        return call16.SetChargingProfile(
            connector_id=evse,
            cs_charging_profiles={
                "charging_profile_id": profile_id,
                "transaction_id": int(transaction_id),
                "stack_level": STACK_LEVEL,
                "charging_profile_purpose": "TxProfile",
                "charging_profile_kind": kind,
                "charging_schedule": _schedule(profile),
            },
        )
    _known(protocol)
    schedule = _schedule(profile)
    # 2.0.1: a list of schedules, each with an id of its own (one schedule: the profile's id).
    charging_schedule = types201.ChargingScheduleType(
        id=profile_id,
        charging_rate_unit=schedule["charging_rate_unit"],
        charging_schedule_period=[
            types201.ChargingSchedulePeriodType(start_period=p["start_period"], limit=p["limit"])
            for p in schedule["charging_schedule_period"]
        ],
        start_schedule=schedule.get("start_schedule"),
        duration=schedule.get("duration"),
        min_charging_rate=schedule.get("min_charging_rate"),
    )
    return call201.SetChargingProfile(
        evse_id=evse,
        charging_profile=types201.ChargingProfileType(
            id=profile_id,
            stack_level=STACK_LEVEL,
            charging_profile_purpose="TxProfile",
            charging_profile_kind=kind,
            charging_schedule=[charging_schedule],
            transaction_id=transaction_id,
        ),
    )


def composite_request(
    protocol: str | None, *, evse: int, duration: int, unit: ChargingRateUnit | None
) -> Any:
    """GetCompositeSchedule of the session's EVSE (1.6: connector) for ``duration`` seconds."""
    if protocol == OCPP16:
        return call16.GetCompositeSchedule(
            connector_id=evse, duration=duration, charging_rate_unit=unit.value if unit else None
        )
    _known(protocol)
    return call201.GetCompositeSchedule(
        duration=duration, evse_id=evse, charging_rate_unit=unit.value if unit else None
    )


def clear_request(protocol: str | None, *, profile_id: int) -> Any:
    """ClearChargingProfile of the profile the hub set for the session."""
    if protocol == OCPP16:
        return call16.ClearChargingProfile(id=profile_id)
    _known(protocol)
    return call201.ClearChargingProfile(charging_profile_id=profile_id)


def _known(protocol: str | None) -> None:
    if protocol != OCPP201:
        raise ValueError(f"no OCPP version known for the station (got {protocol!r})")


# --- answers ---------------------------------------------------------------------------------------

_P = ChargingProfileResultType


def set_result(status: Any) -> ChargingProfileResultType:
    """Accepted → ACCEPTED; Rejected, 1.6 NotSupported and anything else → REJECTED."""
    return _P.ACCEPTED if status_text(status) == "Accepted" else _P.REJECTED


def clear_result(status: Any) -> ChargingProfileResultType:
    """Accepted → ACCEPTED; Unknown (no such profile on the station) → UNKNOWN."""
    return {"Accepted": _P.ACCEPTED, "Unknown": _P.UNKNOWN}.get(status_text(status), _P.REJECTED)


def active_profile(protocol: str | None, answer: Any, *, now: datetime) -> ActiveChargingProfile | None:
    """The ActiveChargingProfile a GetCompositeSchedule answer describes; None unless Accepted with
    a schedule. Offsets count from the schedule's start (``now`` when the station gives none)."""
    if status_text(answer.status) != "Accepted":
        return None
    if protocol == OCPP16:
        schedule: Mapping[str, Any] | None = answer.charging_schedule
        start_text = answer.schedule_start or (schedule or {}).get("start_schedule")
    else:
        schedule = answer.schedule
        start_text = (schedule or {}).get("schedule_start")
    if not schedule:
        return None
    start = parse_datetime(str(start_text)) if start_text else now
    document: dict[str, Any] = {
        "start_date_time": format_datetime(start),
        "charging_rate_unit": schedule["charging_rate_unit"],
        "charging_profile_period": [
            {"start_period": int(p["start_period"]), "limit": one_decimal(Decimal(str(p["limit"])))}
            for p in schedule.get("charging_schedule_period") or []
        ],
    }
    if schedule.get("duration") is not None:
        document["duration"] = int(schedule["duration"])
    if schedule.get("min_charging_rate") is not None:
        document["min_charging_rate"] = one_decimal(Decimal(str(schedule["min_charging_rate"])))
    return ActiveChargingProfile(
        start_date_time=start, charging_profile=ChargingProfile.model_validate(document)
    )
