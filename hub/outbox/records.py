"""An outbox record: one request the hub owes one receiver, and what happened each time it tried.

Written to the store before the sender is answered, so a crash between answering and delivering
loses nothing; the attempts list is what operators read instead of logs.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from hub.ocpi.types import utc_now


class DeliveryState(StrEnum):
    PENDING = "PENDING"  # to be attempted at next_attempt_at
    DELIVERED = "DELIVERED"
    DEAD = "DEAD"  # a dead letter: permanent failure, or retries ran out; an operator may re-drive it
    SUPERSEDED = "SUPERSEDED"  # a newer version of the same object for the same receiver replaced it


class Attempt(BaseModel):
    at: datetime
    http_status: int | None = None
    ocpi_status: int | None = None
    error: str | None = None
    elapsed_ms: float | None = None


def new_delivery_id() -> str:
    return "d-" + uuid.uuid4().hex


class Delivery(BaseModel):
    id: str = Field(default_factory=new_delivery_id)
    # Who receives it: the platform (whose token the hub presents) and the party (OCPI-to-*).
    target_platform_id: str
    to_country_code: str
    to_party_id: str
    # Whom it is from (OCPI-from-*): the hub itself for broadcasts and Hub Client Info.
    from_country_code: str
    from_party_id: str
    method: str
    url: str
    # The exact body bytes to send, as UTF-8 text (None for a request without a body).
    body: str | None = None
    # Headers of the request itself, beyond the ones every attempt sets (e.g. ``Hub-Signature``).
    headers: dict[str, str] = Field(default_factory=dict)
    # What the delivery carries, for coalescing: e.g. ``locations|NL|TNM|LOC1`` and its last_updated.
    module: str
    object_key: str | None = None
    object_version: str | None = None
    correlation_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    state: DeliveryState = DeliveryState.PENDING
    attempts: list[Attempt] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utc_now)
    next_attempt_at: datetime | None = Field(default_factory=utc_now)
    # Set while an attempt is under way (until the longest it can take): nobody else sends it meanwhile.
    claimed_until: datetime | None = None
    # Why it is DEAD or SUPERSEDED.
    reason: str | None = None
    # Bumped by the store at every write (compare-and-set, like platforms).
    revision: int = 0
