"""Liveness decisions: who is checked, what counts as a sign of life, and when the status changes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from hub.liveness import SEEN_REFRESH, Checked, LivenessReport, assess, judge, watched
from hub.ocpi.envelope import envelope
from hub.ocpi.v2_2_1.hubclientinfo import ConnectionStatus
from hub.platforms import Platform

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(hours=1)
CONNECTED, OFFLINE = ConnectionStatus.CONNECTED, ConnectionStatus.OFFLINE
THRESHOLD = 3


def platform(
    status: ConnectionStatus = CONNECTED,
    *,
    failures: int = 0,
    last_seen_at: datetime | None = EARLIER,
    registered: bool = True,
    versions_url: str | None = "http://party/ocpi/versions",
    outgoing_token: str | None = "sealed",
) -> Platform:
    return Platform(
        id="p-one",
        name="one",
        status=status,
        registered=registered,
        versions_url=versions_url,
        outgoing_token=outgoing_token,
        liveness_failures=failures,
        liveness_error="HTTP 503" if failures else None,
        last_seen_at=last_seen_at,
        status_changed_at=EARLIER,
    )


def after(before: Platform, problem: str | None) -> Platform | None:
    return judge(before, problem, threshold=THRESHOLD, now=NOW)


@pytest.mark.parametrize(
    ("candidate", "checked"),
    [
        (platform(CONNECTED), True),
        (platform(OFFLINE, failures=7), True),
        (platform(ConnectionStatus.SUSPENDED), False),
        (platform(ConnectionStatus.PLANNED), False),
        (platform(CONNECTED, registered=False), False),  # unregistered: nothing to call it with
        (platform(CONNECTED, versions_url=None), False),
        (platform(CONNECTED, outgoing_token=None), False),
    ],
)
def test_only_registered_connected_or_offline_platforms_are_checked(
    candidate: Platform, checked: bool
) -> None:
    assert watched(candidate) is checked


@pytest.mark.parametrize(
    ("status", "body", "problem"),
    [
        (200, json.dumps(envelope([])).encode(), None),
        (200, json.dumps(envelope(status_code=2000, status_message="no")).encode(), "OCPI status 2000"),
        (200, json.dumps(envelope(status_code=3000)).encode(), "OCPI status 3000"),
        (200, b"<html>maintenance</html>", "HTTP 200 without an OCPI envelope"),
        (200, b"", "HTTP 200 without an OCPI envelope"),
        (401, json.dumps(envelope(status_code=2000)).encode(), "HTTP 401"),
        (503, b"down", "HTTP 503"),
        (302, b"", "HTTP 302"),
    ],
)
def test_only_http_200_with_ocpi_1000_is_a_sign_of_life(
    status: int, body: bytes, problem: str | None
) -> None:
    assert assess(status, body) == problem


@pytest.mark.parametrize("failures_before", range(THRESHOLD - 1))
def test_failures_below_the_threshold_are_counted_but_keep_it_connected(failures_before: int) -> None:
    changed = after(platform(CONNECTED, failures=failures_before), "HTTP 503")
    assert changed is not None
    assert changed.status is CONNECTED
    assert changed.liveness_failures == failures_before + 1
    assert changed.liveness_error == "HTTP 503"
    assert changed.status_changed_at == EARLIER
    assert changed.last_seen_at == EARLIER


def test_the_failure_that_reaches_the_threshold_makes_it_offline() -> None:
    changed = after(platform(CONNECTED, failures=THRESHOLD - 1), "TimeoutError: no answer within 5 s")
    assert changed is not None
    assert changed.status is OFFLINE
    assert changed.status_changed_at == NOW  # the last_updated of its ClientInfo
    assert changed.liveness_failures == THRESHOLD
    assert changed.liveness_error == "TimeoutError: no answer within 5 s"


def test_a_threshold_of_one_makes_the_first_failure_final() -> None:
    changed = judge(platform(CONNECTED), "HTTP 500", threshold=1, now=NOW)
    assert changed is not None and changed.status is OFFLINE


def test_an_offline_platform_keeps_counting_and_stays_offline() -> None:
    changed = after(platform(OFFLINE, failures=THRESHOLD + 4), "HTTP 503")
    assert changed is not None
    assert (changed.status, changed.liveness_failures) == (OFFLINE, THRESHOLD + 5)
    assert changed.status_changed_at == EARLIER


def test_a_sign_of_life_brings_an_offline_platform_back() -> None:
    changed = after(platform(OFFLINE, failures=12), None)
    assert changed is not None
    assert changed.status is CONNECTED
    assert changed.status_changed_at == NOW
    assert (changed.liveness_failures, changed.liveness_error, changed.last_seen_at) == (0, None, NOW)


def test_a_sign_of_life_resets_the_count_of_a_connected_platform() -> None:
    changed = after(platform(CONNECTED, failures=THRESHOLD - 1), None)
    assert changed is not None
    assert (changed.status, changed.liveness_failures, changed.liveness_error) == (CONNECTED, 0, None)
    assert changed.last_seen_at == NOW
    assert changed.status_changed_at == EARLIER


def test_a_healthy_platform_is_not_rewritten_until_its_last_seen_is_old() -> None:
    recently = NOW - SEEN_REFRESH + timedelta(seconds=1)
    assert after(platform(CONNECTED, last_seen_at=recently), None) is None
    refreshed = after(platform(CONNECTED, last_seen_at=NOW - SEEN_REFRESH), None)
    assert refreshed is not None and refreshed.last_seen_at == NOW
    never = after(platform(CONNECTED, last_seen_at=None), None)
    assert never is not None and never.last_seen_at == NOW


def test_a_connected_platform_with_a_used_up_count_starts_counting_again() -> None:
    """Someone set it CONNECTED again (a handshake, an operator): old failures no longer count."""
    changed = after(platform(CONNECTED, failures=THRESHOLD + 2), "HTTP 503")
    assert changed is not None
    assert (changed.status, changed.liveness_failures) == (CONNECTED, 1)


@pytest.mark.parametrize(
    "left_alone",
    [
        platform(ConnectionStatus.SUSPENDED, failures=2),
        platform(ConnectionStatus.PLANNED),
        platform(CONNECTED, registered=False),
    ],
)
@pytest.mark.parametrize("problem", [None, "HTTP 503"])
def test_a_platform_that_is_not_watched_is_never_changed(left_alone: Platform, problem: str | None) -> None:
    assert judge(left_alone, problem, threshold=1, now=NOW) is None


def test_judging_leaves_the_given_platform_untouched() -> None:
    before = platform(CONNECTED, failures=THRESHOLD - 1)
    copy = before.model_copy(deep=True)
    after(before, "HTTP 503")
    assert before == copy


def test_the_report_sorts_transitions_and_the_deliveries_to_hand_over() -> None:
    report = LivenessReport(
        (
            Checked(
                "p-gone", "HTTP 503", before=CONNECTED, after=OFFLINE, failures=3, client_info_ids=("d-1",)
            ),
            Checked(
                "p-back",
                None,
                before=OFFLINE,
                after=CONNECTED,
                failures=0,
                client_info_ids=("d-2",),
                pending_ids=("d-3", "d-1"),
            ),
            Checked("p-flaky", "HTTP 500", before=CONNECTED, after=CONNECTED, failures=1),
            Checked("p-fine", None, before=CONNECTED, after=CONNECTED, failures=0),
        )
    )
    assert report.offline == ["p-gone"]
    assert report.connected == ["p-back"]
    assert report.failing == ["p-gone", "p-flaky"]
    assert report.client_info_ids == ["d-1", "d-2"]
    assert report.pending_ids == ["d-3", "d-1"]
    assert report.deliveries == ["d-1", "d-2", "d-3"]
