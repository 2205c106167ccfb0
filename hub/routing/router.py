"""Routing of one request to a functional module interface of the hub (digest §5).

The pure rules decide (``table``, ``requests``); this module carries the decision out: validate,
update the mirror, forward or fan out, and answer. It knows aiohttp only through the forwarder.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import structlog

from hub.background import Background
from hub.cdr_intake import CdrIntake, location_path
from hub.errors import (
    ForwardTimeout,
    InvalidParameters,
    NotFound,
    ReceiverNotConnected,
    RoutingError,
    UnknownReceiver,
)
from hub.mirror.service import Mirror, PushOutcome
from hub.ocpi.base import OcpiModel, parse_json
from hub.ocpi.envelope import envelope
from hub.ocpi.pagination import read_page_request
from hub.ocpi.status import OcpiStatus
from hub.ocpi.v2_2_1.cdrs import CDR
from hub.ocpi.v2_2_1.commands import CommandType
from hub.ocpi.v2_2_1.hubclientinfo import ConnectionStatus
from hub.ocpi.v2_2_1.versions import InterfaceRole, ModuleID
from hub.outbox.fanout import broadcast_deliveries
from hub.outbox.records import Delivery
from hub.platforms import Platform
from hub.routing.forwarder import Forwarder, Relayed, join
from hub.routing.hosted import HOSTED_MODULES, HostedParties, HostedRequest
from hub.routing.links import LinkKind, ProxyLink, link_url
from hub.routing.requests import (
    ObjectUrl,
    body_model,
    check_owner,
    command_type,
    is_authorization,
    object_url,
    sender,
)
from hub.routing.table import (
    FROM_COUNTRY,
    FROM_PARTY,
    TO_COUNTRY,
    TO_PARTY,
    PartyRef,
    Scenario,
    decide,
    header_party,
    target_roles,
)
from hub.services import Services

log = structlog.get_logger(__name__)


@dataclass
class Call:
    """One request to a functional module interface, as the router needs it."""

    platform: Platform
    method: str
    module: ModuleID
    interface: InterfaceRole
    tail: tuple[str, ...]  # decoded path segments after the module URL
    raw_tail: str  # the same, as written in the URL (forwarded exactly)
    query_string: str
    headers: Mapping[str, str]
    body: bytes
    correlation_id: str
    query: Mapping[str, str] = field(default_factory=dict)


def own_answer(
    data: Any = None,
    *,
    status_code: int = OcpiStatus.SUCCESS,
    message: str | None = None,
    http_status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Relayed:
    """An answer the hub gives itself, in the envelope."""
    body = json.dumps(envelope(data, status_code=status_code, status_message=message)).encode()
    return Relayed(
        status=http_status,
        body=body,
        headers={"Content-Type": "application/json", **(headers or {})},
        ocpi_status=int(status_code),
    )


def parties_of(platform: Platform) -> list[PartyRef]:
    seen: dict[str, PartyRef] = {}
    for entry in platform.roles:
        party = PartyRef(entry.country_code, entry.party_id)
        seen.setdefault(party.key, party)
    return list(seen.values())


class Router:
    def __init__(
        self,
        services: Services,
        forwarder: Forwarder,
        mirror: Mirror,
        deliver: Callable[[Sequence[str]], Awaitable[None]],
        background: Background,
        hosted: HostedParties | None = None,
    ) -> None:
        self._services = services
        # Answers for hosted CPOs (``hub.routing.hosted``); set once the OCPP side is up.
        self._hosted = hosted
        self._forwarder = forwarder
        self._mirror = mirror
        self._background = background
        # Called with the ids of freshly recorded deliveries; attempts them now (see hub.jobs).
        self._deliver = deliver
        settings = services.settings
        self._hub = PartyRef(settings.country_code, settings.party_id)
        self._intake = CdrIntake(services, deliver)

    def answer_hosted_with(self, hosted: HostedParties) -> None:
        self._hosted = hosted

    # --- entry ----------------------------------------------------------------------------------

    async def route(self, call: Call) -> Relayed:
        own = parties_of(call.platform)
        to = header_party(call.headers, TO_COUNTRY, TO_PARTY)
        if to is not None and header_party(call.headers, FROM_COUNTRY, FROM_PARTY) is None:
            raise InvalidParameters(f"{FROM_COUNTRY}/{FROM_PARTY}: headers are missing (OCPI-to-* is set)")
        origin = sender(call.headers, own)
        url = object_url(call.module, call.interface, call.tail)
        check_owner(url, own)
        scenario = decide(call.method, call.module, call.interface, call.tail, to, self._hub)
        parsed = self._validate(call)
        structlog.contextvars.bind_contextvars(scenario=scenario.value)
        if (
            call.module is ModuleID.CDRS
            and call.interface is InterfaceRole.RECEIVER
            and call.method == "POST"
        ):
            assert isinstance(parsed, CDR)  # _validate checked the body against the CDR model
            return await self._clear(call, url, origin, to, parsed)
        if scenario is Scenario.GET_ALL:
            return await self._get_all(call, own, origin)
        if scenario is Scenario.HUB_COPY:
            return await self._hub_copy(call, url, own)
        if scenario is Scenario.BROADCAST:
            return await self._broadcast(call, url, origin, parsed)
        if scenario is Scenario.OPEN:
            to = await self._open_target(call, url, parsed)
            if to is None:
                return await self._broadcast(call, url, origin, parsed)
        assert to is not None
        return await self._direct(call, url, origin, to, parsed)

    def _validate(self, call: Call) -> OcpiModel | None:
        model = body_model(call.module, call.interface, call.method, call.tail)
        if model is None:
            return None
        if not call.body.strip():
            if is_authorization(call.module, call.interface, call.method, call.tail):
                return None  # LocationReferences are optional
            raise InvalidParameters(f"body: a {model.__name__} object is required")
        return parse_json(model, call.body)

    # --- direct and open routing ----------------------------------------------------------------

    async def _direct(
        self, call: Call, url: ObjectUrl | None, origin: PartyRef, to: PartyRef, parsed: OcpiModel | None
    ) -> Relayed:
        platform = await self._target(to, call.module, call.interface)
        if platform.hosted:
            return await self._hosted_answer(call, origin, to, parsed)
        endpoint = platform.endpoint(call.module.value, call.interface.value)
        if endpoint is None:
            raise RoutingError(f"{to.key} publishes no {call.module.value} {call.interface.value} endpoint")
        if parsed is not None and (url is not None or call.module is ModuleID.CDRS):
            prepared = self._mirror.prepare(
                call.module.value, call.method, url, call.query.get("type"), call.body
            )
            if prepared is not None:
                # The receiver gets the push whatever the mirror does; keep the copy off the answer's
                # path (the broadcast path, where the hub itself accepts the push, stores first).
                await self._background.spawn(self._mirror.apply_in_order(prepared, strict=False))
        body: bytes | None = call.body if call.body else None
        query_string = call.query_string
        if call.method in ("POST", "PUT") and call.module in (ModuleID.COMMANDS, ModuleID.CHARGING_PROFILES):
            body = await self._proxy_response_url(call, origin, to, platform, parsed)
        if call.module is ModuleID.CHARGING_PROFILES and call.method in ("GET", "DELETE"):
            query_string = await self._proxy_response_url_query(call, origin, to, platform)
        target_url = join(endpoint.url, call.raw_tail) + (f"?{query_string}" if query_string else "")
        settings = self._services.settings
        authorization = is_authorization(call.module, call.interface, call.method, call.tail)
        timeout = settings.authorize_timeout if authorization else settings.forward_timeout
        try:
            relayed = await self._forwarder.send(
                platform,
                call.method,
                target_url,
                body=body,
                to=to,
                sender=origin,
                correlation_id=call.correlation_id,
                within=timeout,
            )
        except (ForwardTimeout, ReceiverNotConnected) as error:
            if authorization:
                fallback = await self._authorize_from_mirror(call, origin, to, error)
                if fallback is not None:
                    return fallback
            raise
        await self._rewrite_answer(relayed, call, origin, to, platform, endpoint.url)
        return relayed

    async def _hosted_answer(
        self, call: Call, origin: PartyRef, to: PartyRef, parsed: OcpiModel | None
    ) -> Relayed:
        """A direct request to a hosted CPO, which the hub answers in the CPO's name: commands and
        charging profiles through the port; a Sender GET of one of its Locations or Tariffs from the
        mirror (where the hub publishes them); anything else as for a CPO without that endpoint."""
        headers = {
            TO_COUNTRY: origin.country_code,
            TO_PARTY: origin.party_id,
            FROM_COUNTRY: to.country_code,
            FROM_PARTY: to.party_id,
        }
        receiver = call.interface is InterfaceRole.RECEIVER
        if receiver and call.module in HOSTED_MODULES and self._hosted is not None:
            request = HostedRequest(
                method=call.method,
                module=call.module,
                tail=call.tail,
                query=call.query,
                parsed=parsed,
                origin=origin,
                origin_platform=call.platform,
                cpo=to,
                correlation_id=call.correlation_id,
            )
            answer = await self._hosted.answer(request)
            return own_answer(
                answer.data, status_code=answer.status_code, message=answer.message, headers=headers
            )
        mirrored = (ModuleID.LOCATIONS, ModuleID.TARIFFS)
        if not receiver and call.method == "GET" and call.module in mirrored and call.tail:
            document = await self._mirror.object(call.module.value, ObjectUrl(to, call.tail), None)
            if document is None:
                raise NotFound(f"{to.key} has no such {call.module.value[:-1]}: /{'/'.join(call.tail)}")
            return own_answer(document, headers=headers)
        raise RoutingError(
            f"{to.key} is operated by this hub, which answers its commands and chargingprofiles "
            f"(RECEIVER) and single Locations and Tariffs (SENDER GET); not "
            f"{call.method} {call.module.value} {call.interface.value}"
        )

    async def _target(
        self, to: PartyRef, module: ModuleID, interface: InterfaceRole, *, offline: bool = False
    ) -> Platform:
        """The platform that hosts ``to`` in a role that receives this module interface; ``offline``:
        an OFFLINE one will do (the hub delivers later through the outbox)."""
        candidates = await self._services.store.platforms.by_party(to.country_code, to.party_id)
        holders = [p for p in candidates if p.registered]
        if not holders:
            if candidates:
                raise ReceiverNotConnected(f"{to.key} is no longer registered with this hub")
            raise UnknownReceiver(f"{to.key} is not known to this hub")
        wanted = set(target_roles(module, interface))
        fitting = [
            p for p in holders if any(r.party_key == to.key and r.role in wanted for r in p.roles)
        ] or holders
        platform = fitting[0]
        usable = (
            (ConnectionStatus.CONNECTED, ConnectionStatus.OFFLINE)
            if offline
            else (ConnectionStatus.CONNECTED,)
        )
        if platform.status not in usable:
            raise ReceiverNotConnected(f"{to.key} is {platform.status.value.lower()}")
        return platform

    async def _open_target(
        self, call: Call, url: ObjectUrl | None, parsed: OcpiModel | None
    ) -> PartyRef | None:
        """Where an Open Routing Request goes, from its content; None: broadcast it."""
        module, method = call.module, call.method
        receiver = call.interface is InterfaceRole.RECEIVER
        missing = (
            f"{TO_COUNTRY}/{TO_PARTY}: headers are missing and the receiver cannot be told from the request"
        )
        if receiver and module in (ModuleID.LOCATIONS, ModuleID.TARIFFS, ModuleID.TOKENS) and url is not None:
            if method in ("PUT", "PATCH") or (method == "DELETE" and module is ModuleID.TARIFFS):
                return None  # the owner's own data, meant for everybody (digest appendix A)
            raise InvalidParameters(missing)
        if receiver and module in (ModuleID.SESSIONS, ModuleID.CDRS):
            document = parsed.to_json() if parsed is not None else None
            if document is not None and "cdr_token" in document:
                token = document["cdr_token"]
                return PartyRef(token["country_code"], token["party_id"])
            if module is ModuleID.SESSIONS and url is not None:
                return await self._owner_of_session_token(url)
            raise InvalidParameters(missing)
        if is_authorization(module, call.interface, method, call.tail):
            token_type = call.query.get("type") or "RFID"
            owners = {
                r.owner_key: PartyRef(r.country_code, r.party_id)
                for r in await self._mirror.find("tokens", call.tail[0])
                if (r.token_type or "RFID").upper() == token_type.upper()
            }
            return self._only(owners, missing, f"token {call.tail[0]}")
        if module is ModuleID.COMMANDS and receiver and parsed is not None:
            kind = command_type(call.tail)
            document = parsed.to_json()
            if kind is CommandType.STOP_SESSION:
                return await self._owner_of("sessions", document["session_id"], missing)
            if "location_id" in document:
                return await self._owner_of("locations", document["location_id"], missing)
            raise InvalidParameters(missing)
        if module is ModuleID.CHARGING_PROFILES and receiver and call.tail:
            return await self._owner_of("sessions", call.tail[0], missing)
        if module is ModuleID.SESSIONS and not receiver and call.tail:
            return await self._owner_of("sessions", call.tail[0], missing)
        if (
            module in (ModuleID.LOCATIONS, ModuleID.TARIFFS)
            and not receiver
            and call.tail
            and method == "GET"
        ):
            return await self._owner_of(module.value, call.tail[0], missing)
        raise InvalidParameters(missing)

    async def _owner_of(self, module: str, object_id: str, missing: str) -> PartyRef:
        owners = {
            r.owner_key: PartyRef(r.country_code, r.party_id)
            for r in await self._mirror.find(module, object_id)
        }
        return self._only(owners, missing, f"{module[:-1]} {object_id}")

    async def _owner_of_session_token(self, url: ObjectUrl) -> PartyRef:
        record = await self._mirror.get("sessions", url.owner, url.ids[0])
        if record is None or "cdr_token" not in record.document:
            raise InvalidParameters(
                f"{TO_COUNTRY}/{TO_PARTY}: headers are missing and the hub holds no session {url.ids[0]}"
            )
        token = record.document["cdr_token"]
        return PartyRef(token["country_code"], token["party_id"])

    @staticmethod
    def _only(owners: Mapping[str, PartyRef], missing: str, what: str) -> PartyRef:
        if len(owners) == 1:
            return next(iter(owners.values()))
        if not owners:
            raise InvalidParameters(f"{missing}: the hub knows no {what}")
        raise InvalidParameters(f"{missing}: {what} belongs to several parties ({', '.join(sorted(owners))})")

    # --- real-time authorization ------------------------------------------------------------------

    async def _authorize_from_mirror(
        self, call: Call, origin: PartyRef, to: PartyRef, error: Exception
    ) -> Relayed | None:
        """When the eMSP does not answer in time, answer from its mirrored token (policy in settings)."""
        if self._services.settings.authorize_fallback != "mirror":
            return None
        record = await self._mirror.get("tokens", to, call.tail[0], call.query.get("type"))
        if record is None:
            return None
        token = record.document
        allowed = "ALLOWED" if token.get("valid") else "BLOCKED"
        log.warning("authorization_answered_from_mirror", token_owner=to.key, reason=str(error))
        return own_answer(
            {"allowed": allowed, "token": token},
            headers={
                TO_COUNTRY: origin.country_code,
                TO_PARTY: origin.party_id,
                FROM_COUNTRY: to.country_code,
                FROM_PARTY: to.party_id,
            },
        )

    # --- links: response_url, Location, Link -------------------------------------------------------

    async def _new_link(
        self,
        kind: LinkKind,
        call: Call,
        *,
        original: str,
        owner: Platform,
        user: Platform,
        to: PartyRef,
        sender: PartyRef,
        methods: Sequence[str],
    ) -> str:
        settings = self._services.settings
        link = ProxyLink(
            kind=kind,
            module=call.module.value,
            url=original,
            target_platform_id=owner.id,
            user_platform_id=user.id,
            to_country_code=to.country_code,
            to_party_id=to.party_id,
            from_country_code=sender.country_code,
            from_party_id=sender.party_id,
            methods=list(methods),
            origin_method=call.method,
            expires_at=self._services.clock() + timedelta(seconds=settings.link_ttl),
        )
        await self._services.store.links.add(link)
        return link_url(settings.public_url, link.id)

    async def _proxy_response_url(
        self, call: Call, origin: PartyRef, to: PartyRef, target: Platform, parsed: OcpiModel | None
    ) -> bytes | None:
        """Commands and charging profiles carry the requester's ``response_url``: the target gets a hub
        URL instead, which forwards the async result to the original. This is the one body change the
        hub makes to what it relays."""
        if parsed is None or call.body is None:
            return call.body or None
        document = json.loads(call.body)
        original = document.get("response_url")
        if not isinstance(original, str):
            return call.body
        document["response_url"] = await self._response_link(call, original, origin, to, target)
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()

    async def _proxy_response_url_query(
        self, call: Call, origin: PartyRef, to: PartyRef, target: Platform
    ) -> str:
        pairs = parse_qsl(call.query_string, keep_blank_values=True)
        rewritten = []
        for name, value in pairs:
            if name == "response_url":
                value = await self._response_link(call, value, origin, to, target)
            rewritten.append((name, value))
        return urlencode(rewritten, quote_via=quote)

    async def _response_link(
        self, call: Call, original: str, origin: PartyRef, to: PartyRef, target: Platform
    ) -> str:
        """A hub URL for the requester's ``response_url``: only the target may POST to it, and what it
        POSTs goes to the requester, from the target."""
        return await self._new_link(
            LinkKind.RESPONSE_URL,
            call,
            original=original,
            owner=call.platform,
            user=target,
            to=origin,
            sender=to,
            methods=["POST"],
        )

    async def _rewrite_answer(
        self,
        relayed: Relayed,
        call: Call,
        origin: PartyRef,
        to: PartyRef,
        target: Platform,
        endpoint_url: str,
    ) -> None:
        """A target's ``Link`` and ``Location`` point at the target: point them at the hub."""
        link = relayed.headers.get("Link")
        if link:
            relayed.headers["Link"] = await self._rewrite_link(link, call, origin, to, target, endpoint_url)
        location = relayed.headers.get("Location")
        if location:
            relayed.headers["Location"] = await self._new_link(
                LinkKind.LOCATION,
                call,
                original=location,
                owner=target,
                user=call.platform,
                to=to,
                sender=origin,
                methods=["GET"],
            )

    async def _rewrite_link(
        self, header: str, call: Call, origin: PartyRef, to: PartyRef, target: Platform, endpoint_url: str
    ) -> str:
        start, end = header.find("<"), header.find(">")
        if start < 0 or end < start:
            return header
        original = header[start + 1 : end]
        base = endpoint_url.rstrip("/")
        public_url = self._services.settings.public_url
        hub_base = f"{public_url}/ocpi/2.2.1/{call.interface.value.lower()}/{call.module.value}"
        if original == base or original.startswith((base + "/", base + "?")):
            # Under the target's module URL: the same path and query under the hub's module URL,
            # which the caller GETs with the same routing headers.
            replacement = hub_base + original[len(base) :]
        else:
            replacement = await self._new_link(
                LinkKind.PAGE,
                call,
                original=original,
                owner=target,
                user=call.platform,
                to=to,
                sender=origin,
                methods=["GET"],
            )
        return header[: start + 1] + replacement + header[end:]

    # --- the hub's own answers from the mirror ------------------------------------------------------

    async def _get_all(self, call: Call, own: Sequence[PartyRef], origin: PartyRef) -> Relayed:
        settings = self._services.settings
        max_limit = settings.page_limit(call.module.value)
        page = read_page_request(call.query, max_limit=max_limit)
        after = call.query.get("after")
        if after is not None and not after.isdigit():
            raise InvalidParameters(f"after: must be a non-negative integer (got {after!r})")
        result = await self._mirror.page(
            call.module.value,
            viewer_keys=[party.key for party in own],
            page=page,
            after_seq=int(after) if after is not None else None,
        )
        headers = {
            "X-Total-Count": str(result.total),
            "X-Limit": str(max_limit),
            TO_COUNTRY: origin.country_code,
            TO_PARTY: origin.party_id,
            FROM_COUNTRY: self._hub.country_code,
            FROM_PARTY: self._hub.party_id,
        }
        if result.next_after is not None:
            query = {
                "offset": str(page.offset + len(result.documents)),
                "limit": str(page.limit),
                "after": str(result.next_after),
            }
            for name in ("date_from", "date_to"):
                if call.query.get(name):
                    query[name] = call.query[name]
            url = f"{settings.public_url}/ocpi/2.2.1/sender/{call.module.value}?{urlencode(query)}"
            headers["Link"] = f'<{url}>; rel="next"'
        # Objects go back exactly as they were pushed: their stored JSON, spliced into the envelope.
        return Relayed(
            status=200,
            body=_envelope_with_raw_list(result.documents),
            headers={"Content-Type": "application/json", **headers},
            ocpi_status=int(OcpiStatus.SUCCESS),
        )

    async def _hub_copy(self, call: Call, url: ObjectUrl | None, own: Sequence[PartyRef]) -> Relayed:
        if url is not None:
            document = await self._mirror.object(call.module.value, url, call.query.get("type"))
        else:
            document = await self._mirror.visible_object(
                call.module.value, call.tail, [p.key for p in own], call.query.get("type")
            )
        if document is None:
            raise NotFound(f"the hub holds no such {call.module.value[:-1]}: /{'/'.join(call.tail)}")
        return own_answer(document)

    # --- clearing -----------------------------------------------------------------------------------

    async def _clear(
        self, call: Call, url: ObjectUrl | None, origin: PartyRef, to: PartyRef | None, cdr: CDR
    ) -> Relayed:
        """A CDR: the hub accepts it for clearing and delivers it itself (``hub.cdr_intake``)."""
        if to is None or to.key == self._hub.key:
            to = PartyRef(cdr.cdr_token.country_code, cdr.cdr_token.party_id)
        # The hub answers for the CDR from now on: an eMSP that is OFFLINE gets it when it is back.
        platform = await self._target(to, call.module, call.interface, offline=True)
        record = await self._intake.accept(
            call.body,
            cdr,
            sender=call.platform,
            origin=origin,
            receiver=to,
            receiver_platform=platform,
            correlation_id=call.correlation_id,
        )
        prepared = self._mirror.prepare(call.module.value, call.method, url, None, call.body)
        if prepared is not None:
            await self._background.spawn(self._mirror.apply_in_order(prepared, strict=False))
        return own_answer(
            headers={
                "Location": self._services.settings.public_url + location_path(record),
                TO_COUNTRY: origin.country_code,
                TO_PARTY: origin.party_id,
                FROM_COUNTRY: self._hub.country_code,
                FROM_PARTY: self._hub.party_id,
            }
        )

    # --- broadcast ---------------------------------------------------------------------------------

    async def _broadcast(
        self, call: Call, url: ObjectUrl | None, origin: PartyRef, parsed: OcpiModel | None
    ) -> Relayed:
        """Store, record one delivery per receiver, answer the sender, then deliver (digest §5.3)."""
        if url is None:
            raise InvalidParameters("URL: a broadcast push names the object: /{country_code}/{party_id}/{id}")
        outcome = await self._mirror_push(call, url, parsed, strict=True)
        deliveries: list[Delivery] = []
        if outcome is not None and outcome.changed:
            deliveries = broadcast_deliveries(
                await self._services.store.platforms.all(),
                call.module,
                outcome,
                sender_platform_id=call.platform.id,
                hub=self._hub,
                method=call.method,
                tail=call.raw_tail,
                query_string=call.query_string,
                body=call.body.decode() if call.body else None,
                correlation_id=call.correlation_id,
                now=self._services.clock(),
            )
            if deliveries:
                await self._services.store.outbox.add(deliveries)
        log.info("broadcast_accepted", module=call.module.value, receivers=len(deliveries))
        if deliveries:
            await self._deliver([d.id for d in deliveries])
        return own_answer(
            headers={
                TO_COUNTRY: origin.country_code,
                TO_PARTY: origin.party_id,
                FROM_COUNTRY: self._hub.country_code,
                FROM_PARTY: self._hub.party_id,
            },
        )

    async def _mirror_push(
        self, call: Call, url: ObjectUrl | None, parsed: OcpiModel | None, *, strict: bool
    ) -> PushOutcome | None:
        """Keep the pushed object in the mirror. ``strict``: the hub must be able to (a broadcast);
        otherwise a push the mirror cannot place (e.g. an EVSE of an unknown Location) still goes on."""
        return await self._mirror.push(
            call.module.value,
            call.method,
            url,
            call.query.get("type"),
            call.body,
            strict=strict,
        )


def _envelope_with_raw_list(documents: Sequence[bytes]) -> bytes:
    head = json.dumps(envelope([]))  # '{"data": [], "status_code": 1000, "timestamp": "..."}'
    marker = '"data": []'
    before, _, after = head.partition(marker)
    return (before + '"data": [').encode() + b",".join(documents) + ("]" + after).encode()
