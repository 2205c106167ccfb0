"""A CDR the hub accepted for clearing: what was received, from whom, for whom, when, what the checks
said, and where its delivery stands. The document is kept exactly as delivered (RFC 8785 canonical
JSON), so the signature on the delivery can be checked against it at any time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from hub.ocpi.types import parse_datetime


class ClearingState(StrEnum):
    QUEUED = "QUEUED"  # accepted, its delivery to the eMSP is in the outbox
    HELD = "HELD"  # its checks failed and the hub holds failed CDRs for review (not delivered)
    DELIVERED = "DELIVERED"  # the eMSP took it
    DEAD = "DEAD"  # the eMSP refused it, or retries ran out (an operator may re-drive the delivery)


def cdr_key(country_code: str, party_id: str, cdr_id: str) -> str:
    """The case-insensitive key of a CDR: its owner and id, ``NL*TNM*CDR1``."""
    return f"{country_code.upper()}*{party_id.upper()}*{cdr_id.upper()}"


def digest(document: str) -> str:
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


class ClearedCdr(BaseModel):
    key: str
    country_code: str
    party_id: str
    cdr_id: str
    sender_platform_id: str
    receiver_country_code: str
    receiver_party_id: str
    receiver_platform_id: str
    received_at: datetime
    # The CDR as delivered: canonical JSON text, its SHA-256, and the hub's signature over it.
    document: str
    sha256: str
    signature: str
    kid: str
    # The checks' verdict (``hub.clearing.checks``) as JSON, and its status for quick filtering.
    verdict: dict[str, Any] = Field(default_factory=dict)
    verdict_status: str = "ok"
    state: ClearingState = ClearingState.QUEUED
    delivery_id: str | None = None
    credit: bool = False
    credit_reference_id: str | None = None
    # When the charging ended: settlement periods are cut by it.
    end_date_time: datetime
    revision: int = 0

    @property
    def receiver_key(self) -> str:
        return f"{self.receiver_country_code.upper()}*{self.receiver_party_id.upper()}"

    @property
    def owner_key(self) -> str:
        return f"{self.country_code.upper()}*{self.party_id.upper()}"

    def figures(self) -> CdrFigures:
        return CdrFigures.of(self.document)


@dataclass(frozen=True)
class Evidence:
    """The ledger entry that goes with a stored record: its kind, when, and its data made from the
    record as stored."""

    kind: str
    at: datetime
    data: Callable[[ClearedCdr], dict[str, Any]]


def _decimal(value: Any) -> Decimal:
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))


class CdrFigures(BaseModel):
    """What settlement adds up, read from the CDR text with exact decimals (never floats)."""

    currency: str
    energy_kwh: Decimal
    time_hours: Decimal
    parking_hours: Decimal
    total_excl_vat: Decimal
    total_incl_vat: Decimal
    incl_vat_given: bool
    credit: bool
    end_date_time: datetime

    @classmethod
    def of(cls, document: str) -> CdrFigures:
        cdr = json.loads(document, parse_float=Decimal, parse_int=Decimal)
        total = cdr.get("total_cost") or {}
        excl = _decimal(total.get("excl_vat"))
        incl_given = total.get("incl_vat") is not None
        return cls(
            currency=str(cdr.get("currency", "")),
            energy_kwh=_decimal(cdr.get("total_energy")),
            time_hours=_decimal(cdr.get("total_time")),
            parking_hours=_decimal(cdr.get("total_parking_time")),
            total_excl_vat=excl,
            total_incl_vat=_decimal(total.get("incl_vat")) if incl_given else excl,
            incl_vat_given=incl_given,
            credit=bool(cdr.get("credit", False)),
            end_date_time=parse_datetime(str(cdr["end_date_time"])),
        )
