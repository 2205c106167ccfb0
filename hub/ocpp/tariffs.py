"""Tariffs of hosted CPOs: put by the hub operator, mirrored and broadcast like a CPO's tariff push.

The hub prices the CDRs of its hosted stations with them (``hub.ocpp.cdrs``): a hosted CPO with
several tariffs has its CDRs priced with the first by id (``pick_tariff``); one tariff per hosted
CPO is what this slice is made for.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from pydantic import ValidationError

from hub.mirror.records import MirrorRecord
from hub.mirror.service import Mirror
from hub.ocpi.base import describe
from hub.ocpi.types import format_datetime
from hub.ocpi.v2_2_1.tariffs import Tariff
from hub.ocpi.v2_2_1.versions import ModuleID
from hub.ocpp.operators import find_cpo
from hub.ocpp.publish import publish
from hub.operators import OperatorError
from hub.outbox.records import Delivery
from hub.services import Services

log = structlog.get_logger(__name__)
_PAGE = 200


async def put_tariff(services: Services, *, cpo: str, document: Any) -> tuple[dict[str, Any], list[Delivery]]:
    """Store ``document`` as a tariff of the hosted CPO ``cpo`` (``CC*PID``) and record its broadcast
    to every party with a tariffs RECEIVER endpoint; the deliveries are left for the caller (the CLI
    leaves them PENDING for the running hub). ``country_code``/``party_id`` may be left out of the
    document (the CPO's are filled in), ``last_updated`` too (now)."""
    platform = await find_cpo(services, cpo)
    owner = platform.roles[0]
    if not isinstance(document, dict):
        raise OperatorError("the tariff file must hold one JSON object")
    tariff = dict(document)
    for field, value in (("country_code", owner.country_code), ("party_id", owner.party_id)):
        given = tariff.setdefault(field, value)
        if str(given).upper() != value:
            raise OperatorError(
                f"{field}: the tariff names {given!r}, but the CPO {owner.party_key} has {value!r}"
            )
    tariff.setdefault("last_updated", format_datetime(services.clock()))
    try:
        Tariff.model_validate(tariff)
    except ValidationError as error:
        raise OperatorError(f"not a valid OCPI Tariff: {describe(error)}") from None

    outcome, deliveries = await publish(
        services, Mirror(services.store.mirror), ModuleID.TARIFFS, tariff, cpo=platform
    )
    if outcome is None:
        raise OperatorError(f"the tariff {tariff['id']} was not stored")
    log.info("hosted_tariff_put", cpo=owner.party_key, tariff=tariff["id"], receivers=len(deliveries))
    return tariff, deliveries


async def cpo_tariffs(services: Services, country_code: str, party_id: str) -> list[dict[str, Any]]:
    """The mirrored tariffs of one CPO, by id. Reads every mirrored tariff: fine for a hub's few."""
    found: list[MirrorRecord] = []
    after: int | None = None
    while True:
        page, _ = await services.store.mirror.page(
            ModuleID.TARIFFS.value,
            viewer_keys=None,
            date_from=None,
            date_to=None,
            after_seq=after,
            offset=0,
            limit=_PAGE,
        )
        found += [
            r
            for r in page
            if r.country_code.upper() == country_code.upper() and r.party_id.upper() == party_id.upper()
        ]
        if len(page) < _PAGE:
            break
        after = page[-1].seq
    return [r.document for r in sorted(found, key=lambda r: r.object_id.upper())]


def pick_tariff(tariffs: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The tariff a hosted CPO's CDR is priced with: the only one, or the first by id; None without."""
    return min(tariffs, key=lambda t: str(t["id"]).upper(), default=None)
