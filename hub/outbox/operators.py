"""What hub operators do to the outbox, shared by the CLI (and later the console): look at
deliveries, re-drive dead letters, and clear away finished ones.

The commands run in their own process and only write the store. A retried delivery is PENDING and
due at once; the running hub's sweeper (embedded mode) or the workers attempt it, as they would
any due delivery. A dead letter keeps its attempts when it is re-driven, and its retry horizon
still counts from when it was created: a letter older than the horizon gets one more attempt, and
is dead again if that fails.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import structlog

from hub.operators import OperatorError, find
from hub.outbox.records import Delivery, DeliveryState
from hub.services import Services
from hub.store import StaleWrite

log = structlog.get_logger(__name__)

# ``list`` without states: what may still need someone's attention.
OPEN_STATES = (DeliveryState.PENDING, DeliveryState.DEAD)
# Dead letters read per page by ``retry_all_dead``.
_PAGE = 500
_SAVE_TRIES = 5


async def target_of(services: Services, reference: str) -> str:
    """The platform id a ``--party`` option names: a platform id, or one of its parties (``CC*PID``).

    Deliveries outlive their platform, so a platform id the hub no longer knows is taken as it is.
    """
    try:
        return (await find(services, reference)).id
    except OperatorError:
        if reference.startswith("p-"):
            return reference
        raise


async def listing(
    services: Services,
    *,
    states: Sequence[DeliveryState] = OPEN_STATES,
    party: str | None = None,
    limit: int = 50,
) -> list[Delivery]:
    """Deliveries in these states (to one platform, if ``party`` names one), oldest first."""
    if limit <= 0:
        raise OperatorError("the limit must be a positive number")
    outbox = services.store.outbox
    wanted = list(dict.fromkeys(DeliveryState(state) for state in states)) or list(OPEN_STATES)
    if party is not None:
        target = await target_of(services, party)
        return await outbox.for_target(target, states=wanted, limit=limit)
    found = [d for state in wanted for d in await outbox.by_state(state, limit=limit)]
    # Each state's page is oldest first; together they are ordered again (sort is stable).
    return sorted(found, key=lambda d: d.created_at)[:limit]


async def get(services: Services, delivery_id: str) -> Delivery:
    delivery = await services.store.outbox.get(delivery_id)
    if delivery is None:
        raise OperatorError(f"no delivery {delivery_id!r}; see 'outbox list'")
    return delivery


def redriven(delivery: Delivery, *, now: datetime) -> Delivery:
    """A dead letter made PENDING and due ``now``, its reason cleared and its attempts kept."""
    if delivery.state is not DeliveryState.DEAD:
        raise OperatorError(
            f"delivery {delivery.id} is {delivery.state.value}; only DEAD deliveries can be retried"
        )
    return delivery.model_copy(
        update={
            "state": DeliveryState.PENDING,
            "next_attempt_at": now,
            "claimed_until": None,
            "reason": None,
        }
    )


async def retry(services: Services, delivery_ids: Iterable[str]) -> list[Delivery]:
    """Re-drive these dead letters; all of them, or none if one cannot be (unknown, not DEAD).

    Returns them as stored. Compare-and-set: a letter someone else changed meanwhile is read again,
    and refused if it is no longer DEAD.
    """
    ids = list(dict.fromkeys(delivery_ids))
    if not ids:
        raise OperatorError("name at least one delivery, or use --all-dead")
    found = [await get(services, delivery_id) for delivery_id in ids]
    for delivery in found:
        redriven(delivery, now=services.clock())  # refuses before anything is written
    return [await _redrive(services, delivery) for delivery in found]


async def retry_all_dead(services: Services, *, party: str | None = None) -> list[Delivery]:
    """Re-drive every dead letter (to one platform, if ``party`` names one); returns them as stored.

    A letter that stopped being DEAD meanwhile (another operator, a purge) is skipped.
    """
    outbox = services.store.outbox
    target = None if party is None else await target_of(services, party)
    done: list[Delivery] = []
    seen: set[str] = set()
    while True:
        if target is None:
            page = await outbox.by_state(DeliveryState.DEAD, limit=_PAGE)
        else:
            page = await outbox.for_target(target, states=[DeliveryState.DEAD], limit=_PAGE)
        fresh = [d for d in page if d.id not in seen]
        if not fresh:
            return done
        for delivery in fresh:
            seen.add(delivery.id)
            try:
                done.append(await _redrive(services, delivery))
            except OperatorError as error:
                log.info("delivery_retry_skipped", delivery=delivery.id, reason=str(error))


async def _redrive(services: Services, delivery: Delivery) -> Delivery:
    current: Delivery | None = delivery
    for _ in range(_SAVE_TRIES):
        if current is None:
            raise OperatorError(f"delivery {delivery.id} was removed meanwhile")
        try:
            stored = await services.store.outbox.update(redriven(current, now=services.clock()))
        except StaleWrite:
            current = await services.store.outbox.get(delivery.id)
            continue
        log.info("delivery_retried", delivery=stored.id, platform=stored.target_platform_id)
        return stored
    raise OperatorError(f"delivery {delivery.id} keeps changing; try again")


async def purge(
    services: Services, states: Sequence[DeliveryState], *, before: datetime | None = None
) -> int:
    """Delete finished deliveries in these states created before ``before`` (None: whenever)."""
    wanted = [DeliveryState(state) for state in states]
    if not wanted:
        raise OperatorError("name the states to purge: DEAD, DELIVERED or SUPERSEDED")
    if DeliveryState.PENDING in wanted:
        raise OperatorError("PENDING deliveries are still owed and are never purged")
    deleted = await services.store.outbox.purge(wanted, before=before)
    log.info(
        "outbox_purged",
        states=[s.value for s in wanted],
        before=None if before is None else before.isoformat(),
        deleted=deleted,
    )
    return deleted


def describe(delivery: Delivery, *, body_limit: int | None = None) -> dict[str, Any]:
    """What an operator sees of a delivery: every field, the receiving party as ``CC*PID``.

    ``body_limit`` shortens the body for a table (the JSON view shows it whole). Nothing here is a
    secret: the token is the platform's, never the delivery's.
    """
    document: dict[str, Any] = delivery.model_dump(mode="json")
    document["to"] = f"{delivery.to_country_code}*{delivery.to_party_id}"
    document["from"] = f"{delivery.from_country_code}*{delivery.from_party_id}"
    body = delivery.body
    if body_limit is not None and body is not None and len(body) > body_limit:
        document["body"] = body[:body_limit] + f"… ({len(body)} characters)"
    return document
