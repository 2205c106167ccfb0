"""How a pull moves its checkpoint on, and when a pull is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.pulls.records import (
    OVERLAP,
    PullCheckpoint,
    begin,
    claimed,
    completed,
    failed,
    is_due,
    page_done,
    resumable,
)

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)
ENDPOINT = "https://cpo.example.com/ocpi/2.2.1/locations"
INTERVAL = timedelta(minutes=15)
RETRY = timedelta(minutes=1)


def fresh() -> PullCheckpoint:
    return PullCheckpoint(platform_id="p-1", module="locations")


def started(*, since: datetime | None = None, at: datetime = NOW) -> PullCheckpoint:
    return begin(
        fresh(),
        first_url=f"{ENDPOINT}?limit=10",
        since=since,
        correlation_id="c-1",
        holder="h-1",
        now=at,
        lease=LEASE,
    )


def test_a_new_pull_starts_at_its_first_page_and_holds_a_lease() -> None:
    checkpoint = started()
    assert checkpoint.in_progress
    assert checkpoint.full
    assert checkpoint.next_url == f"{ENDPOINT}?limit=10"
    assert checkpoint.leased(NOW + LEASE - timedelta(microseconds=1))
    assert not checkpoint.leased(NOW + LEASE)


def test_each_page_adds_up_and_renews_the_lease() -> None:
    checkpoint = started()
    later = NOW + timedelta(seconds=30)
    for page in range(2):
        checkpoint = page_done(
            checkpoint,
            next_url=f"{ENDPOINT}?offset={10 * (page + 1)}",
            objects=9,
            changed=4,
            invalid=1,
            deliveries=8,
            total=None if page else 25,
            party_limit=10,
            now=later,
            lease=LEASE,
        )
    assert (checkpoint.pages, checkpoint.objects, checkpoint.changed, checkpoint.invalid) == (2, 18, 8, 2)
    assert checkpoint.deliveries == 16
    assert checkpoint.total == 25  # a page without X-Total-Count keeps the last one known
    assert checkpoint.party_limit == 10
    assert checkpoint.next_url == f"{ENDPOINT}?offset=20"
    assert checkpoint.running_until == later + LEASE


def test_a_completed_pull_sets_the_next_date_from_to_its_start_less_the_overlap() -> None:
    checkpoint = completed(started(at=NOW), now=NOW + timedelta(minutes=3))
    assert checkpoint.date_from == NOW - OVERLAP
    assert checkpoint.last_completed_at == NOW + timedelta(minutes=3)
    assert not checkpoint.in_progress
    assert checkpoint.next_url is None
    assert not checkpoint.leased(NOW)


def test_a_failed_pull_keeps_its_progress_and_gives_its_lease_back() -> None:
    checkpoint = page_done(
        started(),
        next_url=f"{ENDPOINT}?offset=10",
        objects=10,
        changed=10,
        invalid=0,
        deliveries=0,
        total=30,
        party_limit=None,
        now=NOW,
        lease=LEASE,
    )
    stopped = failed(checkpoint, error="HTTP 503", now=NOW)
    assert stopped.in_progress
    assert (stopped.next_url, stopped.pages, stopped.objects) == (f"{ENDPOINT}?offset=10", 1, 10)
    assert (stopped.last_error, stopped.last_error_at) == ("HTTP 503", NOW)
    assert not stopped.leased(NOW)
    resumed = claimed(stopped, holder="h-2", now=NOW, lease=LEASE)
    assert (resumed.holder, resumed.next_url, resumed.pages) == ("h-2", f"{ENDPOINT}?offset=10", 1)


@pytest.mark.parametrize(
    ("full", "in_progress_full", "next_url", "expected"),
    [
        (False, False, f"{ENDPOINT}?offset=10", True),
        (False, True, f"{ENDPOINT}?offset=10", True),
        (True, True, f"{ENDPOINT}?offset=10", True),  # carrying on a full pull is still a full pull
        (True, False, f"{ENDPOINT}?offset=10", False),  # a full pull does not carry on an incremental one
        (False, False, "https://old-host.example.com/locations?offset=10", False),  # the party moved
    ],
)
def test_which_runs_carry_on_a_pull_in_progress(
    full: bool, in_progress_full: bool, next_url: str, expected: bool
) -> None:
    checkpoint = started(since=None if in_progress_full else NOW - timedelta(days=1)).model_copy(
        update={"next_url": next_url}
    )
    assert resumable(checkpoint, full=full, endpoint_url=ENDPOINT) is expected


def test_a_completed_pull_is_not_carried_on() -> None:
    assert not resumable(completed(started(), now=NOW), full=False, endpoint_url=ENDPOINT)


def _due(checkpoint: PullCheckpoint | None, now: datetime) -> bool:
    return is_due(checkpoint, now, interval=INTERVAL, retry_after=RETRY)


def test_a_pair_never_pulled_is_due() -> None:
    assert _due(None, NOW)


def test_a_completed_pull_is_due_again_after_the_interval() -> None:
    done = completed(started(), now=NOW)
    assert not _due(done, NOW + INTERVAL - timedelta(seconds=1))
    assert _due(done, NOW + INTERVAL)


def test_a_pull_under_way_is_not_due_until_its_lease_runs_out() -> None:
    running = started()
    assert not _due(running, NOW + LEASE - timedelta(seconds=1))
    assert _due(running, NOW + LEASE)  # its run died: carry it on


def test_a_failed_pull_is_due_again_after_the_retry_delay() -> None:
    stopped = failed(started(), error="HTTP 503", now=NOW)
    assert not _due(stopped, NOW + RETRY - timedelta(seconds=1))
    assert _due(stopped, NOW + RETRY)
