"""The checkpoint of pulling one module from one platform, and how a pull moves it on.

Pure: the puller reads a checkpoint, changes it with the functions below, and writes it back with
compare-and-set (``revision``), so two workers never both believe they hold the same pull.

What the fields mean:

* ``date_from``: the next incremental pull asks the party for objects whose ``last_updated`` is at
  or after this moment. A completed pull sets it to the moment *that pull started*, by the hub's
  clock, less ``OVERLAP``. Not the greatest ``last_updated`` seen: parties stamp objects with the
  time of the change at the charger, which can reach their database (and their Sender interface)
  minutes later, and one object stamped in the future would stop every later pull from seeing
  changes until that moment. The start of the pull bounds what the walk may have missed — an object
  changed during the walk, at a page already fetched — and the overlap absorbs clocks that disagree
  by a few minutes. What the overlap fetches twice costs a read each: an object the mirror already
  holds as it is neither changes the mirror nor is broadcast again.
* A pull in progress has ``started_at``; ``next_url`` is the page to fetch next (the first page's
  URL at the start, then each page's ``Link rel="next"``); ``pages``, ``objects`` … count over the
  whole pull, across the runs that carried it on. The checkpoint is written after every page, once
  the page is in the mirror and its deliveries are in the outbox, so a run killed half-way is carried
  on from the page it had not finished.
* ``running_until`` is the lease of the run that holds the pull (``holder``): renewed with every
  page, long enough for one page to be fetched and applied. Nobody else starts or resumes the pull
  before it runs out; a run that died leaves a lease that runs out, and the pull is due again.
* ``last_error``: why the last run failed (it is kept after a later success, for operators, with
  ``last_error_at``); a failed pull keeps its progress and is due again ``retry_after`` later.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel

from hub.pulls.pages import same_origin

OVERLAP = timedelta(minutes=5)


class PullCheckpoint(BaseModel):
    platform_id: str
    module: str
    # Where the next incremental pull starts (None: never completed, so everything).
    date_from: datetime | None = None
    last_completed_at: datetime | None = None
    # The party's largest page (its X-Limit), as last seen: later pulls ask for no more.
    party_limit: int | None = None

    # --- the pull in progress (or, once it completed, the last one) --------------------------------
    started_at: datetime | None = None
    full: bool = False
    # The date_from this pull asked for (None: a full pull).
    since: datetime | None = None
    next_url: str | None = None
    correlation_id: str | None = None
    pages: int = 0
    objects: int = 0  # valid objects seen
    changed: int = 0  # of which the mirror took a change
    invalid: int = 0  # skipped: not valid OCPI, or not owned by a party of the platform
    deliveries: int = 0
    total: int | None = None  # the party's latest X-Total-Count, if it sends one

    holder: str | None = None
    running_until: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    # Bumped by the store at every write; a save with a stale revision is refused (StaleWrite).
    revision: int = 0

    @property
    def in_progress(self) -> bool:
        return self.started_at is not None

    def leased(self, now: datetime) -> bool:
        """Whether a run holds the pull at this moment."""
        return self.running_until is not None and self.running_until > now


def is_due(
    checkpoint: PullCheckpoint | None, now: datetime, *, interval: timedelta, retry_after: timedelta
) -> bool:
    """Whether a scheduler should start (or carry on) this pull now.

    Due: never pulled; a pull in progress that nobody holds (its run died, or failed more than
    ``retry_after`` ago); the last completed pull more than ``interval`` ago.
    """
    if checkpoint is None:
        return True
    if checkpoint.leased(now):
        return False
    if checkpoint.in_progress:
        return checkpoint.last_error_at is None or checkpoint.last_error_at + retry_after <= now
    return checkpoint.last_completed_at is None or checkpoint.last_completed_at + interval <= now


def resumable(checkpoint: PullCheckpoint, *, full: bool, endpoint_url: str) -> bool:
    """Whether a run asked for (``full`` or not) carries on the pull in progress.

    A full pull in progress is carried on whatever is asked; an incremental one only by an
    incremental run (a full run starts again from the first page). A next page on another host than
    the party's current endpoint (it re-registered elsewhere meanwhile) is not followed.
    """
    if not checkpoint.in_progress or checkpoint.next_url is None:
        return False
    if full and not checkpoint.full:
        return False
    return same_origin(checkpoint.next_url, endpoint_url)


def begin(
    checkpoint: PullCheckpoint,
    *,
    first_url: str,
    since: datetime | None,
    correlation_id: str,
    holder: str,
    now: datetime,
    lease: timedelta,
) -> PullCheckpoint:
    """A new pull from its first page (``since`` None: a full pull)."""
    return checkpoint.model_copy(
        update={
            "started_at": now,
            "full": since is None,
            "since": since,
            "next_url": first_url,
            "correlation_id": correlation_id,
            "pages": 0,
            "objects": 0,
            "changed": 0,
            "invalid": 0,
            "deliveries": 0,
            "total": None,
            "holder": holder,
            "running_until": now + lease,
        }
    )


def claimed(checkpoint: PullCheckpoint, *, holder: str, now: datetime, lease: timedelta) -> PullCheckpoint:
    """The pull in progress, taken over by ``holder``."""
    return checkpoint.model_copy(update={"holder": holder, "running_until": now + lease})


def page_done(
    checkpoint: PullCheckpoint,
    *,
    next_url: str | None,
    objects: int,
    changed: int,
    invalid: int,
    deliveries: int,
    total: int | None,
    party_limit: int | None,
    now: datetime,
    lease: timedelta,
) -> PullCheckpoint:
    """One more page applied; the lease is renewed for the next one."""
    return checkpoint.model_copy(
        update={
            "next_url": next_url,
            "pages": checkpoint.pages + 1,
            "objects": checkpoint.objects + objects,
            "changed": checkpoint.changed + changed,
            "invalid": checkpoint.invalid + invalid,
            "deliveries": checkpoint.deliveries + deliveries,
            "total": total if total is not None else checkpoint.total,
            "party_limit": party_limit if party_limit is not None else checkpoint.party_limit,
            "running_until": now + lease,
        }
    )


def completed(checkpoint: PullCheckpoint, *, now: datetime) -> PullCheckpoint:
    """The last page is in: the next incremental pull starts from this one's start (less OVERLAP)."""
    assert checkpoint.started_at is not None
    return checkpoint.model_copy(
        update={
            "date_from": checkpoint.started_at - OVERLAP,
            "last_completed_at": now,
            "started_at": None,
            "next_url": None,
            "holder": None,
            "running_until": None,
        }
    )


def failed(checkpoint: PullCheckpoint, *, error: str, now: datetime) -> PullCheckpoint:
    """The run stopped on ``error``; the pull keeps its progress and its lease is given back."""
    return checkpoint.model_copy(
        update={"last_error": error, "last_error_at": now, "holder": None, "running_until": None}
    )
