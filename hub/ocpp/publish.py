"""A hosted CPO's own object, published as a CPO's broadcast push would be: PUT into the mirror and,
when that changed what eMSPs see, one outbox delivery per receiving platform (digest §5.3). Station
Locations and operator-put tariffs both go this way."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from hub.mirror.service import Mirror, PushOutcome
from hub.ocpi.v2_2_1.versions import ModuleID
from hub.outbox.fanout import broadcast_deliveries
from hub.outbox.records import Delivery
from hub.platforms import Platform
from hub.routing.requests import ObjectUrl
from hub.routing.table import PartyRef
from hub.services import Services


async def publish(
    services: Services, mirror: Mirror, module: ModuleID, document: Mapping[str, Any], *, cpo: Platform
) -> tuple[PushOutcome | None, list[Delivery]]:
    """Put ``document`` (owned by ``cpo``'s party, id ``document["id"]``) and record its deliveries.

    Returns the mirror's outcome (None: it could not place it) and the deliveries recorded, which the
    caller hands to the job port, or leaves PENDING for the running hub's sweeper.
    """
    owner = PartyRef(str(document["country_code"]), str(document["party_id"]))
    object_id = str(document["id"])
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    prepared = mirror.prepare(module.value, "PUT", ObjectUrl(owner, (object_id,)), None, body.encode())
    assert prepared is not None  # locations and tariffs are mirrored
    outcome = await mirror.apply(prepared, strict=True)
    if outcome is None or not outcome.changed:
        return outcome, []
    settings = services.settings
    deliveries = broadcast_deliveries(
        await services.store.platforms.all(),
        module,
        outcome,
        sender_platform_id=cpo.id,
        hub=PartyRef(settings.country_code, settings.party_id),
        method="PUT",
        tail=f"/{owner.country_code}/{owner.party_id}/{object_id}",
        query_string="",
        body=body,
        correlation_id=str(uuid.uuid4()),
        now=services.clock(),
    )
    if deliveries:
        await services.store.outbox.add(deliveries)
    return outcome, deliveries
