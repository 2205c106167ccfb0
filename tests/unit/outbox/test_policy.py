"""The outbox retry policy (architecture decision 8, style §9): what an answer means, when to retry."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from hub.outbox.policy import (
    Outcome,
    RetryPolicy,
    backoff,
    classify,
    decide,
    next_attempt,
    superseded_by,
)
from hub.outbox.records import Attempt, Delivery, DeliveryState

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LOW, HIGH = (lambda: 0.0), (lambda: 0.999999)


@pytest.mark.parametrize(
    ("http_status", "ocpi_status", "error", "expected"),
    [
        # Delivered: 2xx with a success code, or 2xx without an envelope.
        (200, 1000, None, Outcome.DELIVERED),
        (201, 1000, None, Outcome.DELIVERED),
        (200, 1900, None, Outcome.DELIVERED),
        (200, None, None, Outcome.DELIVERED),
        (204, None, None, Outcome.DELIVERED),
        # Transient: no answer, server trouble, throttling, OCPI server errors, hub trouble downstream.
        (None, None, "ClientConnectorError: Cannot connect to host", Outcome.TRANSIENT),
        (None, None, "TimeoutError: no answer within 5.0 s", Outcome.TRANSIENT),
        (200, None, "ClientPayloadError: the body stopped half-way", Outcome.TRANSIENT),
        (None, None, None, Outcome.TRANSIENT),
        (500, None, None, Outcome.TRANSIENT),
        (502, 3000, None, Outcome.TRANSIENT),
        (503, None, None, Outcome.TRANSIENT),
        (429, None, None, Outcome.TRANSIENT),
        (200, 3000, None, Outcome.TRANSIENT),
        (200, 3001, None, Outcome.TRANSIENT),
        (200, 4000, None, Outcome.TRANSIENT),
        (200, 4002, None, Outcome.TRANSIENT),
        (200, 4003, None, Outcome.TRANSIENT),
        # Permanent: refused in a way retrying cannot fix.
        (400, None, None, Outcome.PERMANENT),
        (401, 2000, None, Outcome.PERMANENT),
        (403, None, None, Outcome.PERMANENT),
        (404, None, None, Outcome.PERMANENT),
        (405, None, None, Outcome.PERMANENT),
        (301, None, None, Outcome.PERMANENT),
        (307, None, None, Outcome.PERMANENT),
        (200, 2000, None, Outcome.PERMANENT),
        (200, 2001, None, Outcome.PERMANENT),
        (200, 2004, None, Outcome.PERMANENT),
        (200, 4001, None, Outcome.PERMANENT),
        (200, 0, None, Outcome.PERMANENT),
        (200, 5000, None, Outcome.PERMANENT),
        (100, None, None, Outcome.PERMANENT),
    ],
)
def test_an_answer_is_classified_as_the_spec_and_decision_8_say(
    http_status: int | None, ocpi_status: int | None, error: str | None, expected: Outcome
) -> None:
    assert classify(http_status, ocpi_status, error) is expected


@pytest.mark.parametrize(
    ("attempt_count", "low", "high"),
    [
        (1, 2, 2),
        (2, 2, 4),
        (3, 2, 8),
        (4, 2, 16),
        (5, 2, 32),
        (6, 2, 60),
        (7, 2, 60),
        (1000, 2, 60),
        (10**9, 2, 60),
    ],
)
def test_the_backoff_grows_exponentially_with_jitter_up_to_the_cap(
    attempt_count: int, low: float, high: float
) -> None:
    settings = {"first_delay": timedelta(seconds=2), "max_interval": timedelta(seconds=60)}
    assert backoff(attempt_count, rng=LOW, **settings) == timedelta(seconds=low)
    assert backoff(attempt_count, rng=HIGH, **settings) == pytest.approx(
        timedelta(seconds=high), abs=timedelta(milliseconds=1)
    )
    draws = [backoff(attempt_count, rng=random.Random(seed).random, **settings) for seed in range(50)]
    assert all(timedelta(seconds=low) <= d <= timedelta(seconds=high) for d in draws)
    if high > low:
        assert len(set(draws)) > 40  # the jitter spreads a crowd


def test_the_first_retry_comes_within_seconds_with_the_defaults() -> None:
    due = next_attempt(1, NOW, created_at=NOW, rng=HIGH)
    assert due is not None and NOW < due <= NOW + timedelta(seconds=2)


def test_no_retry_is_scheduled_past_the_horizon() -> None:
    created = NOW - timedelta(days=7) + timedelta(seconds=30)
    assert next_attempt(20, NOW, created_at=created, rng=LOW) == NOW + timedelta(seconds=2)
    assert next_attempt(20, NOW, created_at=created, rng=HIGH) is None
    policy = RetryPolicy(
        first_delay=timedelta(seconds=1), max_interval=timedelta(seconds=5), horizon=timedelta(seconds=10)
    )
    assert policy.next_attempt(1, NOW, created_at=NOW, rng=LOW) == NOW + timedelta(seconds=1)
    assert policy.next_attempt(1, NOW + timedelta(seconds=9), created_at=NOW, rng=LOW) == NOW + timedelta(
        seconds=10
    )
    assert policy.next_attempt(1, NOW + timedelta(seconds=10), created_at=NOW, rng=LOW) is None


def attempt(http_status: int | None, ocpi_status: int | None = None, error: str | None = None) -> Attempt:
    return Attempt(at=NOW, http_status=http_status, ocpi_status=ocpi_status, error=error, elapsed_ms=1.0)


def test_a_success_is_delivered() -> None:
    verdict = decide(attempt(200, 1000), attempt_count=1, created_at=NOW, now=NOW)
    assert (verdict.state, verdict.next_attempt_at, verdict.reason) == (DeliveryState.DELIVERED, None, None)


def test_a_refusal_is_a_dead_letter_with_the_reason() -> None:
    verdict = decide(attempt(200, 2001), attempt_count=1, created_at=NOW, now=NOW)
    assert verdict.state is DeliveryState.DEAD and verdict.next_attempt_at is None
    assert verdict.reason == "refused by the receiver: HTTP 200, OCPI 2001"
    assert (
        decide(attempt(400), attempt_count=1, created_at=NOW, now=NOW).reason
        == "refused by the receiver: HTTP 400"
    )


def test_transient_trouble_is_retried_counting_from_the_end_of_the_attempt() -> None:
    ended = NOW + timedelta(seconds=30)
    verdict = decide(attempt(None, error="TimeoutError"), attempt_count=1, created_at=NOW, now=ended, rng=LOW)
    assert verdict.outcome is Outcome.TRANSIENT
    assert (verdict.state, verdict.next_attempt_at) == (DeliveryState.PENDING, ended + timedelta(seconds=2))


def test_transient_trouble_past_the_horizon_is_a_dead_letter() -> None:
    created = NOW - timedelta(days=8)
    verdict = decide(attempt(503), attempt_count=9000, created_at=created, now=NOW, rng=LOW)
    assert verdict.state is DeliveryState.DEAD
    assert verdict.reason == "gave up after 9000 attempts in 7 d; last: HTTP 503"


def put(version: str | None, *, state: DeliveryState = DeliveryState.PENDING, **fields: object) -> Delivery:
    values: dict[str, object] = {
        "target_platform_id": "p-one",
        "to_country_code": "DE",
        "to_party_id": "MSP",
        "from_country_code": "NL",
        "from_party_id": "HUB",
        "method": "PUT",
        "url": "http://127.0.0.1:9/ocpi/2.2.1/hubclientinfo/NL/TNM",
        "module": "hubclientinfo",
        "object_key": "hubclientinfo|NL|TNM|CPO",
        "object_version": version,
        "state": state,
    }
    return Delivery.model_validate(values | fields)


def test_a_newer_pending_or_delivered_version_supersedes_an_older_put() -> None:
    old = put("2025-03-01T12:00:00Z")
    for state in (DeliveryState.PENDING, DeliveryState.DELIVERED):
        newer = put("2025-03-01T12:00:00.500Z", state=state)
        assert superseded_by(old, [old, newer]) == newer


@pytest.mark.parametrize(
    "other",
    [
        put("2025-03-01T12:00:00Z"),  # the same version
        put("2025-03-01T11:59:59.999Z"),  # an older one
        put("2025-03-01T13:00:00Z", state=DeliveryState.DEAD),  # newer, but it will never arrive
        put("2025-03-01T13:00:00Z", state=DeliveryState.SUPERSEDED),
        put("2025-03-01T13:00:00Z", target_platform_id="p-two"),  # another receiver
        put("2025-03-01T13:00:00Z", object_key="hubclientinfo|NL|TNM|EMSP"),  # another object
        put("2025-03-01T13:00:00Z", method="PATCH"),
        put(None),
        put("not a date"),
    ],
)
def test_other_deliveries_do_not_supersede(other: Delivery) -> None:
    assert superseded_by(put("2025-03-01T12:00:00Z"), [other]) is None


def test_patches_and_unversioned_deliveries_are_never_superseded() -> None:
    newer = put("2025-03-01T13:00:00Z")
    assert superseded_by(put("2025-03-01T12:00:00Z", method="PATCH"), [newer]) is None
    assert superseded_by(put(None), [newer]) is None
    assert superseded_by(put("2025-03-01T12:00:00Z", object_key=None), [newer]) is None
