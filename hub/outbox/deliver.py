"""Attempting deliveries: the I/O shell around ``hub.outbox.policy``.

A task hands over a delivery id; the record is read again, so a retry always sees current state. One
attempt sends the stored request once, records what happened on the delivery (an ``Attempt``), and
moves it on: DELIVERED, PENDING with the next attempt scheduled, or DEAD with the reason. Delivery
trouble never raises; it is written down and logged.

Every write is a compare-and-set. Before sending, the attempt claims the delivery (``claimed_until``
and ``next_attempt_at`` past the attempt's timeout), so a concurrent attempt of the same id, or a
sweep for due deliveries, does not send it a second time while it is in flight. Afterwards, if someone
else finished the delivery meanwhile, their word stands.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any, TypeVar

import structlog
from aiohttp import ClientError, ClientSession, ClientTimeout, InvalidURL, NonHttpUrlClientError

from hub.ocpi.v2_2_1.hubclientinfo import ConnectionStatus
from hub.outbox.policy import Outcome, Random, RetryPolicy, Verdict, decide, superseded_by
from hub.outbox.records import Attempt, Delivery, DeliveryState
from hub.platforms import Platform
from hub.secrets import authorization_header
from hub.services import Services
from hub.store.port import StaleWrite
from settings import Settings

log = structlog.get_logger(__name__)
V = TypeVar("V")

# Configuration modules carry no routing headers (digest §1.6): platform-to-hub traffic, never routed.
CONFIGURATION_MODULES = frozenset({"versions", "credentials", "hubclientinfo"})
# A receiver that stays away for the whole horizon would collect thousands of attempts; the record
# keeps the first one (when trouble began) and the latest ones.
ATTEMPTS_KEPT = 50
_SAVE_TRIES = 3
_ERROR_TEXT_MAX = 300


def request_headers(delivery: Delivery, *, authorization: str, request_id: str) -> dict[str, str]:
    """The headers of one attempt: a fresh request id, the delivery's correlation id, and the
    OCPI-from/to pair for functional modules."""
    headers = {
        "Authorization": authorization,
        "X-Request-ID": request_id,
        "X-Correlation-ID": delivery.correlation_id,
    }
    if delivery.body is not None:
        headers["Content-Type"] = "application/json"
    if delivery.module.lower() not in CONFIGURATION_MODULES:
        headers["OCPI-from-country-code"] = delivery.from_country_code
        headers["OCPI-from-party-id"] = delivery.from_party_id
        headers["OCPI-to-country-code"] = delivery.to_country_code
        headers["OCPI-to-party-id"] = delivery.to_party_id
    return headers


def envelope_status(body: bytes) -> int | None:
    """The OCPI ``status_code`` of an answer, or None when it has no envelope (empty, not JSON)."""
    if not body.strip():
        return None
    try:
        parsed: Any = json.loads(body)
    except ValueError:  # not JSON, or not UTF-8
        return None
    status = parsed.get("status_code") if isinstance(parsed, dict) else None
    return status if isinstance(status, int) and not isinstance(status, bool) else None


def unreachable(platform: Platform | None, platform_id: str) -> str | None:
    """Why a delivery to this platform can never be made, or None."""
    if platform is None:
        return f"the target platform {platform_id} no longer exists"
    if not platform.registered:
        return f"the target platform {platform_id} is not registered"
    if platform.status is ConnectionStatus.SUSPENDED:
        return f"the target platform {platform_id} is suspended"
    if platform.outgoing_token is None:
        return f"the hub holds no token to call the target platform {platform_id}"
    return None


def with_attempt(attempts: list[Attempt], attempt: Attempt) -> list[Attempt]:
    """``attempts`` plus ``attempt``: the first and the latest ``ATTEMPTS_KEPT - 1`` are kept."""
    combined = [*attempts, attempt]
    if len(combined) <= ATTEMPTS_KEPT:
        return combined
    return [combined[0], *combined[-(ATTEMPTS_KEPT - 1) :]]


def _error_text(error: BaseException, timeout: ClientTimeout) -> str:
    detail = str(error)
    if not detail and isinstance(error, TimeoutError):
        detail = f"no answer within {timeout.total} s"
    text = f"{type(error).__name__}: {detail}" if detail else type(error).__name__
    return text[:_ERROR_TEXT_MAX]


def policy_from(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        first_delay=timedelta(seconds=settings.retry_first_delay),
        max_interval=timedelta(seconds=settings.retry_max_interval),
        horizon=timedelta(seconds=settings.retry_horizon),
    )


class Deliverer:
    """Attempts outbox deliveries over one shared ``ClientSession``."""

    def __init__(
        self,
        services: Services,
        http: ClientSession,
        *,
        policy: RetryPolicy | None = None,
        rng: Random = random.random,
        concurrency: int = 16,
    ) -> None:
        self._services = services
        self._http = http
        settings = services.settings
        self._policy = policy or policy_from(settings)
        self._rng = rng
        self._slots = asyncio.Semaphore(concurrency)
        self._timeout = ClientTimeout(total=settings.request_timeout, connect=settings.connect_timeout)
        # An attempt under way keeps its claim for the longest it can take, plus a margin for store
        # writes and a busy loop; a worker that dies leaves a claim that runs out.
        self._lease = timedelta(seconds=settings.request_timeout + settings.claim_margin)

    async def attempt_many(self, delivery_ids: Iterable[str]) -> list[Delivery | None]:
        """Attempt these deliveries concurrently (at most ``concurrency`` at once), in order of ids.

        A delivery that could not even be read or saved (the store failed) is logged and comes
        back as None, so one bad record does not hide what happened to the others.
        """
        ids = list(delivery_ids)
        results = await asyncio.gather(*(self._bounded(i) for i in ids), return_exceptions=True)
        done: list[Delivery | None] = []
        for delivery_id, result in zip(ids, results, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result  # cancellation and friends are not ours to swallow
                log.error("delivery_attempt_failed", delivery=delivery_id, exc_info=result)
                done.append(None)
            else:
                done.append(result)
        return done

    async def _bounded(self, delivery_id: str) -> Delivery | None:
        async with self._slots:
            return await self.attempt(delivery_id)

    async def attempt(self, delivery_id: str) -> Delivery | None:
        """Attempt one delivery once and return it as stored afterwards (None: no such delivery).

        Deliveries that are not PENDING are returned untouched: someone delivered, abandoned or
        superseded them already.
        """
        store = self._services.store
        delivery = await store.outbox.get(delivery_id)
        if delivery is None:
            log.warning("delivery_unknown", delivery=delivery_id)
            return None
        if delivery.state is not DeliveryState.PENDING:
            return delivery
        if delivery.claimed_until is not None and delivery.claimed_until > self._services.clock():
            log.info("delivery_in_flight", delivery=delivery_id)
            return delivery

        platform = await store.platforms.get(delivery.target_platform_id)
        reason = unreachable(platform, delivery.target_platform_id)
        if reason is not None:
            return await self._close(delivery, DeliveryState.DEAD, reason)
        # unreachable() has ruled these out:
        assert platform is not None
        assert platform.outgoing_token is not None
        try:
            token = self._services.cipher.decrypt(platform.outgoing_token)
        except ValueError as error:
            return await self._close(delivery, DeliveryState.DEAD, str(error))
        if delivery.object_key is not None:
            newer = superseded_by(
                delivery, await store.outbox.for_object(delivery.target_platform_id, delivery.object_key)
            )
            if newer is not None:
                return await self._close(
                    delivery,
                    DeliveryState.SUPERSEDED,
                    f"superseded by {newer.id} (version {newer.object_version})",
                )

        claimed = await self._claim(delivery)
        if claimed is None:
            return await store.outbox.get(delivery.id)
        delivery = claimed

        attempt, invalid_url = await self._send(delivery, platform, token)
        now = self._services.clock()

        def settle(current: Delivery) -> tuple[Delivery, Verdict]:
            if invalid_url:
                verdict = Verdict(Outcome.PERMANENT, DeliveryState.DEAD, reason=attempt.error)
            else:
                verdict = decide(
                    attempt,
                    attempt_count=len(current.attempts) + 1,
                    created_at=current.created_at,
                    now=now,
                    policy=self._policy,
                    rng=self._rng,
                )
            changed = current.model_copy(
                update={
                    "attempts": with_attempt(current.attempts, attempt),
                    "state": verdict.state,
                    "next_attempt_at": verdict.next_attempt_at,
                    "claimed_until": None,
                    "reason": verdict.reason,
                }
            )
            return changed, verdict

        stored, verdict = await self._save(delivery, settle)
        log.info(
            "delivery_attempted",
            delivery=delivery.id,
            platform=delivery.target_platform_id,
            module=delivery.module,
            method=delivery.method,
            url=delivery.url,
            http_status=attempt.http_status,
            ocpi_status=attempt.ocpi_status,
            error=attempt.error,
            elapsed_ms=attempt.elapsed_ms,
            outcome=None if verdict is None else verdict.outcome.value,
            state=None if stored is None else stored.state.value,
            next_attempt_at=None
            if stored is None or stored.next_attempt_at is None
            else stored.next_attempt_at.isoformat(),
        )
        return stored

    async def _claim(self, delivery: Delivery) -> Delivery | None:
        """Take the delivery for one attempt, or None if another attempt took it first.

        The claim moves ``next_attempt_at`` past the longest the attempt can take, so a sweep for
        due deliveries leaves it alone while it is in flight; if this process dies meanwhile, the
        claim runs out and the delivery is due again.
        """
        until = self._services.clock() + self._lease
        try:
            return await self._services.store.outbox.update(
                delivery.model_copy(update={"next_attempt_at": until, "claimed_until": until})
            )
        except StaleWrite:
            log.info("delivery_claimed_elsewhere", delivery=delivery.id)
            return None

    async def _send(self, delivery: Delivery, platform: Platform, token: str) -> tuple[Attempt, bool]:
        """Send the request once; the attempt as recorded, and whether the URL itself is unusable."""
        headers = request_headers(
            delivery,
            authorization=authorization_header(token, encoding=platform.token_encoding),
            request_id=str(uuid.uuid4()),
        )
        data = None if delivery.body is None else delivery.body.encode("utf-8")
        at = self._services.clock()
        started = time.perf_counter()
        http_status: int | None = None
        ocpi_status: int | None = None
        error: str | None = None
        invalid_url = False
        try:
            async with self._http.request(
                delivery.method,
                delivery.url,
                data=data,
                headers=headers,
                timeout=self._timeout,
                # A redirect would carry the token elsewhere; a 3xx is recorded as a refusal instead.
                allow_redirects=False,
            ) as response:
                http_status = response.status
                ocpi_status = envelope_status(await response.read())
        except (InvalidURL, NonHttpUrlClientError) as failure:
            error, invalid_url = _error_text(failure, self._timeout), True
        except (ClientError, TimeoutError) as failure:
            error = _error_text(failure, self._timeout)
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        attempt = Attempt(
            at=at, http_status=http_status, ocpi_status=ocpi_status, error=error, elapsed_ms=elapsed_ms
        )
        return attempt, invalid_url

    async def _close(self, delivery: Delivery, state: DeliveryState, reason: str) -> Delivery | None:
        """End a delivery without sending it (DEAD or SUPERSEDED)."""

        def close(current: Delivery) -> tuple[Delivery, None]:
            changed = current.model_copy(
                update={"state": state, "next_attempt_at": None, "claimed_until": None, "reason": reason}
            )
            return changed, None

        stored, _ = await self._save(delivery, close)
        log.info(
            "delivery_closed",
            delivery=delivery.id,
            platform=delivery.target_platform_id,
            module=delivery.module,
            state=state.value,
            reason=reason,
        )
        return stored

    async def _save(
        self, delivery: Delivery, change: Callable[[Delivery], tuple[Delivery, V]]
    ) -> tuple[Delivery | None, V | None]:
        """Write ``change(delivery)``; on a stale write, re-read and apply the change again, unless
        someone else has finished the delivery (then theirs is returned, unchanged)."""
        outbox = self._services.store.outbox
        current: Delivery | None = delivery
        for _ in range(_SAVE_TRIES):
            assert current is not None
            changed, verdict = change(current)
            try:
                return await outbox.update(changed), verdict
            except StaleWrite:
                current = await outbox.get(delivery.id)
                if current is None or current.state is not DeliveryState.PENDING:
                    log.info(
                        "delivery_finished_elsewhere",
                        delivery=delivery.id,
                        state=None if current is None else current.state.value,
                    )
                    return current, None
        log.warning("delivery_save_contended", delivery=delivery.id)
        return current, None
