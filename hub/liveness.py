"""Liveness: is each connected platform still there? (digest §6: ClientInfo status OFFLINE)

Every ``liveness_interval`` seconds the hub GETs the versions URL of every registered platform that
is CONNECTED or OFFLINE, with the token the platform gave it. HTTP 200 with OCPI status 1000 is a
sign of life; anything else (no answer, a timeout, another status) is a failure. After
``liveness_failures`` failures in a row a CONNECTED platform becomes OFFLINE; the first sign of life
makes an OFFLINE platform CONNECTED again. Either change is pushed to the other platforms as Hub
Client Info, and a platform that came back has its pending deliveries attempted at once instead of
at the end of their backoff.

SUSPENDED and PLANNED platforms are left alone: an operator, or the handshake, decides those.

The decision (``judge``) is pure; ``Liveness`` is the shell that asks the platforms and writes the
outcome. The failure count is kept on the platform in the store, so whichever hub process or
worker runs the next check carries on counting, and every write is a compare-and-set: two checks
of one platform racing each other change its status, and push Hub Client Info, once.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from aiohttp import ClientError, ClientSession, ClientTimeout

from hub.ocpi.v2_2_1.hubclientinfo import ConnectionStatus
from hub.outbox.clientinfo import push_client_info
from hub.outbox.deliver import envelope_status
from hub.outbox.records import DeliveryState
from hub.platforms import Platform
from hub.secrets import authorization_header
from hub.services import Services
from hub.store import StaleWrite

log = structlog.get_logger(__name__)

WATCHED = frozenset({ConnectionStatus.CONNECTED, ConnectionStatus.OFFLINE})
# A healthy platform's ``last_seen_at`` is rewritten at most this often. A write per platform per
# check would bump its revision every minute, and the handshake and operator commands, which
# compare-and-set the same document, would meet stale revisions for nothing.
SEEN_REFRESH = timedelta(minutes=10)
# How many pending deliveries of a platform that came back are handed out at once; the sweeper
# takes the rest when their time comes.
PENDING_LIMIT = 2_000
_SAVE_TRIES = 5
_PROBLEM_MAX = 300


# --- the decision (pure) ------------------------------------------------------------------------


def watched(platform: Platform) -> bool:
    """Whether liveness checks this platform: registered, CONNECTED or OFFLINE, and reachable."""
    return (
        platform.registered
        and platform.status in WATCHED
        and platform.versions_url is not None
        and platform.outgoing_token is not None
    )


def assess(http_status: int, body: bytes) -> str | None:
    """What is wrong with a versions answer, or None when it is a sign of life (HTTP 200, OCPI 1000)."""
    if http_status != 200:
        return f"HTTP {http_status}"
    status = envelope_status(body)
    if status is None:
        return "HTTP 200 without an OCPI envelope"
    if status != 1000:
        return f"OCPI status {status}"
    return None


def judge(
    platform: Platform,
    problem: str | None,
    *,
    threshold: int,
    now: datetime,
    seen_refresh: timedelta = SEEN_REFRESH,
) -> Platform | None:
    """The platform as it should be stored after a check that found ``problem`` (None: alive), or
    None when nothing needs writing.

    A platform that stopped being watched while it was checked (suspended, unregistered) is left
    as it is. A CONNECTED platform whose count says it has used up its failures was set CONNECTED
    by someone else since (a new handshake, an operator): its count starts over.
    """
    if not watched(platform):
        return None
    changed = platform.model_copy(deep=True)
    if problem is None:
        changed.liveness_failures = 0
        changed.liveness_error = None
        changed.set_status(ConnectionStatus.CONNECTED, now=now)
        seen = platform.last_seen_at
        healthy = platform.status is ConnectionStatus.CONNECTED and platform.liveness_failures == 0
        if not healthy or seen is None or now - seen >= seen_refresh:
            changed.last_seen_at = now
    else:
        stale = platform.status is ConnectionStatus.CONNECTED and platform.liveness_failures >= threshold
        changed.liveness_failures = (0 if stale else platform.liveness_failures) + 1
        changed.liveness_error = problem
        if platform.status is ConnectionStatus.CONNECTED and changed.liveness_failures >= threshold:
            changed.set_status(ConnectionStatus.OFFLINE, now=now)
    return None if changed == platform else changed


# --- what a check reports -----------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """One platform's check: what it answered, and what changed because of it."""

    platform_id: str
    problem: str | None  # None: it answered, alive (or, not watched, it was not asked)
    before: ConnectionStatus
    after: ConnectionStatus
    failures: int  # failures in a row, this check included
    # Hub Client Info pushes recorded for a change of status, to hand to the job port.
    client_info_ids: tuple[str, ...] = ()
    # The PENDING deliveries of a platform that came back, to attempt at once.
    pending_ids: tuple[str, ...] = ()

    @property
    def went_offline(self) -> bool:
        return self.before is ConnectionStatus.CONNECTED and self.after is ConnectionStatus.OFFLINE

    @property
    def came_back(self) -> bool:
        return self.before is ConnectionStatus.OFFLINE and self.after is ConnectionStatus.CONNECTED


@dataclass(frozen=True)
class LivenessReport:
    """One round of checks. ``deliveries`` is what the caller hands to the job port; the records
    are in the outbox already, so the sweeper finds them too if the hand-over is lost."""

    checked: tuple[Checked, ...] = field(default_factory=tuple)

    @property
    def offline(self) -> list[str]:
        """Platforms that went OFFLINE in this round."""
        return [c.platform_id for c in self.checked if c.went_offline]

    @property
    def connected(self) -> list[str]:
        """Platforms that were OFFLINE and answered again in this round."""
        return [c.platform_id for c in self.checked if c.came_back]

    @property
    def failing(self) -> list[str]:
        """Platforms whose check failed in this round, whatever their status now."""
        return [c.platform_id for c in self.checked if c.problem is not None]

    @property
    def client_info_ids(self) -> list[str]:
        return [i for c in self.checked for i in c.client_info_ids]

    @property
    def pending_ids(self) -> list[str]:
        return [i for c in self.checked for i in c.pending_ids]

    @property
    def deliveries(self) -> list[str]:
        """Every delivery to attempt now: the Hub Client Info pushes, then the pending deliveries."""
        return list(dict.fromkeys([*self.client_info_ids, *self.pending_ids]))


# --- the shell ----------------------------------------------------------------------------------


class Liveness:
    """Checks platforms over one shared ``ClientSession`` and records what it finds."""

    def __init__(self, services: Services, http: ClientSession, *, concurrency: int = 16) -> None:
        self._services = services
        self._http = http
        self._slots = asyncio.Semaphore(concurrency)
        settings = services.settings
        # One silent platform must not hold a check past the next round.
        total = min(settings.request_timeout, settings.liveness_interval)
        self._timeout = ClientTimeout(total=total, connect=min(settings.connect_timeout, total))

    async def check_all(self) -> LivenessReport:
        """Check every watched platform, concurrently (at most ``concurrency`` at once).

        A check that could not even be recorded (the store failed) is logged and left out of the
        report: the next round checks that platform again.
        """
        platforms = [p for p in await self._services.store.platforms.all() if watched(p)]
        results = await asyncio.gather(*(self._bounded(p) for p in platforms), return_exceptions=True)
        checked: list[Checked] = []
        for platform, result in zip(platforms, results, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result  # cancellation and friends are not ours to swallow
                log.error("liveness_check_error", platform=platform.id, exc_info=result)
            else:
                checked.append(result)
        return LivenessReport(tuple(checked))

    async def _bounded(self, platform: Platform) -> Checked:
        async with self._slots:
            return await self.check(platform)

    async def check(self, platform: Platform) -> Checked:
        """Check one platform once and record the outcome (a platform that is not watched is
        reported unchanged, without a request)."""
        unchanged = Checked(
            platform.id,
            None,
            before=platform.status,
            after=platform.status,
            failures=platform.liveness_failures,
        )
        if not watched(platform):
            return unchanged
        assert platform.versions_url is not None
        assert platform.outgoing_token is not None
        try:
            token = self._services.cipher.decrypt(platform.outgoing_token)
        except ValueError as error:
            # The hub's key, not the party, is at fault: nothing is counted against the party.
            log.error("liveness_token_unreadable", platform=platform.id, error=str(error))
            return Checked(
                platform.id,
                str(error),
                before=platform.status,
                after=platform.status,
                failures=platform.liveness_failures,
            )
        problem = await self._probe(platform.versions_url, token, platform.token_encoding)
        if problem is not None:
            log.info("liveness_check_failed", platform=platform.id, problem=problem)

        recorded = await self._record(platform, problem)
        if recorded is None:
            return unchanged
        before, stored = recorded
        client_info_ids: list[str] = []
        pending_ids: list[str] = []
        if stored.status is not before:
            client_info_ids = await push_client_info(self._services, stored)
            if stored.status is ConnectionStatus.CONNECTED:
                pending = await self._services.store.outbox.for_target(
                    stored.id, states=[DeliveryState.PENDING], limit=PENDING_LIMIT
                )
                pending_ids = [d.id for d in pending]
            log.warning(
                "platform_offline" if stored.status is ConnectionStatus.OFFLINE else "platform_back",
                platform=stored.id,
                failures=stored.liveness_failures,
                problem=problem,
                client_info_pushes=len(client_info_ids),
                pending=len(pending_ids),
            )
        return Checked(
            stored.id,
            problem,
            before=before,
            after=stored.status,
            failures=stored.liveness_failures,
            client_info_ids=tuple(client_info_ids),
            pending_ids=tuple(pending_ids),
        )

    async def _probe(self, versions_url: str, token: str, encoding: str) -> str | None:
        """GET the versions URL once; what was wrong, or None for a sign of life."""
        headers = {
            "Authorization": authorization_header(token, encoding=encoding),
            # The hub starts this conversation: a new request id and a new correlation id.
            "X-Request-ID": str(uuid.uuid4()),
            "X-Correlation-ID": str(uuid.uuid4()),
        }
        try:
            async with self._http.get(
                versions_url,
                headers=headers,
                timeout=self._timeout,
                # A redirect would carry the token elsewhere; it counts as a failure instead.
                allow_redirects=False,
            ) as response:
                return assess(response.status, await response.read())
        except (ClientError, TimeoutError, ValueError) as error:
            detail = str(error)
            if not detail and isinstance(error, TimeoutError):
                detail = f"no answer within {self._timeout.total} s"
            text = f"{type(error).__name__}: {detail}" if detail else type(error).__name__
            return text[:_PROBLEM_MAX]

    async def _record(
        self, platform: Platform, problem: str | None
    ) -> tuple[ConnectionStatus, Platform] | None:
        """Write the judgement; the status it replaced and the platform as stored, or None when the
        platform vanished or kept changing under us. On a stale write the platform is read again
        and judged afresh, so a change someone else made meanwhile (a suspension) stands."""
        platforms = self._services.store.platforms
        current: Platform | None = platform
        threshold = self._services.settings.liveness_failures
        for _ in range(_SAVE_TRIES):
            if current is None:
                return None
            changed = judge(current, problem, threshold=threshold, now=self._services.clock())
            if changed is None:
                return current.status, current
            try:
                return current.status, await platforms.update(changed)
            except StaleWrite:
                current = await platforms.get(platform.id)
        log.warning("liveness_save_contended", platform=platform.id)
        return None
