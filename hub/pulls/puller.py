"""Pulling a party's Sender interface into the mirror: the I/O shell around ``hub.pulls``.

One pull walks one module of one platform page by page: GET the page (from the hub, to the party,
with the platform's token), check each object (``items``), put it in the mirror as a PUT would,
record the deliveries of what changed (Locations, Tariffs and Tokens fan out like a broadcast push),
then write the checkpoint with the next page's URL. A page the party answers with an error stops the
pull; what was done stays done, and the next run carries on from the page that failed.

Runs are claimed with a lease on the checkpoint (``hub.pulls.records``), so a pull is carried out by
one run at a time, whoever schedules it: the embedded job runner, Celery workers, or an operator's
``python -m hub pull``.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import structlog
from aiohttp import ClientError, ClientSession, ClientTimeout

from hub.errors import InvalidParameters
from hub.mirror.service import Mirror, PushOutcome
from hub.ocpi.types import format_datetime
from hub.ocpi.v2_2_1.versions import InterfaceRole, ModuleID
from hub.outbox.fanout import broadcast_deliveries
from hub.outbox.records import Delivery
from hub.platforms import Platform
from hub.pulls.items import Pulled, Rejected, object_id, read_object
from hub.pulls.pages import Page, PageError, first_url, read_page
from hub.pulls.plan import not_pullable, owner_keys, pull_headers, sender_modules, sender_party
from hub.pulls.records import (
    PullCheckpoint,
    begin,
    claimed,
    completed,
    failed,
    is_due,
    page_done,
    resumable,
)
from hub.routing.table import BROADCASTABLE, PartyRef
from hub.secrets import authorization_header
from hub.services import Services
from hub.store.port import StaleWrite

__all__ = ["NotPullable", "PullProgress", "PullResult", "PullStatus", "Puller", "sender_modules"]

log = structlog.get_logger(__name__)

# A failed pull is due again this long after it failed (or after pull_interval, if that is shorter):
# a party that is down is asked once a minute, and the first run after it is back carries on.
RETRY_AFTER = timedelta(minutes=1)
_CLAIM_TRIES = 5
_ERROR_TEXT_MAX = 300

Deliver = Callable[[Sequence[str]], Awaitable[None]]


class NotPullable(Exception):
    """The platform cannot be pulled for this module: unknown, not connected, no Sender endpoint…"""


class PullStatus(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"  # stopped at a page; the progress is kept and the pull is due again later
    BUSY = "busy"  # another run holds the pull (or took it over from this one)


@dataclass(frozen=True)
class PullProgress:
    """Where a pull stands after a page; counts are over the whole pull, earlier runs included."""

    pages: int
    objects: int
    invalid: int
    total: int | None  # the party's X-Total-Count, when it sends one

    @property
    def seen(self) -> int:
        return self.objects + self.invalid


@dataclass(frozen=True)
class PullResult:
    """What one run did. Counts are over the whole pull; ``pages_before`` is how many pages earlier
    runs had done when this one carried the pull on (``resumed``)."""

    platform_id: str
    module: str
    status: PullStatus
    full: bool
    resumed: bool
    pages_before: int
    pages: int
    objects: int
    changed: int
    invalid: int
    deliveries: int
    total: int | None
    checkpoint: PullCheckpoint | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        checkpoint = self.checkpoint
        return {
            "platform_id": self.platform_id,
            "module": self.module,
            "status": self.status.value,
            "full": self.full,
            "resumed": self.resumed,
            "pages_before": self.pages_before,
            "pages": self.pages,
            "objects": self.objects,
            "changed": self.changed,
            "invalid": self.invalid,
            "deliveries": self.deliveries,
            "total": self.total,
            "error": self.error,
            "next_date_from": _moment(checkpoint.date_from) if checkpoint else None,
            "next_url": checkpoint.next_url if checkpoint else None,
            "running_until": _moment(checkpoint.running_until) if checkpoint else None,
        }


@dataclass
class _Applied:
    objects: int = 0
    changed: int = 0
    invalid: int = 0
    deliveries: list[Delivery] = field(default_factory=list)


class Puller:
    """Pulls parties' Sender interfaces over one shared ``ClientSession``.

    ``deliver`` is handed the ids of the deliveries a page recorded, once they are in the outbox
    (the job port's ``deliver``; a no-op leaves them to the sweeper).
    """

    def __init__(self, services: Services, http: ClientSession, deliver: Deliver) -> None:
        self._services = services
        self._http = http
        self._deliver = deliver
        self._mirror = Mirror(services.store.mirror)

    # --- scheduling ---------------------------------------------------------------------------------

    async def pull_due(self) -> list[tuple[str, str]]:
        """The (platform id, module) pairs to pull now: never pulled, last completed more than
        ``pull_interval`` ago, or under way with a lease that ran out (a run died, or failed a
        while ago). The caller schedules them; each run claims its pull, so one scheduled twice is
        carried out once."""
        settings = self._services.settings
        store = self._services.store
        now = self._services.clock()
        interval = timedelta(seconds=settings.pull_interval)
        retry_after = min(RETRY_AFTER, interval)
        checkpoints = {(c.platform_id, c.module): c for c in await store.pulls.all()}
        return [
            (platform.id, module)
            for platform in await store.platforms.all()
            for module in sender_modules(platform)
            if is_due(checkpoints.get((platform.id, module)), now, interval=interval, retry_after=retry_after)
        ]

    # --- one pull -----------------------------------------------------------------------------------

    async def pull(
        self,
        platform_id: str,
        module: str,
        *,
        full: bool = False,
        progress: Callable[[PullProgress], None] | None = None,
    ) -> PullResult:
        """Pull ``module`` from the platform: carry on the pull under way, or start one from the
        checkpoint's ``date_from`` (``full``: from the beginning). ``NotPullable`` when the platform
        cannot be pulled for this module."""
        services = self._services
        platform = await services.store.platforms.get(platform_id)
        if platform is None:
            raise NotPullable(f"no platform {platform_id}")
        reason = not_pullable(platform, module)
        if reason is not None:
            raise NotPullable(reason)
        endpoint = platform.endpoint(module, InterfaceRole.SENDER.value)
        # not_pullable() has ruled these out:
        assert endpoint is not None
        assert platform.outgoing_token is not None
        try:
            token = services.cipher.decrypt(platform.outgoing_token)
        except ValueError as error:
            raise NotPullable(str(error)) from None

        holder = uuid.uuid4().hex
        claim = await self._claim(platform_id, module, endpoint.url, full=full, holder=holder)
        if claim is None:
            holding = await services.store.pulls.get(platform_id, module)
            return _result(platform_id, module, holding, PullStatus.BUSY, _Run())
        checkpoint, resumed = claim
        pages_before = checkpoint.pages if resumed else 0
        log.info(
            "pull_started",
            platform=platform_id,
            module=module,
            full=checkpoint.full,
            resumed=resumed,
            pages_before=pages_before,
            date_from=_moment(checkpoint.since),
        )

        authorization = authorization_header(token, encoding=platform.token_encoding)
        to = sender_party(platform, module)
        # A resumed pull's first page may have been applied in part by a run that died before writing
        # the checkpoint; it is applied again in full, broadcasts included (a duplicate PUT is
        # harmless, a lost one is not).
        replay = resumed
        run = _Run(resumed=resumed, pages_before=pages_before)
        while checkpoint.next_url is not None:
            assert checkpoint.correlation_id is not None
            try:
                page = await self._fetch(checkpoint.next_url, authorization, to, checkpoint.correlation_id)
            except PageError as error:
                return await self._fail(checkpoint, str(error), run)
            applied = await self._apply(platform, module, page, checkpoint, replay=replay)
            replay = False
            if applied.deliveries:
                await services.store.outbox.add(applied.deliveries)
            try:
                checkpoint = await services.store.pulls.save(
                    page_done(
                        checkpoint,
                        next_url=page.next_url,
                        objects=applied.objects,
                        changed=applied.changed,
                        invalid=applied.invalid,
                        deliveries=len(applied.deliveries),
                        total=page.total,
                        party_limit=page.limit,
                        now=services.clock(),
                        lease=self._lease(),
                    )
                )
            except StaleWrite:
                return self._taken_over(platform_id, module, run)
            if applied.deliveries:
                await self._deliver([d.id for d in applied.deliveries])
            if progress is not None:
                progress(
                    PullProgress(checkpoint.pages, checkpoint.objects, checkpoint.invalid, checkpoint.total)
                )
        try:
            checkpoint = await services.store.pulls.save(completed(checkpoint, now=services.clock()))
        except StaleWrite:
            return self._taken_over(platform_id, module, run)
        log.info(
            "pull_completed",
            platform=platform_id,
            module=module,
            pages=checkpoint.pages,
            objects=checkpoint.objects,
            changed=checkpoint.changed,
            invalid=checkpoint.invalid,
            deliveries=checkpoint.deliveries,
        )
        return _result(platform_id, module, checkpoint, PullStatus.COMPLETED, run)

    async def _claim(
        self, platform_id: str, module: str, endpoint_url: str, *, full: bool, holder: str
    ) -> tuple[PullCheckpoint, bool] | None:
        """Take the pull: carry on the one under way, or begin one. The checkpoint as stored and
        whether it was carried on; None when another run holds it."""
        services = self._services
        pulls = services.store.pulls
        for _ in range(_CLAIM_TRIES):
            current = await pulls.get(platform_id, module)
            now = services.clock()
            if current is not None and current.leased(now):
                return None
            if current is not None and resumable(current, full=full, endpoint_url=endpoint_url):
                wanted, resumed = claimed(current, holder=holder, now=now, lease=self._lease()), True
            else:
                base = current or PullCheckpoint(platform_id=platform_id, module=module)
                since = None if full else base.date_from
                limit = services.settings.page_limit(module)
                if base.party_limit is not None:
                    limit = min(limit, base.party_limit)  # the party said it gives no more
                wanted = begin(
                    base,
                    first_url=first_url(endpoint_url, module=module, limit=limit, date_from=since),
                    since=since,
                    correlation_id=str(uuid.uuid4()),
                    holder=holder,
                    now=now,
                    lease=self._lease(),
                )
                resumed = False
            try:
                return await pulls.save(wanted), resumed
            except StaleWrite:
                continue  # another run wrote meanwhile: look again
        return None

    def _lease(self) -> timedelta:
        # Long enough for one page: the request's own timeout, and a margin for applying it.
        settings = self._services.settings
        return timedelta(seconds=settings.request_timeout + settings.claim_margin)

    async def _fetch(self, url: str, authorization: str, to: PartyRef, correlation_id: str) -> Page:
        settings = self._services.settings
        headers = pull_headers(
            authorization=authorization,
            hub=PartyRef(settings.country_code, settings.party_id),
            to=to,
            request_id=str(uuid.uuid4()),
            correlation_id=correlation_id,
        )
        timeout = ClientTimeout(total=settings.request_timeout, connect=settings.connect_timeout)
        try:
            # A redirect would carry the token elsewhere: it is an error like any other answer.
            async with self._http.get(
                url, headers=headers, timeout=timeout, allow_redirects=False
            ) as response:
                body = await response.read()
                seen = {"Link": ", ".join(response.headers.getall("Link", []))}
                for name in ("X-Total-Count", "X-Limit"):
                    value = response.headers.get(name)
                    if value is not None:
                        seen[name] = value
                status = response.status
        except (ClientError, TimeoutError) as error:
            detail = str(error) or (
                f"no answer within {timeout.total} s" if isinstance(error, TimeoutError) else ""
            )
            raise PageError(f"{type(error).__name__}: {detail}"[:_ERROR_TEXT_MAX]) from None
        return read_page(status, seen, body, url=url)

    async def _apply(
        self, platform: Platform, module: str, page: Page, checkpoint: PullCheckpoint, *, replay: bool
    ) -> _Applied:
        """Put a page's valid objects in the mirror; the deliveries of those that changed."""
        services = self._services
        settings = services.settings
        owners = owner_keys(platform, module)
        # Sessions and CDRs are mirrored but never broadcast (digest §5.3).
        broadcast = ModuleID(module) in BROADCASTABLE
        platforms = await services.store.platforms.all() if broadcast else []
        hub = PartyRef(settings.country_code, settings.party_id)
        applied = _Applied()
        for index, item in enumerate(page.items):
            try:
                pulled = read_object(module, item, owners)
                outcome = await self._mirror_put(module, pulled, replay=replay)
            except Rejected as error:
                applied.invalid += 1
                log.warning(
                    "pull_object_invalid",
                    platform=platform.id,
                    module=module,
                    page=checkpoint.pages + 1,
                    index=index,
                    object_id=object_id(module, item),
                    error=str(error),
                )
                continue
            applied.objects += 1
            if outcome is None or not outcome.changed:
                continue
            applied.changed += 1
            if broadcast:
                assert checkpoint.correlation_id is not None
                applied.deliveries.extend(
                    broadcast_deliveries(
                        platforms,
                        ModuleID(module),
                        outcome,
                        sender_platform_id=platform.id,
                        hub=hub,
                        method="PUT",
                        tail=pulled.tail,
                        query_string=pulled.query_string,
                        body=pulled.body.decode(),
                        correlation_id=checkpoint.correlation_id,
                        now=services.clock(),
                    )
                )
        return applied

    async def _mirror_put(self, module: str, pulled: Pulled, *, replay: bool) -> PushOutcome | None:
        """Apply the object as a PUT of it; None when the mirror holds it exactly so already (a pull
        sees the same objects again and again: neither the mirror nor the receivers need them twice),
        or could not place it. ``replay``: apply it even so."""
        if not replay:
            stored = await self._mirror.get(module, pulled.url.owner, pulled.url.ids[0], pulled.token_type)
            if stored is not None and stored.document == pulled.document:
                return None
        try:
            prepared = self._mirror.prepare(module, "PUT", pulled.url, pulled.token_type, pulled.body)
            return None if prepared is None else await self._mirror.apply(prepared, strict=False)
        except InvalidParameters as error:
            raise Rejected(error.message) from None

    async def _fail(self, checkpoint: PullCheckpoint, error: str, run: _Run) -> PullResult:
        services = self._services
        log.warning(
            "pull_failed",
            platform=checkpoint.platform_id,
            module=checkpoint.module,
            page=checkpoint.pages + 1,
            url=checkpoint.next_url,
            error=error,
        )
        try:
            stored = await services.store.pulls.save(failed(checkpoint, error=error, now=services.clock()))
        except StaleWrite:
            return self._taken_over(checkpoint.platform_id, checkpoint.module, run)
        return _result(stored.platform_id, stored.module, stored, PullStatus.FAILED, run, error=error)

    def _taken_over(self, platform_id: str, module: str, run: _Run) -> PullResult:
        # Our lease ran out and another run claimed the pull: it carries on; this one stops.
        log.warning("pull_taken_over", platform=platform_id, module=module)
        return _result(
            platform_id, module, None, PullStatus.BUSY, run, error="another run took the pull over"
        )


@dataclass(frozen=True)
class _Run:
    """What a run knows about itself from its start."""

    resumed: bool = False
    pages_before: int = 0


def _result(
    platform_id: str,
    module: str,
    checkpoint: PullCheckpoint | None,
    status: PullStatus,
    run: _Run,
    *,
    error: str | None = None,
) -> PullResult:
    """The result of a run, with the counts of the pull as the checkpoint has them."""
    if status is PullStatus.BUSY and error is None:
        until = _moment(checkpoint.running_until if checkpoint else None) or "a moment ago"
        error = f"another run holds this pull until {until}"
    counts = checkpoint or PullCheckpoint(platform_id=platform_id, module=module)
    return PullResult(
        platform_id=platform_id,
        module=module,
        status=status,
        full=counts.full,
        resumed=run.resumed,
        pages_before=run.pages_before,
        pages=counts.pages,
        objects=counts.objects,
        changed=counts.changed,
        invalid=counts.invalid,
        deliveries=counts.deliveries,
        total=counts.total,
        checkpoint=checkpoint,
        error=error,
    )


def _moment(value: datetime | None) -> str | None:
    return None if value is None else format_datetime(value)
