"""Outbox delivery attempts over real HTTP on loopback (architecture decision 8, digest §1.2, §1.5, §1.6, §6).

A small receiver app stands in for a party platform: it records what arrives and answers as each
test tells it to.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import io
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict

from hub.keys import jobs_key
from hub.observability import configure_logging
from hub.ocpi.envelope import envelope
from hub.ocpi.types import format_datetime
from hub.ocpi.v2_2_1.common import Role
from hub.ocpi.v2_2_1.hubclientinfo import ClientInfo, ConnectionStatus
from hub.outbox.deliver import Deliverer
from hub.outbox.policy import DEFAULT_FIRST_DELAY
from hub.outbox.records import Delivery, DeliveryState
from hub.platforms import PartyRole, Platform, PlatformEndpoint
from hub.services import Services
from hub.tasks import Tasks
from tests.conftest import Hub, free_port
from tests.support.party import Party, role

TOKEN_B = "token-b-the-hub-presents"
ROUTING_HEADERS = ("OCPI-from-country-code", "OCPI-from-party-id", "OCPI-to-country-code", "OCPI-to-party-id")


@dataclass
class Seen:
    method: str
    path: str
    headers: CIMultiDict[str]
    body: bytes


@dataclass
class Answer:
    status: int = 200
    body: bytes | None = None  # None: an OCPI envelope with status_code 1000
    delay: float = 0.0
    before: Callable[[], Awaitable[None]] | None = None  # runs when the request arrives


@dataclass
class Receiver:
    """A party platform's receiver interfaces: records every request, answers from a script."""

    base_url: str = ""
    seen: list[Seen] = field(default_factory=list)
    script: list[Answer] = field(default_factory=list)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def answer(self, *answers: Answer) -> None:
        self.script.extend(answers)

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(
            Seen(request.method, request.path_qs, CIMultiDict(request.headers), await request.read())
        )
        answer = self.script.pop(0) if self.script else Answer()
        if answer.before is not None:
            await answer.before()
        if answer.delay:
            # Waits for the delay, or until the test ends: a hung receiver must not hold up teardown.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.released.wait(), answer.delay)
        body = answer.body if answer.body is not None else json.dumps(envelope()).encode()
        return web.Response(status=answer.status, body=body, content_type="application/json")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiving = Receiver()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", receiving.handle)
    server = TestServer(app, host="127.0.0.1", port=free_port())
    await server.start_server()
    receiving.base_url = str(server.make_url("")).rstrip("/")
    yield receiving
    receiving.released.set()
    await server.close()


@pytest.fixture
async def http() -> AsyncIterator[ClientSession]:
    async with ClientSession() as session:
        yield session


@pytest.fixture
def deliverer(services: Services, http: ClientSession) -> Deliverer:
    return Deliverer(services, http)


async def target(
    services: Services,
    receiver: Receiver,
    *,
    encoding: str = "base64",
    registered: bool = True,
    status: ConnectionStatus = ConnectionStatus.CONNECTED,
) -> Platform:
    platform = Platform.model_validate(
        {
            "name": "msp",
            "registered": registered,
            "status": status,
            "roles": [PartyRole(role=Role.EMSP, country_code="DE", party_id="MSP")],
            "endpoints": [
                PlatformEndpoint(
                    identifier=module, role="RECEIVER", url=receiver.url(f"/ocpi/2.2.1/{module}")
                )
                for module in ("locations", "hubclientinfo")
            ],
            "outgoing_token": services.cipher.encrypt(TOKEN_B),
            "token_encoding": encoding,
        }
    )
    await services.store.platforms.add(platform)
    return platform


BODY = '{"id":  "LOC1",\n "name": "café ☕", "power": 11.50, "unknown_field": [1, 2]}'


async def enqueue(services: Services, platform: Platform, url: str, **fields: Any) -> Delivery:
    values: dict[str, Any] = {
        "target_platform_id": platform.id,
        "to_country_code": "DE",
        "to_party_id": "MSP",
        "from_country_code": "NL",
        "from_party_id": "TNM",
        "method": "PUT",
        "url": url,
        "body": BODY,
        "module": "locations",
        "object_key": "locations|NL|TNM|LOC1",
        "object_version": "2025-03-01T12:00:00Z",
    }
    delivery = Delivery.model_validate(values | fields)
    await services.store.outbox.add([delivery])
    return delivery


@pytest.fixture
async def platform(services: Services, receiver: Receiver) -> Platform:
    return await target(services, receiver)


@pytest.fixture
def location_url(receiver: Receiver) -> str:
    return receiver.url("/ocpi/2.2.1/locations/NL/TNM/LOC1")


@contextlib.contextmanager
def logs_at(level: str) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging(level, "json", stream=stream)
    try:
        yield stream
    finally:
        root = logging.getLogger()
        for handler in list(root.handlers):
            if getattr(handler, "_hub_handler", False):
                root.removeHandler(handler)
        root.setLevel(logging.WARNING)


async def test_every_attempt_is_logged_at_info_and_not_below_the_level(
    services: Services, deliverer: Deliverer, receiver: Receiver, platform: Platform, location_url: str
) -> None:
    first = await enqueue(services, platform, location_url)
    second = await enqueue(services, platform, location_url + "2", object_key="locations|NL|TNM|LOC12")
    with logs_at("INFO") as stream:
        done = await deliverer.attempt_many([first.id, second.id])
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    attempted = [line for line in lines if line["event"] == "delivery_attempted"]
    assert sorted(line["delivery"] for line in attempted) == sorted([first.id, second.id])
    for line in attempted:
        assert line["level"] == "info" and line["platform"] == platform.id
        assert (line["http_status"], line["ocpi_status"], line["error"]) == (200, 1000, None)
        assert (line["outcome"], line["state"], line["next_attempt_at"]) == ("DELIVERED", "DELIVERED", None)
        assert line["url"] in (location_url, location_url + "2") and line["method"] == "PUT"
    assert all(d is not None and d.state is DeliveryState.DELIVERED for d in done)

    third = await enqueue(services, platform, location_url + "3", object_key="locations|NL|TNM|LOC13")
    with logs_at("WARNING") as stream:
        [quiet] = await deliverer.attempt_many([third.id])
    assert quiet is not None and quiet.state is DeliveryState.DELIVERED and len(quiet.attempts) == 1
    assert "delivery_attempted" not in stream.getvalue()


async def test_a_success_answer_delivers_it(
    services: Services, deliverer: Deliverer, receiver: Receiver, platform: Platform, location_url: str
) -> None:
    delivery = await enqueue(services, platform, location_url)
    done = await deliverer.attempt(delivery.id)

    assert done is not None and done.state is DeliveryState.DELIVERED
    assert done.next_attempt_at is None and done.reason is None
    [attempt] = done.attempts
    assert (attempt.http_status, attempt.ocpi_status, attempt.error) == (200, 1000, None)
    assert attempt.elapsed_ms is not None and attempt.elapsed_ms >= 0
    assert await services.store.outbox.get(delivery.id) == done
    assert len(receiver.seen) == 1


async def test_a_success_without_an_envelope_delivers_it(
    services: Services, deliverer: Deliverer, receiver: Receiver, platform: Platform, location_url: str
) -> None:
    receiver.answer(Answer(status=201, body=b""))
    done = await deliverer.attempt((await enqueue(services, platform, location_url)).id)
    assert done is not None and done.state is DeliveryState.DELIVERED
    assert (done.attempts[0].http_status, done.attempts[0].ocpi_status) == (201, None)


@pytest.mark.parametrize(
    ("answer", "http_status", "ocpi_status"),
    [
        (Answer(status=500, body=b"Internal Server Error"), 500, None),
        (Answer(status=503, body=json.dumps(envelope(status_code=3000)).encode()), 503, 3000),
        (Answer(status=429, body=b""), 429, None),
        (Answer(body=json.dumps(envelope(status_code=3000, status_message="busy")).encode()), 200, 3000),
    ],
)
async def test_transient_trouble_is_recorded_and_retried_later(
    services: Services,
    deliverer: Deliverer,
    receiver: Receiver,
    platform: Platform,
    location_url: str,
    answer: Answer,
    http_status: int,
    ocpi_status: int | None,
) -> None:
    receiver.answer(answer)
    done = await deliverer.attempt((await enqueue(services, platform, location_url)).id)

    assert done is not None and done.state is DeliveryState.PENDING
    [attempt] = done.attempts
    assert (attempt.http_status, attempt.ocpi_status, attempt.error) == (http_status, ocpi_status, None)
    assert done.next_attempt_at is not None and done.next_attempt_at > attempt.at
    assert done.next_attempt_at <= services.clock() + DEFAULT_FIRST_DELAY
    assert await services.store.outbox.due(services.clock(), limit=10) == []


async def test_a_refused_connection_is_transient(
    services: Services, deliverer: Deliverer, platform: Platform
) -> None:
    nobody = f"http://127.0.0.1:{free_port()}/ocpi/2.2.1/locations/NL/TNM/LOC1"
    done = await deliverer.attempt((await enqueue(services, platform, nobody)).id)

    assert done is not None and done.state is DeliveryState.PENDING
    [attempt] = done.attempts
    assert attempt.http_status is None and attempt.error is not None
    assert "ClientConnectorError" in attempt.error and TOKEN_B not in attempt.error
    assert done.next_attempt_at is not None and done.next_attempt_at > attempt.at


async def test_a_receiver_slower_than_the_request_timeout_is_transient(
    services: Services, http: ClientSession, receiver: Receiver, platform: Platform, location_url: str
) -> None:
    impatient = dataclasses.replace(
        services, settings=services.settings.model_copy(update={"request_timeout": 0.3})
    )
    receiver.answer(Answer(delay=10))
    delivery = await enqueue(services, platform, location_url)
    started = asyncio.get_running_loop().time()
    done = await Deliverer(impatient, http).attempt(delivery.id)

    assert asyncio.get_running_loop().time() - started < 5
    assert done is not None and done.state is DeliveryState.PENDING
    [attempt] = done.attempts
    assert attempt.http_status is None
    assert attempt.error is not None and "Timeout" in attempt.error
    assert attempt.elapsed_ms is not None and attempt.elapsed_ms >= 250
    assert done.next_attempt_at is not None and done.next_attempt_at > attempt.at


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (Answer(status=400, body=b"Bad Request"), "refused by the receiver: HTTP 400"),
        (
            Answer(status=401, body=json.dumps(envelope(status_code=2000)).encode()),
            "refused by the receiver: HTTP 401, OCPI 2000",
        ),
        (
            Answer(body=json.dumps(envelope(status_code=2001, status_message="bad")).encode()),
            "refused by the receiver: HTTP 200, OCPI 2001",
        ),
    ],
)
async def test_a_refusal_is_a_dead_letter_with_the_reason(
    services: Services,
    deliverer: Deliverer,
    receiver: Receiver,
    platform: Platform,
    location_url: str,
    answer: Answer,
    reason: str,
) -> None:
    receiver.answer(answer)
    done = await deliverer.attempt((await enqueue(services, platform, location_url)).id)

    assert done is not None and done.state is DeliveryState.DEAD
    assert done.reason == reason and done.next_attempt_at is None
    assert len(done.attempts) == 1
    assert [d.id for d in await services.store.outbox.by_state(DeliveryState.DEAD, limit=10)] == [done.id]


async def test_a_redirect_is_not_followed_with_the_token(
    services: Services, deliverer: Deliverer, receiver: Receiver, platform: Platform, location_url: str
) -> None:
    receiver.answer(Answer(status=307, body=b""))
    done = await deliverer.attempt((await enqueue(services, platform, location_url)).id)
    assert done is not None and done.state is DeliveryState.DEAD
    assert len(receiver.seen) == 1


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/ocpi/locations", "http:///no-host"])
async def test_an_unusable_url_is_a_dead_letter_at_once(
    services: Services, deliverer: Deliverer, platform: Platform, url: str
) -> None:
    done = await deliverer.attempt((await enqueue(services, platform, url)).id)
    assert done is not None and done.state is DeliveryState.DEAD
    [attempt] = done.attempts
    assert attempt.http_status is None and attempt.error is not None
    assert done.reason == attempt.error


async def test_every_attempt_has_a_fresh_request_id_and_the_deliverys_correlation_id(
    services: Services, deliverer: Deliverer, receiver: Receiver, platform: Platform, location_url: str
) -> None:
    receiver.answer(Answer(status=502, body=b""), Answer(status=500, body=b""), Answer())
    delivery = await enqueue(services, platform, location_url)
    states = [await deliverer.attempt(delivery.id) for _ in range(3)]

    assert [s.state if s else None for s in states] == ["PENDING", "PENDING", "DELIVERED"]
    request_ids = [seen.headers["X-Request-ID"] for seen in receiver.seen]
    assert len(set(request_ids)) == 3 and all(request_ids)
    assert {seen.headers["X-Correlation-ID"] for seen in receiver.seen} == {delivery.correlation_id}
    final = states[-1]
    assert final is not None and [a.http_status for a in final.attempts] == [502, 500, 200]
    # Once delivered, nothing is sent again.
    assert await deliverer.attempt(delivery.id) == final
    assert len(receiver.seen) == 3


@pytest.mark.parametrize(
    ("encoding", "authorization"),
    [
        ("base64", "Token " + base64.b64encode(TOKEN_B.encode()).decode()),
        ("raw", f"Token {TOKEN_B}"),
    ],
)
async def test_the_token_is_sent_in_the_form_the_platform_understands(
    services: Services, deliverer: Deliverer, receiver: Receiver, encoding: str, authorization: str
) -> None:
    platform = await target(services, receiver, encoding=encoding)
    await deliverer.attempt((await enqueue(services, platform, receiver.url("/ocpi/2.2.1/locations/x"))).id)
    assert [seen.headers["Authorization"] for seen in receiver.seen] == [authorization]


async def test_a_functional_module_carries_the_routing_headers_of_the_record(
    services: Services, deliverer: Deliverer, receiver: Receiver, platform: Platform, location_url: str
) -> None:
    await deliverer.attempt((await enqueue(services, platform, location_url)).id)
    [seen] = receiver.seen
    assert [seen.headers.get(name) for name in ROUTING_HEADERS] == ["NL", "TNM", "DE", "MSP"]


async def test_hub_client_info_carries_no_routing_headers(
    services: Services, deliverer: Deliverer, receiver: Receiver, platform: Platform
) -> None:
    url = receiver.url("/ocpi/2.2.1/hubclientinfo/NL/TNM")
    delivery = await enqueue(services, platform, url, module="hubclientinfo", object_key=None)
    done = await deliverer.attempt(delivery.id)
    assert done is not None and done.state is DeliveryState.DELIVERED
    [seen] = receiver.seen
    assert [name for name in ROUTING_HEADERS if name in seen.headers] == []
    assert seen.headers["X-Correlation-ID"] == delivery.correlation_id


async def test_the_body_arrives_byte_for_byte(
    services: Services, deliverer: Deliverer, receiver: Receiver, platform: Platform, location_url: str
) -> None:
    await deliverer.attempt((await enqueue(services, platform, location_url)).id)
    [seen] = receiver.seen
    assert (seen.method, seen.path) == ("PUT", "/ocpi/2.2.1/locations/NL/TNM/LOC1")
    assert seen.body == BODY.encode("utf-8")
    assert seen.headers["Content-Type"] == "application/json"


async def test_a_deliverys_own_headers_are_sent_but_never_replace_the_hubs(
    services: Services, deliverer: Deliverer, receiver: Receiver, platform: Platform, location_url: str
) -> None:
    headers = {"Hub-Signature": "eyJhbGciOiJFZERTQSJ9..c2ln", "Authorization": "Token stolen"}
    await deliverer.attempt((await enqueue(services, platform, location_url, headers=headers)).id)
    [seen] = receiver.seen
    assert seen.headers["Hub-Signature"] == "eyJhbGciOiJFZERTQSJ9..c2ln"
    assert seen.headers["Authorization"] == "Token " + base64.b64encode(TOKEN_B.encode()).decode()


async def test_a_request_without_a_body_sends_none(
    services: Services, deliverer: Deliverer, receiver: Receiver, platform: Platform, location_url: str
) -> None:
    delivery = await enqueue(services, platform, location_url, method="DELETE", body=None)
    done = await deliverer.attempt(delivery.id)
    assert done is not None and done.state is DeliveryState.DELIVERED
    [seen] = receiver.seen
    assert (seen.method, seen.body) == ("DELETE", b"")
    assert "Content-Type" not in seen.headers


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"registered": False}, "is not registered"),
        ({"status": ConnectionStatus.SUSPENDED}, "is suspended"),
        ({"outgoing_token": None}, "holds no token"),
        ({"outgoing_token": "not-a-sealed-token"}, "cannot be decrypted"),
    ],
)
async def test_a_target_that_cannot_be_called_makes_a_dead_letter_without_a_request(
    services: Services,
    deliverer: Deliverer,
    receiver: Receiver,
    platform: Platform,
    location_url: str,
    change: dict[str, Any],
    reason: str,
) -> None:
    await services.store.platforms.update(platform.model_copy(update=change))
    done = await deliverer.attempt((await enqueue(services, platform, location_url)).id)
    assert done is not None and done.state is DeliveryState.DEAD
    assert done.reason is not None and reason in done.reason
    assert done.attempts == [] and receiver.seen == []


async def test_a_vanished_target_makes_a_dead_letter(
    services: Services, deliverer: Deliverer, receiver: Receiver, platform: Platform, location_url: str
) -> None:
    delivery = await enqueue(services, platform, location_url)
    await services.store.platforms.remove(platform.id)
    done = await deliverer.attempt(delivery.id)
    assert done is not None and done.state is DeliveryState.DEAD
    assert done.reason == f"the target platform {platform.id} no longer exists"
    assert receiver.seen == []


async def test_unknown_and_finished_deliveries_are_left_alone(
    services: Services, deliverer: Deliverer, receiver: Receiver, platform: Platform, location_url: str
) -> None:
    assert await deliverer.attempt("d-unknown") is None
    dead = await enqueue(services, platform, location_url, state=DeliveryState.DEAD, reason="operator")
    assert await deliverer.attempt(dead.id) == dead
    assert receiver.seen == []


async def test_an_older_version_is_not_sent_after_a_newer_one(
    services: Services, deliverer: Deliverer, receiver: Receiver, platform: Platform, location_url: str
) -> None:
    old = await enqueue(services, platform, location_url, object_version="2025-03-01T12:00:00Z")
    new = await enqueue(services, platform, location_url, object_version="2025-03-01T12:00:00.250Z")
    assert [d.state if d else None for d in await deliverer.attempt_many([new.id, old.id])] == [
        "DELIVERED",
        "SUPERSEDED",
    ]
    superseded = await services.store.outbox.get(old.id)
    assert superseded is not None and superseded.reason is not None and new.id in superseded.reason
    assert len(receiver.seen) == 1


async def test_many_deliveries_are_attempted_together(
    services: Services, http: ClientSession, receiver: Receiver, platform: Platform
) -> None:
    arrived = asyncio.Event()

    async def wait_for_all() -> None:
        if len(receiver.seen) == 4:
            arrived.set()
        await asyncio.wait_for(arrived.wait(), 5)

    receiver.answer(*(Answer(before=wait_for_all) for _ in range(4)), Answer(status=400, body=b""))
    deliveries = [
        await enqueue(services, platform, receiver.url(f"/ocpi/2.2.1/locations/NL/TNM/L{i}"), object_key=None)
        for i in range(6)
    ]
    results = await Deliverer(services, http, concurrency=4).attempt_many(
        [*(d.id for d in deliveries), "d-none"]
    )

    # The first four were in flight at once (each waited for the others); the bound held the rest.
    assert [r.state if r else None for r in results] == [*["DELIVERED"] * 4, "DEAD", "DELIVERED", None]
    assert [r.id if r else None for r in results] == [*(d.id for d in deliveries), None]


async def test_a_delivery_finished_elsewhere_meanwhile_is_not_overwritten(
    services: Services, deliverer: Deliverer, receiver: Receiver, platform: Platform, location_url: str
) -> None:
    delivery = await enqueue(services, platform, location_url)

    async def another_worker_delivers() -> None:
        current = await services.store.outbox.get(delivery.id)
        assert current is not None
        await services.store.outbox.update(current.model_copy(update={"state": DeliveryState.DELIVERED}))

    receiver.answer(Answer(status=500, body=b"", before=another_worker_delivers))
    done = await deliverer.attempt(delivery.id)
    assert done is not None and done.state is DeliveryState.DELIVERED and done.attempts == []
    assert await services.store.outbox.get(delivery.id) == done


async def test_an_attempt_is_recorded_on_top_of_a_concurrent_change(
    services: Services, deliverer: Deliverer, receiver: Receiver, platform: Platform, location_url: str
) -> None:
    delivery = await enqueue(services, platform, location_url)

    async def an_operator_touches_it() -> None:
        current = await services.store.outbox.get(delivery.id)
        assert current is not None
        await services.store.outbox.update(current.model_copy(update={"reason": "looked at"}))

    receiver.answer(Answer(before=an_operator_touches_it))
    done = await deliverer.attempt(delivery.id)
    assert done is not None and done.state is DeliveryState.DELIVERED
    assert done.revision == 3 and len(done.attempts) == 1  # claimed, touched, settled


async def test_a_sweep_hands_a_due_delivery_out_once_until_its_job_had_time_to_run(
    services: Services, http: ClientSession, receiver: Receiver, platform: Platform, location_url: str
) -> None:
    handed: list[list[str]] = []

    class Recording:
        """The job port as seen from the sweep: it only records what it was handed."""

        async def deliver(self, delivery_ids: Sequence[str]) -> None:
            handed.append(list(delivery_ids))

        async def pull(
            self, platform_id: str, modules: Sequence[str] | None = None, *, full: bool = False
        ) -> None:
            raise AssertionError("a sweep pulls nothing")

        async def close(self) -> None:
            return None

    tasks = Tasks(services, http, Recording())
    due = [
        await enqueue(services, platform, location_url, object_key=f"locations|NL|TNM|L{n}") for n in range(3)
    ]
    assert await tasks.sweep() == 3
    assert await tasks.sweep() == 0  # handed out already: a backlog is not handed out again and again
    assert handed == [[d.id for d in due]]
    stored = await services.store.outbox.get(due[0].id)
    assert stored is not None and stored.next_attempt_at is not None
    assert stored.next_attempt_at > services.clock()  # due again if the job was lost
    assert receiver.seen == []


async def test_an_attempt_in_flight_is_neither_due_nor_attempted_twice(
    services: Services, deliverer: Deliverer, receiver: Receiver, platform: Platform, location_url: str
) -> None:
    delivery = await enqueue(services, platform, location_url)
    due_while_in_flight: list[Delivery] = []

    async def look_for_due_deliveries() -> None:
        due_while_in_flight.extend(await services.store.outbox.due(services.clock(), limit=10))

    receiver.answer(Answer(before=look_for_due_deliveries))
    first, second = await asyncio.gather(deliverer.attempt(delivery.id), deliverer.attempt(delivery.id))

    assert len(receiver.seen) == 1
    assert due_while_in_flight == []
    assert {first.state if first else None, second.state if second else None} <= {"PENDING", "DELIVERED"}
    stored = await services.store.outbox.get(delivery.id)
    assert stored is not None and stored.state is DeliveryState.DELIVERED and len(stored.attempts) == 1


async def test_a_delivery_handed_out_again_while_in_flight_is_not_sent_again(
    services: Services, deliverer: Deliverer, receiver: Receiver, platform: Platform, location_url: str
) -> None:
    # A re-drive or a duplicate job reads the delivery after the first attempt claimed it.
    delivery = await enqueue(services, platform, location_url)
    second: list[Delivery | None] = []

    async def handed_out_again() -> None:
        second.append(await deliverer.attempt(delivery.id))

    receiver.answer(Answer(before=handed_out_again))
    first = await deliverer.attempt(delivery.id)

    assert len(receiver.seen) == 1
    [again] = second
    assert again is not None and again.state is DeliveryState.PENDING and again.claimed_until is not None
    assert first is not None and first.state is DeliveryState.DELIVERED and first.claimed_until is None


StartParty = Callable[..., Awaitable[Party]]


async def test_client_info_of_a_new_platform_reaches_the_other_registered_platforms(
    hub: Hub, start_party: StartParty, receiver: Receiver, http: ClientSession
) -> None:
    """Registration through the real handshake; the eMSP's hubclientinfo endpoint is the receiver."""
    services = hub.services
    msp_party = await start_party(token_b="msp-token-b")
    await hub.register(msp_party, await hub.invite("msp"), [role("EMSP", "DE", "MSP")])
    [msp] = await services.store.platforms.all()
    msp.endpoints = [
        e if e.identifier != "hubclientinfo" else e.model_copy(update={"url": receiver.url("/hci/")})
        for e in msp.endpoints
    ]
    await services.store.platforms.update(msp)

    cpo_party = await start_party(token_b="cpo-token-b")
    await hub.register(
        cpo_party, await hub.invite("cpo"), [role("CPO", "NL", "TNM"), role("EMSP", "NL", "TNX")]
    )
    cpo = next(p for p in await services.store.platforms.all() if p.name == "cpo")
    # Registration itself records the pushes and has them attempted at once.
    await hub.server.app[jobs_key].idle()

    pushed = [d for d in await services.store.outbox.for_target(msp.id, states=list(DeliveryState), limit=10)]
    assert [d.state for d in pushed] == ["DELIVERED", "DELIVERED"]
    assert [(seen.method, seen.path) for seen in receiver.seen] == [
        ("PUT", "/hci/NL/TNM"),
        ("PUT", "/hci/NL/TNX"),
    ]
    for seen in receiver.seen:
        assert seen.headers["Authorization"] == "Token " + base64.b64encode(b"msp-token-b").decode()
        assert [name for name in ROUTING_HEADERS if name in seen.headers] == []
        info = ClientInfo.model_validate_json(seen.body)
        assert info.status == "CONNECTED" and format_datetime(info.last_updated) == format_datetime(
            cpo.status_changed_at
        )
    assert len({seen.headers["X-Correlation-ID"] for seen in receiver.seen}) == 2
