"""Operators and the outbox, over real HTTP: a dead letter re-driven by an operator is delivered
when it is next attempted; what is not dead is refused; purging clears finished deliveries only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiohttp import web

from hub import operators as platform_operators
from hub.ocpi.envelope import envelope
from hub.operators import OperatorError
from hub.outbox import operators
from hub.outbox.deliver import Deliverer
from hub.outbox.records import Delivery, DeliveryState
from tests.integration.conftest import Network, of
from tests.support.network import Member
from tests.support.party import Received


async def queue_location(
    net: Network, member: Member, location_id: str = "LOC1", **fields: object
) -> Delivery:
    """A Location broadcast the hub owes ``member``, as the outbox records one."""
    platform = await platform_operators.find(net.hub.services, member.key)
    values: dict[str, object] = {
        "target_platform_id": platform.id,
        "to_country_code": member.country_code,
        "to_party_id": member.party_id,
        "from_country_code": "NL",
        "from_party_id": "HUB",
        "method": "PUT",
        "url": member.party.endpoint_url("locations", "RECEIVER") + f"/NL/CPO/{location_id}",
        "body": f'{{"id": "{location_id}"}}',
        "module": "locations",
    }
    delivery = Delivery.model_validate(values | fields)
    await net.hub.services.store.outbox.add([delivery])
    return delivery


async def attempt(net: Network, delivery: Delivery) -> Delivery:
    done = await Deliverer(net.hub.services, net.hub.http).attempt(delivery.id)
    assert done is not None
    return done


async def refuse(_: web.Request, __: Received) -> web.StreamResponse:
    return web.json_response(envelope(status_code=2001, status_message="bad location"), status=400)


async def test_a_retried_dead_letter_is_delivered_when_next_attempted(net: Network) -> None:
    services = net.hub.services
    net.msp.party.handler = refuse
    dead = await attempt(net, await queue_location(net, net.msp))
    assert dead.state is DeliveryState.DEAD and dead.reason is not None

    net.msp.party.handler = None  # the eMSP fixed its side
    [retried] = await operators.retry(services, [dead.id])
    assert retried.state is DeliveryState.PENDING and retried.reason is None
    assert retried.attempts == dead.attempts
    # Due now: the running hub's sweeper picks it up.
    assert [d.id for d in await services.store.outbox.due(services.clock(), limit=10)] == [dead.id]

    delivered = await attempt(net, retried)
    assert delivered.state is DeliveryState.DELIVERED
    assert [a.http_status for a in delivered.attempts] == [400, 200]
    assert [r.path for r in of(net.msp, "locations")] == ["/NL/CPO/LOC1", "/NL/CPO/LOC1"]


@pytest.mark.parametrize("state", [DeliveryState.PENDING, DeliveryState.DELIVERED, DeliveryState.SUPERSEDED])
async def test_only_dead_letters_can_be_retried(net: Network, state: DeliveryState) -> None:
    services = net.hub.services
    other = await queue_location(net, net.msp, state=state)
    dead = await queue_location(net, net.emp, "LOC2", state=DeliveryState.DEAD, reason="HTTP 400")

    with pytest.raises(OperatorError, match=f"is {state.value}; only DEAD deliveries can be retried"):
        await operators.retry(services, [dead.id, other.id])
    # Nothing was changed, not even the dead letter named first.
    assert await services.store.outbox.get(dead.id) == dead
    assert await services.store.outbox.get(other.id) == other
    with pytest.raises(OperatorError, match="no delivery 'd-nope'"):
        await operators.retry(services, ["d-nope"])
    with pytest.raises(OperatorError, match="no delivery 'd-nope'"):
        await operators.get(services, "d-nope")


async def test_retry_all_dead_re_drives_every_dead_letter_or_one_partys(net: Network) -> None:
    services = net.hub.services
    to_msp = [await queue_location(net, net.msp, f"L{i}", state=DeliveryState.DEAD) for i in range(3)]
    to_emp = await queue_location(net, net.emp, state=DeliveryState.DEAD)
    delivered = await queue_location(net, net.emp, "L9", state=DeliveryState.DELIVERED)

    retried = await operators.retry_all_dead(services, party="de*msp")
    assert sorted(d.id for d in retried) == sorted(d.id for d in to_msp)
    assert [d.id for d in await services.store.outbox.by_state(DeliveryState.DEAD, limit=10)] == [to_emp.id]

    assert [d.id for d in await operators.retry_all_dead(services)] == [to_emp.id]
    assert await services.store.outbox.by_state(DeliveryState.DEAD, limit=10) == []
    assert await services.store.outbox.get(delivered.id) == delivered


async def test_listing_filters_by_state_and_party(net: Network) -> None:
    services = net.hub.services
    pending = await queue_location(net, net.msp, "L1")
    dead = await queue_location(net, net.emp, "L2", state=DeliveryState.DEAD)
    done = await queue_location(net, net.msp, "L3", state=DeliveryState.DELIVERED)

    assert [d.id for d in await operators.listing(services)] == [pending.id, dead.id]
    assert [d.id for d in await operators.listing(services, party="DE*MSP")] == [pending.id]
    assert [d.id for d in await operators.listing(services, states=[DeliveryState.DEAD])] == [dead.id]
    assert [d.id for d in await operators.listing(services, limit=1)] == [pending.id]
    # Everything to the eMSP: the Hub Client Info it was sent when it joined, then these two.
    msp = await platform_operators.find(services, "DE*MSP")
    everything = await operators.listing(services, states=list(DeliveryState), party=msp.id)
    assert {d.target_platform_id for d in everything} == {msp.id}
    assert [d.id for d in everything][-2:] == [pending.id, done.id]
    assert {d.module for d in everything[:-2]} == {"hubclientinfo"}
    with pytest.raises(OperatorError, match="no platform 'XX\\*YYY'"):
        await operators.listing(services, party="XX*YYY")


async def test_purge_removes_only_the_asked_states_and_never_pending(net: Network) -> None:
    services = net.hub.services
    outbox = services.store.outbox
    now = services.clock()
    pending = await queue_location(net, net.msp, "L1", created_at=now - timedelta(days=30))
    old_dead = await queue_location(
        net, net.msp, "L2", state=DeliveryState.DEAD, created_at=now - timedelta(days=30)
    )
    new_dead = await queue_location(net, net.msp, "L3", state=DeliveryState.DEAD)
    delivered = await queue_location(
        net, net.emp, "L4", state=DeliveryState.DELIVERED, created_at=now - timedelta(days=30)
    )
    superseded = await queue_location(net, net.emp, "L5", state=DeliveryState.SUPERSEDED)

    with pytest.raises(OperatorError, match="never purged"):
        await operators.purge(services, [DeliveryState.DEAD, DeliveryState.PENDING])
    assert await outbox.get(old_dead.id) == old_dead

    assert await operators.purge(services, [DeliveryState.DEAD], before=now - timedelta(days=1)) == 1
    assert await outbox.get(old_dead.id) is None
    assert await outbox.get(new_dead.id) == new_dead

    earlier = len(await outbox.by_state(DeliveryState.DELIVERED, limit=1000))  # from joining the network
    assert await operators.purge(services, [DeliveryState.DELIVERED, DeliveryState.SUPERSEDED]) == earlier + 1
    assert await outbox.by_state(DeliveryState.DELIVERED, limit=10) == []
    assert await outbox.get(delivered.id) is None and await outbox.get(superseded.id) is None
    assert await outbox.get(pending.id) == pending
    assert await outbox.get(new_dead.id) == new_dead


def test_describe_shows_the_receiving_party_and_shortens_the_body_only_when_asked() -> None:
    delivery = Delivery(
        target_platform_id="p-one",
        to_country_code="DE",
        to_party_id="MSP",
        from_country_code="NL",
        from_party_id="HUB",
        method="PUT",
        url="http://127.0.0.1:9/locations/NL/CPO/LOC1",
        body="x" * 1000,
        module="locations",
    )
    whole = operators.describe(delivery)
    assert (whole["to"], whole["from"], whole["body"]) == ("DE*MSP", "NL*HUB", "x" * 1000)
    short = operators.describe(delivery, body_limit=10)
    assert short["body"] == "x" * 10 + "… (1000 characters)"
