"""The hub pulls parties' Sender interfaces (digest §1.7, §16.2): a real party app on loopback serves
paginated lists, the hub walks them into the mirror and fans out what changed."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from structlog.testing import capture_logs

from hub.keys import jobs_key
from hub.mirror.records import MirrorRecord
from hub.mirror.service import Mirror
from hub.ocpi.types import format_datetime, utc_now
from hub.outbox.records import DeliveryState
from hub.platforms import Platform
from hub.pulls.puller import Puller, PullProgress, PullStatus
from hub.pulls.records import OVERLAP, PullCheckpoint, begin
from hub.routing.requests import ObjectUrl
from hub.routing.table import PartyRef
from hub.services import Services
from settings import Settings
from tests.integration.conftest import Network, of, settle
from tests.support import objects
from tests.support.network import Member
from tests.support.paging import Paging

LOCATIONS_SENDER = "/ocpi/2.2.1/sender/locations"


@dataclass
class Pulling:
    net: Network
    services: Services
    puller: Puller
    handed: list[str]  # delivery ids the puller handed to ``deliver``

    async def platform(self, member: Member) -> Platform:
        [found] = await self.services.store.platforms.by_party(member.country_code, member.party_id)
        return found

    def serve(self, member: Member, documents: list[dict[str, Any]], **options: Any) -> Paging:
        paging = Paging(documents, **options)
        member.party.handler = paging
        return paging

    def page_limit(self, module: str, limit: int) -> None:
        settings = self.services.settings
        self.services.settings = settings.model_copy(update={"page_limits": {module: limit}})

    async def mirrored(self, module: str) -> list[MirrorRecord]:
        records, _ = await self.services.store.mirror.page(
            module, viewer_keys=None, date_from=None, date_to=None, after_seq=None, offset=0, limit=10_000
        )
        return records

    async def checkpoint(self, member: Member, module: str) -> PullCheckpoint:
        found = await self.services.store.pulls.get((await self.platform(member)).id, module)
        assert found is not None
        return found


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """These tests start every pull themselves."""
    return settings.model_copy(update={"pulls": False})


@pytest.fixture
async def pulling(net: Network) -> Pulling:
    jobs = net.hub.server.app[jobs_key]
    handed: list[str] = []

    async def deliver(ids: Sequence[str]) -> None:
        handed.extend(ids)
        await jobs.deliver(ids)

    services = net.hub.services
    return Pulling(net, services, Puller(services, net.hub.http, deliver), handed)


def locations(count: int, *, stamp: str = "2025-01-01T10:00:00Z", **options: Any) -> list[dict[str, Any]]:
    return [
        objects.location(location_id=f"L{i:03d}", last_updated=stamp, evses=1, **options)
        for i in range(count)
    ]


# --- walking the pages ------------------------------------------------------------------------------


async def test_a_full_walk_mirrors_every_object_which_the_hub_then_serves_to_emsps(pulling: Pulling) -> None:
    net = pulling.net
    paging = pulling.serve(net.cpo, locations(25))
    pulling.page_limit("locations", 10)
    cpo = await pulling.platform(net.cpo)

    result = await pulling.puller.pull(cpo.id, "locations")

    assert result.status is PullStatus.COMPLETED
    assert (result.pages, result.objects, result.changed, result.invalid, result.total) == (3, 25, 25, 0, 25)
    assert [(s.offset, s.limit) for s in paging.served] == [(0, 10), (10, 10), (20, 10)]
    assert [r.object_id for r in await pulling.mirrored("locations")] == [f"L{i:03d}" for i in range(25)]

    # GET all via the hub, page after page: as the party wrote them, in the order it created them.
    listed: list[dict[str, Any]] = []
    path: str | None = LOCATIONS_SENDER
    while path is not None:
        response = await net.msp.call("GET", path, to=("NL", "HUB"))
        body = await response.json()
        assert body["status_code"] == 1000
        listed.extend(body["data"])
        following = response.links.get("next")
        path = str(following["url"]).removeprefix(net.hub.base_url) if following else None
    assert listed == paging.objects


async def test_pulled_objects_are_broadcast_to_the_emsps_and_unchanged_ones_are_not_again(
    pulling: Pulling,
) -> None:
    net = pulling.net
    paging = pulling.serve(net.cpo, locations(3))
    cpo, msp, emp = [await pulling.platform(m) for m in (net.cpo, net.msp, net.emp)]

    result = await pulling.puller.pull(cpo.id, "locations")

    assert result.deliveries == 6
    recorded = [
        d
        for target in (msp, emp)
        for d in await pulling.services.store.outbox.for_target(
            target.id, states=list(DeliveryState), limit=10
        )
        if d.module == "locations"
    ]
    assert sorted(d.id for d in recorded) == sorted(pulling.handed)
    assert {(d.target_platform_id, d.url.rsplit("/", 3)[-3:][2]) for d in recorded} == {
        (platform.id, f"L{i:03d}") for platform in (msp, emp) for i in range(3)
    }
    assert {(d.from_country_code, d.from_party_id, d.method) for d in recorded} == {("NL", "HUB", "PUT")}

    await settle(net.hub)
    pushed = of(net.msp, "locations")
    assert [(r.method, r.path) for r in pushed] == [("PUT", f"/NL/CPO/L{i:03d}") for i in range(3)]
    assert [json.loads(r.body) for r in pushed] == paging.objects
    assert (pushed[0].headers["OCPI-from-country-code"], pushed[0].headers["OCPI-from-party-id"]) == (
        "NL",
        "HUB",
    )
    assert len(of(net.emp, "locations")) == 3

    # The same objects pulled again change nothing, and nobody is told twice.
    again = await pulling.puller.pull(cpo.id, "locations", full=True)
    assert (again.status, again.objects, again.changed, again.deliveries) == (PullStatus.COMPLETED, 3, 0, 0)
    assert len(pulling.handed) == 6


async def test_page_requests_are_from_the_hub_to_the_party_with_its_token_and_one_correlation_id(
    pulling: Pulling,
) -> None:
    net = pulling.net
    paging = pulling.serve(net.cpo, locations(25))
    pulling.page_limit("locations", 10)
    cpo = await pulling.platform(net.cpo)

    await pulling.puller.pull(cpo.id, "locations")
    await pulling.puller.pull(cpo.id, "locations", full=True)

    first, second = paging.served[:3], paging.served[3:]
    token = "Token " + base64.b64encode(net.cpo.party.token_b.encode()).decode()
    for served in paging.served:
        headers = served.headers
        assert headers["Authorization"] == token
        assert (headers["OCPI-from-country-code"], headers["OCPI-from-party-id"]) == ("NL", "HUB")
        assert (headers["OCPI-to-country-code"], headers["OCPI-to-party-id"]) == ("NL", "CPO")
    assert len({s.headers["X-Request-ID"] for s in paging.served}) == 6
    assert len({s.headers["X-Correlation-ID"] for s in first}) == 1
    assert len({s.headers["X-Correlation-ID"] for s in second}) == 1
    assert first[0].headers["X-Correlation-ID"] != second[0].headers["X-Correlation-ID"]
    # The deliveries of a pull carry its correlation id.
    deliveries = await pulling.services.store.outbox.for_target(
        (await pulling.platform(net.msp)).id, states=list(DeliveryState), limit=100
    )
    assert {d.correlation_id for d in deliveries if d.module == "locations"} == {
        first[0].headers["X-Correlation-ID"]
    }


async def test_an_incremental_pull_asks_for_what_changed_since_the_checkpoint(pulling: Pulling) -> None:
    net = pulling.net
    paging = pulling.serve(net.cpo, locations(5))
    cpo = await pulling.platform(net.cpo)

    before = utc_now()
    await pulling.puller.pull(cpo.id, "locations")
    after = utc_now()
    assert paging.served[0].date_from is None  # never pulled: everything
    checkpoint = await pulling.checkpoint(net.cpo, "locations")
    assert checkpoint.date_from is not None
    assert before - OVERLAP <= checkpoint.date_from <= after - OVERLAP
    assert checkpoint.last_completed_at is not None and checkpoint.last_completed_at >= before

    changed_at = format_datetime(utc_now())
    for index in (1, 3):
        paging.objects[index] = objects.location(
            location_id=f"L{index:03d}", last_updated=changed_at, evses=1, name=f"Renamed {index}"
        )
    pulling.handed.clear()

    result = await pulling.puller.pull(cpo.id, "locations")

    assert paging.served[-1].date_from == format_datetime(checkpoint.date_from)
    assert (result.objects, result.changed, result.deliveries) == (2, 2, 4)
    names = {r.object_id: r.document["name"] for r in await pulling.mirrored("locations")}
    assert names == {
        "L000": "Station L000",
        "L001": "Renamed 1",
        "L002": "Station L002",
        "L003": "Renamed 3",
        "L004": "Station L004",
    }


async def test_an_x_limit_smaller_than_asked_is_honoured(pulling: Pulling) -> None:
    net = pulling.net
    paging = pulling.serve(net.cpo, locations(20), max_limit=7)
    cpo = await pulling.platform(net.cpo)

    result = await pulling.puller.pull(cpo.id, "locations")

    assert pulling.services.settings.page_limit("locations") == 100
    assert "limit=100" in paging.served[0].query_string
    assert [(s.offset, s.limit) for s in paging.served] == [(0, 7), (7, 7), (14, 7)]
    assert (result.pages, result.objects) == (3, 20)
    assert len(await pulling.mirrored("locations")) == 20
    # The next pull asks for no more than the party gives.
    await pulling.puller.pull(cpo.id, "locations", full=True)
    assert "limit=7" in paging.served[3].query_string


async def test_a_missing_x_total_count_is_tolerated(pulling: Pulling) -> None:
    net = pulling.net
    pulling.serve(net.cpo, locations(12), total_count=False)
    pulling.page_limit("locations", 5)
    cpo = await pulling.platform(net.cpo)
    seen: list[PullProgress] = []

    result = await pulling.puller.pull(cpo.id, "locations", progress=seen.append)

    assert (result.status, result.total, result.objects) == (PullStatus.COMPLETED, None, 12)
    assert [(p.pages, p.seen, p.total) for p in seen] == [(1, 5, None), (2, 10, None), (3, 12, None)]


async def test_an_invalid_or_foreign_object_is_skipped_logged_and_counted(pulling: Pulling) -> None:
    net = pulling.net
    documents = locations(5)
    documents[1]["evses"][0]["status"] = "BROKEN"
    documents[3] = objects.location("DE", "XXX", "L003", evses=1)  # not the CPO's to send
    pulling.serve(net.cpo, documents)
    cpo = await pulling.platform(net.cpo)

    with capture_logs() as logs:
        result = await pulling.puller.pull(cpo.id, "locations")

    assert (result.status, result.objects, result.invalid) == (PullStatus.COMPLETED, 3, 2)
    assert [r.object_id for r in await pulling.mirrored("locations")] == ["L000", "L002", "L004"]
    invalid = {entry["object_id"]: entry for entry in logs if entry["event"] == "pull_object_invalid"}
    assert set(invalid) == {"L001", "L003"}
    assert invalid["L001"]["error"].startswith("evses[0].status: must be one of")
    assert "DE*XXX is not a party of this platform" in invalid["L003"]["error"]
    assert (invalid["L001"]["page"], invalid["L001"]["index"]) == (1, 1)


@pytest.mark.parametrize(("failure", "message"), [("http", "HTTP 503"), ("ocpi", "OCPI status 3001")])
async def test_a_failing_page_keeps_the_progress_and_the_next_pull_carries_on_from_it(
    pulling: Pulling, failure: str, message: str
) -> None:
    net = pulling.net
    paging = pulling.serve(net.cpo, locations(30))
    paging.failures[20] = failure
    pulling.page_limit("locations", 10)
    cpo = await pulling.platform(net.cpo)

    stopped = await pulling.puller.pull(cpo.id, "locations")

    assert stopped.status is PullStatus.FAILED
    assert stopped.error is not None and stopped.error.startswith(message)
    assert (stopped.pages, stopped.objects) == (2, 20)
    assert len(await pulling.mirrored("locations")) == 20
    checkpoint = await pulling.checkpoint(net.cpo, "locations")
    assert checkpoint.in_progress
    assert checkpoint.next_url is not None and "offset=20" in checkpoint.next_url
    assert checkpoint.last_error == stopped.error
    assert not checkpoint.leased(utc_now())
    assert checkpoint.date_from is None  # nothing completed: the next pull is no incremental one

    del paging.failures[20]
    served_before = len(paging.served)
    carried_on = await pulling.puller.pull(cpo.id, "locations")

    assert carried_on.status is PullStatus.COMPLETED
    assert (carried_on.resumed, carried_on.pages_before, carried_on.pages, carried_on.objects) == (
        True,
        2,
        3,
        30,
    )
    assert [s.offset for s in paging.served[served_before:]] == [20]
    assert len(await pulling.mirrored("locations")) == 30


async def test_the_page_a_dead_run_may_have_half_applied_is_applied_again_broadcasts_included(
    pulling: Pulling,
) -> None:
    net = pulling.net
    paging = pulling.serve(net.cpo, locations(20))
    paging.failures[10] = "http"
    pulling.page_limit("locations", 10)
    cpo = await pulling.platform(net.cpo)
    assert (await pulling.puller.pull(cpo.id, "locations")).pages == 1
    # A run that then died had put the second page in the mirror, but neither its deliveries in the
    # outbox nor the next page in the checkpoint.
    mirror = Mirror(pulling.services.store.mirror)
    for document in paging.objects[10:]:
        url = ObjectUrl(PartyRef("NL", "CPO"), (document["id"],))
        await mirror.push("locations", "PUT", url, None, json.dumps(document).encode(), strict=True)
    del paging.failures[10]
    pulling.handed.clear()

    result = await pulling.puller.pull(cpo.id, "locations")

    assert (result.resumed, result.pages_before, result.pages) == (True, 1, 2)
    assert len(pulling.handed) == 20  # the second page reaches both eMSPs after all


async def test_a_pull_under_way_is_not_taken_by_a_second_run(pulling: Pulling) -> None:
    net = pulling.net
    asked, release = asyncio.Event(), asyncio.Event()

    async def hold_first_page(number: int) -> None:
        if number == 1:
            asked.set()
            await release.wait()

    paging = pulling.serve(net.cpo, locations(3), before_page=hold_first_page)
    cpo = await pulling.platform(net.cpo)
    first = asyncio.create_task(pulling.puller.pull(cpo.id, "locations"))
    await asked.wait()

    second = await pulling.puller.pull(cpo.id, "locations", full=True)
    assert second.status is PullStatus.BUSY
    assert second.error is not None and "holds this pull until" in second.error
    assert (cpo.id, "locations") not in await pulling.puller.pull_due()

    release.set()
    done = await first
    assert (done.status, done.objects) == (PullStatus.COMPLETED, 3)
    assert len(paging.served) == 1


async def test_pull_due_lists_pairs_never_pulled_stale_or_abandoned(pulling: Pulling) -> None:
    net = pulling.net
    cpo, msp, emp = [await pulling.platform(m) for m in (net.cpo, net.msp, net.emp)]
    pulling.serve(net.cpo, [])
    everything = {
        (cpo.id, "tariffs"),
        (cpo.id, "locations"),
        (cpo.id, "sessions"),
        (cpo.id, "cdrs"),
        (msp.id, "tokens"),
        (emp.id, "tokens"),
    }
    assert set(await pulling.puller.pull_due()) == everything

    await pulling.puller.pull(cpo.id, "locations")
    assert set(await pulling.puller.pull_due()) == everything - {(cpo.id, "locations")}

    # A run that died holding its lease: due once the lease has run out.
    now = pulling.services.clock()
    abandoned = begin(
        PullCheckpoint(platform_id=cpo.id, module="tariffs"),
        first_url="http://127.0.0.1:9/tariffs?limit=10",
        since=None,
        correlation_id="c",
        holder="gone",
        now=now,
        lease=timedelta(seconds=60),
    )
    await pulling.services.store.pulls.save(abandoned)
    assert (cpo.id, "tariffs") not in await pulling.puller.pull_due()

    real_clock = pulling.services.clock
    interval = timedelta(seconds=pulling.services.settings.pull_interval)
    pulling.services.clock = lambda: real_clock() + timedelta(seconds=61)
    try:
        due = set(await pulling.puller.pull_due())
        assert (cpo.id, "tariffs") in due
        assert (cpo.id, "locations") not in due
        pulling.services.clock = lambda: real_clock() + interval
        assert set(await pulling.puller.pull_due()) == everything
    finally:
        pulling.services.clock = real_clock


# --- the other modules ------------------------------------------------------------------------------


async def test_sessions_and_cdrs_are_mirrored_but_never_broadcast(pulling: Pulling) -> None:
    net = pulling.net
    cpo = await pulling.platform(net.cpo)
    paging = pulling.serve(net.cpo, [objects.session(session_id=f"S{i}") for i in range(3)])

    sessions = await pulling.puller.pull(cpo.id, "sessions")
    assert paging.served[0].date_from == "1970-01-01T00:00:00Z"  # Sessions require date_from
    paging.objects = [objects.cdr(cdr_id="CDR1"), objects.cdr(cdr_id="CDR2")]
    cdrs = await pulling.puller.pull(cpo.id, "cdrs")

    assert (sessions.status, sessions.changed, sessions.deliveries) == (PullStatus.COMPLETED, 3, 0)
    assert (cdrs.status, cdrs.changed, cdrs.deliveries) == (PullStatus.COMPLETED, 2, 0)
    assert [r.object_id for r in await pulling.mirrored("sessions")] == ["S0", "S1", "S2"]
    assert [r.object_id for r in await pulling.mirrored("cdrs")] == ["CDR1", "CDR2"]
    assert pulling.handed == []


async def test_tokens_pulled_from_an_emsp_reach_the_cpo_with_their_type(pulling: Pulling) -> None:
    net = pulling.net
    msp = await pulling.platform(net.msp)
    pulling.serve(net.msp, [objects.token(uid="T1"), objects.token(uid="T2", token_type="APP_USER")])

    result = await pulling.puller.pull(msp.id, "tokens")
    await settle(net.hub)

    assert (result.objects, result.changed, result.deliveries) == (2, 2, 2)
    pushed = of(net.cpo, "tokens")
    assert sorted((r.method, r.path, r.query_string) for r in pushed) == [
        ("PUT", "/DE/MSP/T1", "type=RFID"),
        ("PUT", "/DE/MSP/T2", "type=APP_USER"),
    ]
    stored = await pulling.services.store.mirror.get("tokens", "DE", "MSP", "T2", "APP_USER")
    assert stored is not None
