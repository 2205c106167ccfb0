"""The deliveries of one broadcast (digest §5.3): one per receiving platform, from the hub.

Pure. A push a party sent to the hub and an object the hub pulled from a party fan out alike: the
mirror says whether the object changed and who may see it, ``recipients`` picks the receivers,
and each gets the same request against its own Receiver endpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from hub.mirror.service import PushOutcome
from hub.ocpi.v2_2_1.versions import InterfaceRole, ModuleID
from hub.outbox.records import Delivery
from hub.platforms import Platform
from hub.routing.broadcast import recipients
from hub.routing.forwarder import join
from hub.routing.table import PartyRef


def broadcast_deliveries(
    platforms: Sequence[Platform],
    module: ModuleID,
    outcome: PushOutcome,
    *,
    sender_platform_id: str,
    hub: PartyRef,
    method: str,
    tail: str,
    query_string: str,
    body: str | None,
    correlation_id: str,
    now: datetime,
) -> list[Delivery]:
    """What the hub owes the receivers of a changed object; none when the push changed nothing.

    ``tail`` is the object's path below the module URL (``/NL/TNM/LOC1``), ``query_string`` what
    follows ``?`` (tokens carry ``type``), ``body`` the exact text to send.
    """
    if not outcome.changed:
        return []
    deliveries: list[Delivery] = []
    for platform, party in recipients(
        platforms, module, sender_platform_id=sender_platform_id, audience=outcome.audience
    ):
        endpoint = platform.endpoint(module.value, InterfaceRole.RECEIVER.value)
        assert endpoint is not None  # recipients() only yields platforms that have one
        deliveries.append(
            Delivery(
                target_platform_id=platform.id,
                to_country_code=party.country_code,
                to_party_id=party.party_id,
                from_country_code=hub.country_code,
                from_party_id=hub.party_id,
                method=method,
                url=join(endpoint.url, tail) + (f"?{query_string}" if query_string else ""),
                body=body,
                module=module.value,
                object_key=outcome.key,
                object_version=outcome.version,
                correlation_id=correlation_id,
                created_at=now,
                next_attempt_at=now,
            )
        )
    return deliveries
