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
import logging
import random
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
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
# The standard library logger ``log`` writes through: asked whether INFO is on before the attempts'
# lines are put together, as structlog's level filter would ask after (putting one together costs
# as much as the rest of an attempt's bookkeeping).
_records = logging.getLogger(__name__)
V = TypeVar("V")

# Configuration modules carry no routing headers (digest §1.6): platform-to-hub traffic, never routed.
CONFIGURATION_MODULES = frozenset({"versions", "credentials", "hubclientinfo"})
# A receiver that stays away for the whole horizon would collect thousands of attempts; the record
# keeps the first one (when trouble began) and the latest ones.
ATTEMPTS_KEPT = 50
_SAVE_TRIES = 3
# Deliveries read, claimed and settled together in one round trip to the store each.
BATCH = 200
_ERROR_TEXT_MAX = 300


def request_headers(delivery: Delivery, *, authorization: str, request_id: str) -> dict[str, str]:
    """The headers of one attempt: a fresh request id, the delivery's correlation id, and the
    OCPI-from/to pair for functional modules."""
    headers = {
        **delivery.headers,
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


# The version (4) and variant (RFC 4122) bits of a random UUID, as ``uuid.UUID(version=4)`` sets them.
_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)


def request_id() -> str:
    """A fresh X-Request-ID: a version 4 UUID from the process's generator, not the operating
    system's (it identifies a request, it guards nothing, and a system call per attempt shows).
    Formatted directly: ``uuid.UUID`` checks and converts more than a random value needs."""
    value = f"{random.getrandbits(128) & _UUID4_CLEAR | _UUID4_SET:032x}"
    return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"


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


def _closed(delivery: Delivery, state: DeliveryState, reason: str) -> Delivery:
    return delivery.model_copy(
        update={"state": state, "next_attempt_at": None, "claimed_until": None, "reason": reason}
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
        """Attempt these deliveries once each, concurrently (at most ``concurrency`` requests at
        once), and return each as stored afterwards, in order of ids (None: no such delivery).

        The store is read and written a batch at a time (one read, one claim, one settlement per
        ``BATCH`` deliveries), not a delivery at a time: a worker's throughput is bounded by round
        trips to the store, not by the receivers. A batch whose store work failed is logged and
        its deliveries come back as None; they stay PENDING and the sweeper finds them again.
        """
        ids = list(delivery_ids)
        outcome: dict[str, Delivery | None] = {}
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            try:
                outcome.update(await self._batch(chunk))
            except Exception:
                log.exception("delivery_batch_failed", deliveries=len(chunk), first=chunk[0])
        return [outcome.get(delivery_id) for delivery_id in ids]

    async def attempt(self, delivery_id: str) -> Delivery | None:
        """Attempt one delivery once and return it as stored afterwards (None: no such delivery).

        Deliveries that are not PENDING are returned untouched: someone delivered, abandoned or
        superseded them already. So is one that another attempt holds (``claimed_until``).
        """
        [done] = await self.attempt_many([delivery_id])
        return done

    async def _batch(self, ids: list[str]) -> dict[str, Delivery | None]:
        store = self._services.store
        now = self._services.clock()
        found = {delivery.id: delivery for delivery in await store.outbox.get_many(ids)}
        result: dict[str, Delivery | None] = {}
        candidates: list[Delivery] = []
        for delivery_id in dict.fromkeys(ids):
            delivery = found.get(delivery_id)
            if delivery is None:
                log.warning("delivery_unknown", delivery=delivery_id)
                result[delivery_id] = None
            elif delivery.state is not DeliveryState.PENDING:
                result[delivery_id] = delivery
            elif delivery.claimed_until is not None and delivery.claimed_until > now:
                log.info("delivery_in_flight", delivery=delivery_id)
                result[delivery_id] = delivery
            else:
                candidates.append(delivery)

        receivers = await self._receivers({d.target_platform_id for d in candidates})
        closing: list[tuple[Delivery, DeliveryState, str]] = []
        sendable: list[Delivery] = []
        for delivery in candidates:
            receiver = receivers[delivery.target_platform_id]
            if isinstance(receiver, str):
                closing.append((delivery, DeliveryState.DEAD, receiver))
            else:
                sendable.append(delivery)
        newer = await self._newer_versions(sendable)
        for delivery in sendable:
            if delivery.id in newer:
                successor = newer[delivery.id]
                reason = f"superseded by {successor.id} (version {successor.object_version})"
                closing.append((delivery, DeliveryState.SUPERSEDED, reason))
        sendable = [delivery for delivery in sendable if delivery.id not in newer]
        result.update(await self._close_many(closing))

        claimed = await self._claim_many(sendable, result)
        sent = await asyncio.gather(
            *(self._bounded_send(delivery, receivers[delivery.target_platform_id]) for delivery in claimed)
        )
        ended = self._services.clock()
        settled = [
            self._settle(delivery, attempt, invalid_url, ended)
            for delivery, (attempt, invalid_url) in zip(claimed, sent, strict=True)
        ]
        written = await store.outbox.update_many([changed for changed, _ in settled])
        # Bound once for the batch's lines: the module's logger binds anew at every call otherwise.
        attempts_log = log.bind() if _records.isEnabledFor(logging.INFO) else None
        for delivery, (attempt, invalid_url), (_, verdict), stored in zip(
            claimed, sent, settled, written, strict=True
        ):
            final: Delivery | None = stored
            if stored is None:  # someone wrote meanwhile: apply the attempt on top, or yield to them

                def again(
                    current: Delivery, attempt: Attempt = attempt, invalid_url: bool = invalid_url
                ) -> tuple[Delivery, Verdict]:
                    return self._settle(current, attempt, invalid_url, ended)

                final, verdict_again = await self._save(delivery, again)
                verdict = verdict_again if verdict_again is not None else verdict
            result[delivery.id] = final
            if attempts_log is not None:
                self._log_attempt(attempts_log, delivery, attempt, verdict, final)
        return result

    async def _receivers(self, platform_ids: set[str]) -> dict[str, tuple[Platform, str] | str]:
        """Each target platform and the token to call it with, or why it cannot be called."""
        receivers: dict[str, tuple[Platform, str] | str] = {}
        for platform_id in sorted(platform_ids):
            platform = await self._services.store.platforms.get(platform_id)
            reason = unreachable(platform, platform_id)
            if reason is not None:
                receivers[platform_id] = reason
                continue
            # unreachable() has ruled these out:
            assert platform is not None
            assert platform.outgoing_token is not None
            try:
                receivers[platform_id] = (platform, self._services.cipher.decrypt(platform.outgoing_token))
            except ValueError as error:
                receivers[platform_id] = str(error)
        return receivers

    async def _newer_versions(self, deliveries: list[Delivery]) -> dict[str, Delivery]:
        """For each delivery a newer version of its object makes moot: that newer delivery."""
        groups: dict[str, list[Delivery]] = {}
        for delivery in deliveries:
            if delivery.object_key is not None and delivery.method.upper() == "PUT":
                groups.setdefault(delivery.target_platform_id, []).append(delivery)
        newer: dict[str, Delivery] = {}
        for platform_id, group in groups.items():
            siblings: dict[str, list[Delivery]] = {}
            keys = [d.object_key for d in group if d.object_key is not None]
            for other in await self._services.store.outbox.for_objects(platform_id, keys):
                if other.object_key is not None:
                    siblings.setdefault(other.object_key.upper(), []).append(other)
            for delivery in group:
                assert delivery.object_key is not None
                successor = superseded_by(delivery, siblings.get(delivery.object_key.upper(), []))
                if successor is not None:
                    newer[delivery.id] = successor
        return newer

    async def _claim_many(
        self, deliveries: list[Delivery], result: dict[str, Delivery | None]
    ) -> list[Delivery]:
        """Take these deliveries for one attempt each; those another attempt took first go to
        ``result`` as they stand now.

        A claim moves ``next_attempt_at`` and ``claimed_until`` past the longest the attempt can
        take, so a sweep for due deliveries and a second hand-out leave it alone while it is in
        flight; if this process dies meanwhile, the claim runs out and the delivery is due again.
        """
        if not deliveries:
            return []
        until = self._services.clock() + self._lease
        written = await self._services.store.outbox.update_many(
            [d.model_copy(update={"next_attempt_at": until, "claimed_until": until}) for d in deliveries]
        )
        claimed = [stored for stored in written if stored is not None]
        lost = [d.id for d, stored in zip(deliveries, written, strict=True) if stored is None]
        if lost:
            log.info("delivery_claimed_elsewhere", deliveries=lost)
            now = {d.id: d for d in await self._services.store.outbox.get_many(lost)}
            result.update({delivery_id: now.get(delivery_id) for delivery_id in lost})
        return claimed

    async def _bounded_send(
        self, delivery: Delivery, receiver: tuple[Platform, str] | str
    ) -> tuple[Attempt, bool]:
        assert not isinstance(receiver, str)
        platform, token = receiver
        async with self._slots:
            return await self._send(delivery, platform, token)

    def _settle(
        self, current: Delivery, attempt: Attempt, invalid_url: bool, now: datetime
    ) -> tuple[Delivery, Verdict]:
        """The delivery after ``attempt``: DELIVERED, PENDING with the next attempt, or DEAD."""
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

    @staticmethod
    def _log_attempt(
        logger: Any, delivery: Delivery, attempt: Attempt, verdict: Verdict | None, stored: Delivery | None
    ) -> None:
        logger.info(
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

    async def _send(self, delivery: Delivery, platform: Platform, token: str) -> tuple[Attempt, bool]:
        """Send the request once; the attempt as recorded, and whether the URL itself is unusable."""
        headers = request_headers(
            delivery,
            authorization=authorization_header(token, encoding=platform.token_encoding),
            request_id=request_id(),
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

    async def _close_many(
        self, closing: list[tuple[Delivery, DeliveryState, str]]
    ) -> dict[str, Delivery | None]:
        """End deliveries without sending them (DEAD or SUPERSEDED), in one write."""
        if not closing:
            return {}
        written = await self._services.store.outbox.update_many(
            [_closed(delivery, state, reason) for delivery, state, reason in closing]
        )
        result: dict[str, Delivery | None] = {}
        for (delivery, state, reason), stored in zip(closing, written, strict=True):
            result[delivery.id] = stored if stored is not None else await self._close(delivery, state, reason)
            log.info(
                "delivery_closed",
                delivery=delivery.id,
                platform=delivery.target_platform_id,
                module=delivery.module,
                state=state.value,
                reason=reason,
            )
        return result

    async def _close(self, delivery: Delivery, state: DeliveryState, reason: str) -> Delivery | None:
        """``_close_many`` for one delivery someone else wrote meanwhile: re-read, close, or yield."""

        def close(current: Delivery) -> tuple[Delivery, None]:
            return _closed(current, state, reason), None

        stored, _ = await self._save(delivery, close)
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
