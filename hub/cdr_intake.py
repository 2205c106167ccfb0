"""CDR intake: the hub accepts a CDR for clearing, and from then on answers for it.

A CDR POSTed to the hub (to an eMSP, or to the hub itself) is not forwarded while the CPO waits: it is
validated, checked (``hub.clearing.checks``), written in canonical JSON and signed with the hub's key
(``Hub-Signature``), stored with its sender, receiver and time of receipt, entered in the evidence
ledger, and recorded in the outbox for its eMSP; then the CPO gets 1000 and a ``Location`` on the hub.
A CDR id the owner sent before is answered the same way again and never delivered twice. When the
delivery ends (delivered, or a dead letter) its outcome goes into the ledger too.

The record, its delivery and its ledger entry are written together (``ClearingStore.accept``: one
transaction on SQLite). A store that writes them one after the other can lose the delivery to a
crash; the owner's retry then finds the record, and the missing delivery is recorded (``_again``).
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog

from hub.clearing.checks import check_cdr
from hub.clearing.records import ClearedCdr, ClearingState, Evidence, cdr_key, digest
from hub.errors import InvalidParameters, UnknownReceiver
from hub.mirror.records import storage_key
from hub.ocpi.v2_2_1.cdrs import CDR
from hub.ocpi.v2_2_1.versions import InterfaceRole, ModuleID
from hub.outbox.records import Delivery, DeliveryState, new_delivery_id
from hub.platforms import Platform
from hub.routing.table import PartyRef
from hub.services import Services
from hub.signing.jws import HUB_SIGNATURE, canonical_json, parse_body
from hub.store import Conflict, StaleWrite

log = structlog.get_logger(__name__)

Deliver = Callable[[Sequence[str]], Awaitable[None]]
ACCEPTED = "CDR_ACCEPTED"
RELEASED = "CDR_RELEASED"
OUTCOMES = {DeliveryState.DELIVERED: "CDR_DELIVERED", DeliveryState.DEAD: "CDR_DEAD"}


def location_path(record: ClearedCdr) -> str:
    """Where the hub serves a cleared CDR (the ``Location`` the CPO gets)."""
    return f"/ocpi/2.2.1/clearing/cdrs/{record.country_code}/{record.party_id}/{record.cdr_id}"


def cdr_delivery(
    record: ClearedCdr,
    url: str,
    delivery_id: str,
    correlation_id: str,
    now: datetime,
    document: Mapping[str, Any] | None = None,
) -> Delivery:
    """The delivery of a cleared CDR to its eMSP: its canonical text, POSTed with its signature, on
    behalf of its CPO (the routing headers name the CPO and the eMSP). ``document`` is the record's
    document already parsed, if the caller has it (else its text is read here)."""
    if document is None:
        document = json.loads(record.document)
    return Delivery(
        id=delivery_id,
        target_platform_id=record.receiver_platform_id,
        to_country_code=record.receiver_country_code,
        to_party_id=record.receiver_party_id,
        from_country_code=record.country_code,
        from_party_id=record.party_id,
        method="POST",
        url=url,
        body=record.document,
        headers={HUB_SIGNATURE: record.signature},
        module=ModuleID.CDRS.value,
        object_key=f"cdrs|{record.key.replace('*', '|')}",
        object_version=str(document.get("last_updated", "")),
        correlation_id=correlation_id,
        created_at=now,
        next_attempt_at=now,
    )


class CdrIntake:
    def __init__(self, services: Services, deliver: Deliver) -> None:
        self._services = services
        self._deliver = deliver

    async def accept(
        self,
        body: bytes,
        cdr: CDR,
        *,
        sender: Platform,
        origin: PartyRef,
        receiver: PartyRef,
        receiver_platform: Platform,
        correlation_id: str,
    ) -> ClearedCdr:
        """Take the CDR into clearing (or find it taken before) and return its record."""
        store = self._services.store
        owner = PartyRef(cdr.country_code, cdr.party_id)
        if owner.key != origin.key:
            raise InvalidParameters(
                f"country_code/party_id: the CDR belongs to {owner.key}, but {origin.key} sent it"
            )
        endpoint = receiver_platform.endpoint(ModuleID.CDRS.value, InterfaceRole.RECEIVER.value)
        if endpoint is None:
            raise UnknownReceiver(f"{receiver.key} publishes no cdrs RECEIVER endpoint")
        key = cdr_key(cdr.country_code, cdr.party_id, cdr.id)
        parsed = parse_body(body)
        document = canonical_json(parsed).decode("utf-8")

        # A CDR seen before is found when its record is written (``Conflict``, answered by ``_again``):
        # no look-up ahead of that for the many that are new.
        if cdr.credit:
            reference = cdr.credit_reference_id or ""
            original = await store.clearing.get(cdr_key(cdr.country_code, cdr.party_id, reference))
            if original is None:
                raise InvalidParameters(
                    f"credit_reference_id: {reference!r} names no CDR of {owner.key} the hub has accepted"
                )

        token = cdr.cdr_token
        # Whether the mirror holds the token and the location. A token it lacks is unknown (None),
        # not a warning: many eMSPs authorize in real time and never push their tokens.
        token_key = storage_key("tokens", token.country_code, token.party_id, token.uid, token.type.value)
        location_key = storage_key("locations", cdr.country_code, cdr.party_id, cdr.cdr_location.id)
        mirrored = await store.mirror.held([token_key, location_key])
        verdict = check_cdr(
            cdr,
            tariffs=await self._tariffs(cdr),
            known_token=True if token_key in mirrored else None,
            known_location=location_key in mirrored,
        )
        held = verdict.status.value == "failed" and self._services.settings.hold_failed_cdrs
        signature, kid = await self._services.signer.sign_canonical(document.encode("utf-8"))
        now = self._services.clock()
        delivery_id = new_delivery_id()
        record = ClearedCdr(
            key=key,
            country_code=cdr.country_code,
            party_id=cdr.party_id,
            cdr_id=cdr.id,
            sender_platform_id=sender.id,
            receiver_country_code=receiver.country_code,
            receiver_party_id=receiver.party_id,
            receiver_platform_id=receiver_platform.id,
            received_at=now,
            document=document,
            sha256=digest(document),
            signature=signature,
            kid=kid,
            verdict=verdict.to_json(),
            verdict_status=verdict.status.value,
            state=ClearingState.HELD if held else ClearingState.QUEUED,
            delivery_id=None if held else delivery_id,
            credit=bool(cdr.credit),
            credit_reference_id=cdr.credit_reference_id,
            end_date_time=cdr.end_date_time,
        )
        deliveries = (
            [] if held else [cdr_delivery(record, endpoint.url, delivery_id, correlation_id, now, parsed)]
        )
        try:
            stored = await store.clearing.accept(record, deliveries, Evidence(ACCEPTED, now, self._evidence))
        except Conflict:  # accepted before, or just now by a request that sent it at the same time
            return await self._again(await self._must_get(key), document)
        log.info(
            "cdr_accepted",
            cdr=key,
            receiver=receiver.key,
            verdict=verdict.status.value,
            state=stored.state.value,
            delivery=stored.delivery_id,
        )
        if not held:
            await self._deliver([delivery_id])
        return stored

    async def _again(self, earlier: ClearedCdr, document: str) -> ClearedCdr:
        """A CDR key seen before: the same CDR is answered as before; different content is refused."""
        if earlier.document != document:
            raise InvalidParameters(
                f"id: the CDR {earlier.key} was accepted before with other content; a CDR cannot be "
                "changed (send a credit CDR and a new one)"
            )
        if earlier.delivery_id is not None and await self._orphaned(earlier, earlier.delivery_id):
            # The process that accepted it died before recording the delivery: record it now.
            with contextlib.suppress(Conflict):  # unless it was recorded meanwhile after all
                await self._deliver([await self._requeue(earlier, earlier.delivery_id)])
        log.info("cdr_repeated", cdr=earlier.key)
        return earlier

    async def _orphaned(self, record: ClearedCdr, delivery_id: str) -> bool:
        """Whether the record's delivery is missing for good: not in the outbox, although the request
        that accepted the CDR would have recorded it long ago (it may be under way right now)."""
        settled_by = record.received_at + timedelta(seconds=self._services.settings.request_timeout)
        if self._services.clock() < settled_by:
            return False
        return await self._services.store.outbox.get(delivery_id) is None

    async def release(self, key: str) -> ClearedCdr:
        """Deliver a CDR that was held for review (an operator's decision)."""
        record = await self._must_get(key)
        if record.state is not ClearingState.HELD:
            raise InvalidParameters(f"the CDR {record.key} is {record.state.value}, not HELD")
        delivery_id = await self._requeue(record, None)
        try:
            stored = await self._services.store.clearing.update(
                record.model_copy(update={"state": ClearingState.QUEUED, "delivery_id": delivery_id})
            )
        except StaleWrite:
            raise InvalidParameters(f"the CDR {record.key} changed meanwhile; try again") from None
        await self._services.store.ledger.append(
            RELEASED, key, self._evidence(stored), self._services.clock()
        )
        await self._deliver([delivery_id])
        return stored

    async def _requeue(self, record: ClearedCdr, delivery_id: str | None) -> str:
        platform = await self._services.store.platforms.get(record.receiver_platform_id)
        endpoint = (
            None if platform is None else platform.endpoint(ModuleID.CDRS.value, InterfaceRole.RECEIVER.value)
        )
        if endpoint is None:
            raise UnknownReceiver(f"{record.receiver_key} publishes no cdrs RECEIVER endpoint any more")
        delivery = cdr_delivery(
            record, endpoint.url, delivery_id or new_delivery_id(), str(uuid.uuid4()), self._services.clock()
        )
        await self._services.store.outbox.add([delivery])
        return delivery.id

    async def record_outcomes(self, deliveries: Sequence[Delivery | None]) -> int:
        """Enter the end of each CDR delivery (delivered or dead) in the record and the ledger, once."""
        entered = 0
        for delivery in deliveries:
            if delivery is None or delivery.module != ModuleID.CDRS.value or delivery.state not in OUTCOMES:
                continue
            record = await self._services.store.clearing.by_delivery(delivery.id)
            target = ClearingState(delivery.state.value)
            if record is None or record.state is target:
                continue
            try:
                stored = await self._services.store.clearing.update(
                    record.model_copy(update={"state": target})
                )
            except StaleWrite:
                continue  # another worker entered it
            last = delivery.attempts[-1] if delivery.attempts else None
            await self._services.store.ledger.append(
                OUTCOMES[delivery.state],
                record.key,
                {
                    "delivery_id": delivery.id,
                    "receiver": record.receiver_key,
                    "attempts": len(delivery.attempts),
                    "http_status": None if last is None else last.http_status,
                    "ocpi_status": None if last is None else last.ocpi_status,
                    "reason": delivery.reason,
                    "sha256": stored.sha256,
                },
                self._services.clock(),
            )
            entered += 1
        return entered

    async def _tariffs(self, cdr: CDR) -> list[Any]:
        """Tariffs the CDR names in its periods but does not carry, from the mirror."""
        carried = {t.id.upper() for t in cdr.tariffs or []}
        wanted = {
            p.tariff_id for p in cdr.charging_periods if p.tariff_id and p.tariff_id.upper() not in carried
        }
        found = []
        for tariff_id in sorted(wanted):
            record = await self._services.store.mirror.get(
                "tariffs", cdr.country_code, cdr.party_id, tariff_id
            )
            if record is not None:
                found.append(record.document)
        return found

    async def _must_get(self, key: str) -> ClearedCdr:
        record = await self._services.store.clearing.get(key)
        if record is None:
            raise InvalidParameters(f"the hub holds no CDR {key}")
        return record

    @staticmethod
    def _evidence(record: ClearedCdr) -> dict[str, Any]:
        return {
            "sender_platform": record.sender_platform_id,
            "receiver": record.receiver_key,
            "received_at": record.received_at.isoformat(),
            "sha256": record.sha256,
            "kid": record.kid,
            "signature": record.signature,
            "verdict": record.verdict_status,
            "state": record.state.value,
            "delivery_id": record.delivery_id,
        }
