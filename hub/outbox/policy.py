"""What an outbox attempt's outcome means, and what happens next (architecture decision 8).

Pure: no I/O, no clock, no global randomness. ``hub.outbox.deliver`` feeds it what the receiver
answered; this module says whether that was a delivery, trouble worth retrying, or a refusal that
retrying cannot fix, and when to try again.

    DELIVERED   HTTP 2xx with OCPI 1xxx, or 2xx without an envelope (many receivers answer
                pushes with an empty body)
    TRANSIENT   no answer (connection refused, reset, timeout), HTTP 5xx or 429, OCPI 3xxx,
                OCPI 4xxx other than 4001 (a hub behind the receiver had trouble)
    PERMANENT   HTTP 3xx (redirects are not followed with a token attached), HTTP 4xx but 429,
                OCPI 2xxx, OCPI 4001 (unknown receiver), any status OCPI does not define
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from hub.ocpi.types import parse_datetime
from hub.outbox.records import Attempt, Delivery, DeliveryState

DEFAULT_FIRST_DELAY = timedelta(seconds=2)
DEFAULT_MAX_INTERVAL = timedelta(seconds=60)
DEFAULT_HORIZON = timedelta(days=7)

Random = Callable[[], float]
"""A source of floats in [0, 1), such as ``random.random`` or ``random.Random(seed).random``."""


class Outcome(StrEnum):
    DELIVERED = "DELIVERED"
    TRANSIENT = "TRANSIENT"
    PERMANENT = "PERMANENT"


def classify(http_status: int | None, ocpi_status: int | None, error: str | None) -> Outcome:
    """What one attempt's answer means for the delivery.

    ``error`` is a transport failure (connection, timeout, a body that stopped half-way): the
    request may or may not have arrived, so it is retried; receivers are idempotent by object id.
    ``ocpi_status`` is the envelope's ``status_code``, None when the answer had no envelope.
    """
    if error is not None or http_status is None:
        return Outcome.TRANSIENT
    if http_status == 429 or http_status >= 500:
        return Outcome.TRANSIENT
    if not 200 <= http_status < 300:
        return Outcome.PERMANENT
    if ocpi_status is None or 1000 <= ocpi_status < 2000:
        return Outcome.DELIVERED
    if 3000 <= ocpi_status < 4000:
        return Outcome.TRANSIENT
    if 4000 <= ocpi_status < 5000 and ocpi_status != 4001:
        return Outcome.TRANSIENT
    return Outcome.PERMANENT


def describe(http_status: int | None, ocpi_status: int | None, error: str | None) -> str:
    """A short human account of an answer, for the delivery's ``reason``."""
    if error is not None:
        return error
    if http_status is None:
        return "no answer"
    text = f"HTTP {http_status}"
    if ocpi_status is not None:
        text += f", OCPI {ocpi_status}"
    return text


@dataclass(frozen=True)
class RetryPolicy:
    """How patiently the outbox retries: exponential backoff with jitter, up to a horizon.

    The first retry comes ``first_delay`` after the first failure; the ceiling doubles with every
    further failure up to ``max_interval``; the delay is drawn uniformly between ``first_delay`` and
    that ceiling (full jitter above a floor, so a crowd of deliveries to one receiver that came back
    spreads out, and none spins). No retry is scheduled past ``created_at + horizon``.
    """

    first_delay: timedelta = DEFAULT_FIRST_DELAY
    max_interval: timedelta = DEFAULT_MAX_INTERVAL
    horizon: timedelta = DEFAULT_HORIZON

    def next_attempt(
        self, attempt_count: int, now: datetime, *, created_at: datetime, rng: Random = random.random
    ) -> datetime | None:
        return next_attempt(
            attempt_count,
            now,
            first_delay=self.first_delay,
            max_interval=self.max_interval,
            horizon=self.horizon,
            created_at=created_at,
            rng=rng,
        )


DEFAULT_POLICY = RetryPolicy()


def backoff(attempt_count: int, *, first_delay: timedelta, max_interval: timedelta, rng: Random) -> timedelta:
    """The wait after ``attempt_count`` failed attempts (1 for the first failure)."""
    # Past 2**32 the ceiling is max_interval anyway; the cap keeps timedelta from overflowing.
    exponent = min(max(attempt_count - 1, 0), 32)
    ceiling = min(max_interval, first_delay * (1 << exponent))
    floor = min(first_delay, ceiling)
    return floor + (ceiling - floor) * rng()


def next_attempt(
    attempt_count: int,
    now: datetime,
    *,
    first_delay: timedelta = DEFAULT_FIRST_DELAY,
    max_interval: timedelta = DEFAULT_MAX_INTERVAL,
    horizon: timedelta = DEFAULT_HORIZON,
    created_at: datetime,
    rng: Random = random.random,
) -> datetime | None:
    """When to try again after ``attempt_count`` attempts failed, or None: retries ran out (DEAD)."""
    due = now + backoff(attempt_count, first_delay=first_delay, max_interval=max_interval, rng=rng)
    if due > created_at + horizon:
        return None
    return due


@dataclass(frozen=True)
class Verdict:
    """Where a delivery stands after an attempt."""

    outcome: Outcome
    state: DeliveryState
    next_attempt_at: datetime | None = None
    reason: str | None = None


def decide(
    attempt: Attempt,
    *,
    attempt_count: int,
    created_at: datetime,
    now: datetime,
    policy: RetryPolicy = DEFAULT_POLICY,
    rng: Random = random.random,
) -> Verdict:
    """The state a delivery moves to after ``attempt``, its ``attempt_count``-th, which ended ``now``.

    The backoff counts from when the attempt ended, not when it started: an attempt that waited out
    a long timeout is not retried at once.
    """
    outcome = classify(attempt.http_status, attempt.ocpi_status, attempt.error)
    account = describe(attempt.http_status, attempt.ocpi_status, attempt.error)
    if outcome is Outcome.DELIVERED:
        return Verdict(outcome, DeliveryState.DELIVERED)
    if outcome is Outcome.PERMANENT:
        return Verdict(outcome, DeliveryState.DEAD, reason=f"refused by the receiver: {account}")
    due = policy.next_attempt(attempt_count, now, created_at=created_at, rng=rng)
    if due is None:
        return Verdict(
            outcome,
            DeliveryState.DEAD,
            reason=f"gave up after {attempt_count} attempts in {_duration(policy.horizon)}; last: {account}",
        )
    return Verdict(outcome, DeliveryState.PENDING, next_attempt_at=due)


def _duration(span: timedelta) -> str:
    seconds = span.total_seconds()
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"


def _version_moment(version: str) -> datetime | None:
    try:
        return parse_datetime(version)
    except ValueError:
        return None


def superseded_by(delivery: Delivery, others: Iterable[Delivery]) -> Delivery | None:
    """A newer version of the same object for the same receiver that makes ``delivery`` moot.

    Decision 8: an older version is never delivered after a newer one. Only full replacements
    (PUT) are superseded; a PATCH carries part of an object and must not be dropped. Versions are
    OCPI DateTimes (``last_updated``), compared as moments, not as text.
    """
    if delivery.method.upper() != "PUT" or delivery.object_key is None or delivery.object_version is None:
        return None
    mine = _version_moment(delivery.object_version)
    if mine is None:
        return None
    for other in others:
        if (
            other.id == delivery.id
            or other.method.upper() != "PUT"
            or other.target_platform_id != delivery.target_platform_id
            or other.object_key != delivery.object_key
            or other.object_version is None
            or other.state not in (DeliveryState.PENDING, DeliveryState.DELIVERED)
        ):
            continue
        theirs = _version_moment(other.object_version)
        if theirs is not None and theirs > mine:
            return other
    return None
