"""Liveness over real HTTP: the hub reads each party's versions, marks a silent party OFFLINE after
``liveness_failures`` failures in a row, brings it back when it answers, and tells the others."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import timedelta

import pytest

from hub import operators
from hub.bootstrap import build_services
from hub.liveness import Liveness
from hub.ocpi.v2_2_1.hubclientinfo import ConnectionStatus
from hub.outbox.deliver import Deliverer
from hub.outbox.records import Delivery, DeliveryState
from hub.platforms import Platform
from tests.integration.conftest import Network, of
from tests.support.network import Member


@pytest.fixture
def liveness(net: Network) -> Liveness:
    return Liveness(net.hub.services, net.hub.http)


async def platform_of(net: Network, member: Member) -> Platform:
    return await operators.find(net.hub.services, member.key)


async def attempt(net: Network, delivery_ids: list[str]) -> None:
    """What the job port does with the ids a round hands over."""
    await Deliverer(net.hub.services, net.hub.http).attempt_many(delivery_ids)


def client_infos(member: Member) -> list[tuple[str, str, str]]:
    return [
        (r.path, json.loads(r.body)["status"], json.loads(r.body)["role"])
        for r in of(member, "hubclientinfo")
    ]


async def test_versions_are_read_with_the_partys_token_and_fresh_request_ids(
    net: Network, liveness: Liveness
) -> None:
    for member in (net.cpo, net.msp, net.emp):
        member.party.seen_authorizations.clear()
        member.party.seen_ids.clear()
    report = await liveness.check_all()

    assert report.failing == [] and report.offline == [] and report.deliveries == []
    assert len(report.checked) == 3
    for member in (net.cpo, net.msp, net.emp):
        expected = "Token " + base64.b64encode(member.party.token_b.encode()).decode()
        assert member.party.seen_authorizations == [expected]
        [(request_id, correlation_id)] = member.party.seen_ids
        assert request_id and correlation_id
        stored = await platform_of(net, member)
        assert stored.last_seen_at is not None and stored.liveness_failures == 0


async def test_failures_up_to_the_threshold_make_a_party_offline_and_the_others_are_told(
    net: Network, liveness: Liveness
) -> None:
    threshold = net.hub.services.settings.liveness_failures
    cpo = await platform_of(net, net.cpo)
    net.cpo.party.behaviour.versions_status = 503

    for count in range(1, threshold):
        report = await liveness.check_all()
        assert report.failing == [cpo.id]
        assert report.offline == [] and report.deliveries == []
        stored = await platform_of(net, net.cpo)
        assert (stored.status, stored.liveness_failures) == (ConnectionStatus.CONNECTED, count)
        assert stored.liveness_error == "HTTP 503"

    report = await liveness.check_all()
    assert report.offline == [cpo.id] and report.connected == []
    assert report.pending_ids == []
    stored = await platform_of(net, net.cpo)
    assert (stored.status, stored.liveness_failures) == (ConnectionStatus.OFFLINE, threshold)

    await attempt(net, report.deliveries)
    for member in (net.msp, net.emp):
        assert client_infos(member) == [("/NL/CPO", "OFFLINE", "CPO")]
    assert of(net.cpo, "hubclientinfo") == []
    listed = await net.msp.call("GET", "/ocpi/2.2.1/hubclientinfo")
    statuses = {i["party_id"]: i["status"] for i in (await listed.json())["data"]}
    assert statuses == {"CPO": "OFFLINE", "MSP": "CONNECTED", "EMP": "CONNECTED"}


async def test_one_failure_less_than_the_threshold_changes_nothing_the_others_see(
    net: Network, liveness: Liveness
) -> None:
    threshold = net.hub.services.settings.liveness_failures
    net.cpo.party.behaviour.versions_status = 500
    for _ in range(threshold - 1):
        await liveness.check_all()
    net.cpo.party.behaviour.versions_status = 200
    report = await liveness.check_all()

    assert report.failing == [] and report.deliveries == []
    stored = await platform_of(net, net.cpo)
    assert (stored.status, stored.liveness_failures, stored.liveness_error) == (
        ConnectionStatus.CONNECTED,
        0,
        None,
    )
    # ... so a later failure starts counting from one again.
    net.cpo.party.behaviour.versions_status = 500
    for _ in range(threshold - 1):
        assert (await liveness.check_all()).offline == []
    assert (await platform_of(net, net.cpo)).status is ConnectionStatus.CONNECTED
    assert await net.hub.services.store.outbox.by_state(DeliveryState.PENDING, limit=10) == []


async def test_a_party_that_answers_again_is_connected_announced_and_its_pending_deliveries_handed_out(
    net: Network, liveness: Liveness
) -> None:
    services = net.hub.services
    cpo = await platform_of(net, net.cpo)
    net.cpo.party.behaviour.versions_status = 503
    for _ in range(services.settings.liveness_failures):
        report = await liveness.check_all()
    await attempt(net, report.deliveries)
    for member in (net.cpo, net.msp, net.emp):
        member.party.received.clear()

    # Something the hub owes the CPO, waiting out its backoff while the CPO was away.
    waiting = Delivery(
        target_platform_id=cpo.id,
        to_country_code="NL",
        to_party_id="CPO",
        from_country_code="DE",
        from_party_id="MSP",
        method="PUT",
        url=net.cpo.party.endpoint_url("tokens", "RECEIVER") + "/DE/MSP/TOK1",
        body='{"uid": "TOK1"}',
        module="tokens",
        next_attempt_at=services.clock() + timedelta(minutes=10),
    )
    await services.store.outbox.add([waiting])
    assert await services.store.outbox.due(services.clock(), limit=10) == []

    net.cpo.party.behaviour.versions_status = 200
    report = await liveness.check_all()
    assert report.connected == [cpo.id] and report.offline == []
    assert report.pending_ids == [waiting.id]
    assert len(report.client_info_ids) == 2
    stored = await platform_of(net, net.cpo)
    assert (stored.status, stored.liveness_failures) == (ConnectionStatus.CONNECTED, 0)

    await attempt(net, report.deliveries)
    [token_push] = of(net.cpo, "tokens")
    assert (token_push.method, token_push.path) == ("PUT", "/DE/MSP/TOK1")
    delivered = await services.store.outbox.get(waiting.id)
    assert delivered is not None and delivered.state is DeliveryState.DELIVERED
    for member in (net.msp, net.emp):
        assert client_infos(member) == [("/NL/CPO", "CONNECTED", "CPO")]


async def test_a_suspended_party_is_not_checked(net: Network, liveness: Liveness) -> None:
    services = net.hub.services
    emp = await operators.suspend(services, "FR*EMP")
    net.emp.party.behaviour.versions_status = 503
    net.emp.party.seen_authorizations.clear()

    for _ in range(services.settings.liveness_failures + 1):
        report = await liveness.check_all()
        assert emp.id not in [c.platform_id for c in report.checked]
    assert net.emp.party.seen_authorizations == []
    stored = await platform_of(net, net.emp)
    assert (stored.status, stored.liveness_failures) == (ConnectionStatus.SUSPENDED, 0)


async def test_the_count_is_shared_by_every_process_that_checks(net: Network, liveness: Liveness) -> None:
    """Another process (a worker) with its own connection to the store carries on counting."""
    threshold = net.hub.services.settings.liveness_failures
    net.cpo.party.behaviour.versions_status = 503
    for _ in range(threshold - 1):
        await liveness.check_all()

    elsewhere = await build_services(net.hub.services.settings)
    try:
        report = await Liveness(elsewhere, net.hub.http).check_all()
    finally:
        await elsewhere.close()
    assert report.offline == [(await platform_of(net, net.cpo)).id]


async def test_two_checks_racing_change_the_status_and_announce_it_once(net: Network) -> None:
    services = net.hub.services
    net.cpo.party.behaviour.versions_status = 503
    cpo = await platform_of(net, net.cpo)
    cpo.liveness_failures = services.settings.liveness_failures - 1
    cpo = await services.store.platforms.update(cpo)

    first, second = Liveness(services, net.hub.http), Liveness(services, net.hub.http)
    results = await asyncio.gather(first.check(cpo), second.check(cpo))

    assert sorted(r.went_offline for r in results) == [False, True]
    assert sum(len(r.client_info_ids) for r in results) == 2  # one push to each other party
    stored = await platform_of(net, net.cpo)
    assert stored.status is ConnectionStatus.OFFLINE
    assert stored.liveness_failures == services.settings.liveness_failures + 1
