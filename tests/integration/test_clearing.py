"""The hub as a clearing platform: CDRs are accepted, checked, signed, stored, delivered once, and
every step is entered in the evidence ledger (digest §10, architecture decisions 7 and 9)."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import timedelta
from typing import Any

import pytest
import rfc8785
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import SecretStr

from hub.cdr_intake import CdrIntake
from hub.clearing.records import ClearingState
from hub.keys import jobs_key
from hub.ocpi.v2_2_1.hubclientinfo import ConnectionStatus
from hub.outbox.records import DeliveryState
from hub.signing.ledger import verify_chain
from settings import Settings
from tests.integration.conftest import Network, of, settle
from tests.support import objects
from tests.support.party import Received

CDRS = "/ocpi/2.2.1/receiver/cdrs"
OPERATOR_TOKEN = "operator-secret-for-tests"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"operator_token": SecretStr(OPERATOR_TOKEN), "pulls": False})


def priced_cdr(cdr_id: str = "CDR1", **changes: Any) -> dict[str, Any]:
    """A CDR whose totals its own tariff confirms: 10 kWh at 0.35 EUR + 21 % VAT."""
    document = objects.cdr(cdr_id=cdr_id)
    document["tariffs"] = [objects.tariff()]
    document["charging_periods"][0]["tariff_id"] = "AC-1"
    document.update(changes)
    return document


async def publish_location(net: Network) -> None:
    """The CPO's Location LOC1, known to the hub (a CDR at an unknown location gets a warning)."""
    response = await net.cpo.call(
        "PUT", "/ocpi/2.2.1/receiver/locations/NL/CPO/LOC1", to=("NL", "HUB"), body=objects.location()
    )
    assert (await response.json())["status_code"] == 1000
    await settle(net.hub)


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def verifies(net: Network, signature: str, body: bytes) -> bool:
    """An independent check of a Hub-Signature: the published JWKS and raw Ed25519, nothing of the hub's."""
    async with net.hub.http.get(net.hub.url("/.well-known/jwks.json")) as response:
        keys = (await response.json())["keys"]
    protected, payload, encoded_signature = signature.split(".")
    assert payload == ""  # detached
    header = json.loads(b64url_decode(protected))
    assert header["alg"] == "EdDSA"
    [jwk] = [k for k in keys if k["kid"] == header["kid"]]
    public = Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
    canonical = rfc8785.dumps(json.loads(body))
    signing_input = protected.encode() + b"." + base64.urlsafe_b64encode(canonical).rstrip(b"=")
    try:
        public.verify(b64url_decode(encoded_signature), signing_input)
    except Exception:
        return False
    return True


async def test_a_cdr_is_accepted_checked_signed_delivered_once_and_served_from_the_hub(net: Network) -> None:
    await publish_location(net)
    response = await net.cpo.call("POST", CDRS, to=("DE", "MSP"), body=priced_cdr())
    assert (await response.json())["status_code"] == 1000
    location = response.headers["Location"]
    assert location == net.hub.url("/ocpi/2.2.1/clearing/cdrs/NL/CPO/CDR1")
    await settle(net.hub)

    [delivered] = of(net.msp, "cdrs")
    assert (delivered.method, delivered.path) == ("POST", "")
    assert (delivered.headers["OCPI-from-country-code"], delivered.headers["OCPI-from-party-id"]) == (
        "NL",
        "CPO",
    )
    assert await verifies(net, delivered.headers["Hub-Signature"], delivered.body)
    assert not await verifies(net, delivered.headers["Hub-Signature"], delivered.body.replace(b"3.5", b"3.6"))
    assert json.loads(delivered.body) == json.loads(json.dumps(priced_cdr()))
    assert of(net.emp, "cdrs") == []

    record = await net.hub.services.store.clearing.get("NL*CPO*CDR1")
    assert record is not None
    assert (record.state, record.verdict_status, record.receiver_key) == (
        ClearingState.DELIVERED,
        "ok",
        "DE*MSP",
    )
    assert record.document.encode() == delivered.body

    # The Location leads to the CDR as delivered, signed, for its owner and its receiver only.
    for member in (net.cpo, net.msp):
        fetched = await member.call("GET", location.removeprefix(net.hub.base_url), sender=None)
        assert (await fetched.json())["data"]["id"] == "CDR1"
        assert fetched.headers["Hub-Signature"] == delivered.headers["Hub-Signature"]
    other = await net.emp.call("GET", location.removeprefix(net.hub.base_url), sender=None)
    assert other.status == 404

    entries = await net.hub.services.store.ledger.entries()
    assert [(e.kind, e.subject) for e in entries] == [
        ("CDR_ACCEPTED", "NL*CPO*CDR1"),
        ("CDR_DELIVERED", "NL*CPO*CDR1"),
    ]
    assert entries[0].data["sha256"] == record.sha256
    assert verify_chain(entries).intact


async def test_a_repeated_cdr_is_answered_alike_and_never_delivered_twice(net: Network) -> None:
    first, second = await asyncio.gather(
        net.cpo.call("POST", CDRS, to=("DE", "MSP"), body=priced_cdr()),
        net.cpo.call("POST", CDRS, to=("DE", "MSP"), body=priced_cdr()),
    )
    third = await net.cpo.call("POST", CDRS, to=("DE", "MSP"), body=priced_cdr())
    await settle(net.hub)
    answers = [(await r.json())["status_code"] for r in (first, second, third)]
    assert answers == [1000, 1000, 1000]
    assert len({r.headers["Location"] for r in (first, second, third)}) == 1
    assert len(of(net.msp, "cdrs")) == 1
    assert [e.kind for e in await net.hub.services.store.ledger.entries()] == [
        "CDR_ACCEPTED",
        "CDR_DELIVERED",
    ]


async def test_a_known_cdr_id_with_other_content_is_refused(net: Network) -> None:
    await net.cpo.call("POST", CDRS, to=("DE", "MSP"), body=priced_cdr())
    changed = priced_cdr(total_energy=11)
    response = await net.cpo.call("POST", CDRS, to=("DE", "MSP"), body=changed)
    body = await response.json()
    assert body["status_code"] == 2001
    assert body["status_message"].startswith("id: the CDR NL*CPO*CDR1 was accepted before")


async def test_a_credit_cdr_must_name_a_cdr_the_hub_accepted(net: Network) -> None:
    credit = priced_cdr("CREDIT1", credit=True, credit_reference_id="CDR1")
    credit["total_cost"] = {"excl_vat": -3.5, "incl_vat": -4.24}
    refused = await (await net.cpo.call("POST", CDRS, to=("DE", "MSP"), body=credit)).json()
    assert refused["status_code"] == 2001
    assert refused["status_message"].startswith("credit_reference_id: 'CDR1' names no CDR of NL*CPO")
    assert await net.hub.services.store.clearing.get("NL*CPO*CREDIT1") is None

    await net.cpo.call("POST", CDRS, to=("DE", "MSP"), body=priced_cdr())
    accepted = await (await net.cpo.call("POST", CDRS, to=("DE", "MSP"), body=credit)).json()
    assert accepted["status_code"] == 1000
    record = await net.hub.services.store.clearing.get("NL*CPO*CREDIT1")
    assert record is not None and record.credit and record.credit_reference_id == "CDR1"


async def test_a_cdr_sent_to_the_hub_goes_to_its_tokens_emsp(net: Network) -> None:
    response = await net.cpo.call("POST", CDRS, to=("NL", "HUB"), body=priced_cdr())
    assert (await response.json())["status_code"] == 1000
    await settle(net.hub)
    assert len(of(net.msp, "cdrs")) == 1


async def test_a_cdr_of_another_party_or_an_invalid_one_is_refused_and_nothing_is_kept(net: Network) -> None:
    foreign = priced_cdr(country_code="BE", party_id="ALF")
    body = await (await net.cpo.call("POST", CDRS, to=("DE", "MSP"), body=foreign)).json()
    assert body["status_code"] == 2001
    invalid = priced_cdr()
    del invalid["total_cost"]
    body = await (await net.cpo.call("POST", CDRS, to=("DE", "MSP"), body=invalid)).json()
    assert (body["status_code"], body["status_message"]) == (2001, "total_cost: is required")
    await settle(net.hub)
    assert of(net.msp, "cdrs") == []
    assert await net.hub.services.store.clearing.get("BE*ALF*CDR1") is None
    assert await net.hub.services.store.ledger.entries() == []
    assert [
        d
        for d in await net.hub.services.store.outbox.by_state(DeliveryState.PENDING, limit=10)
        if d.module == "cdrs"
    ] == []


async def test_a_failed_check_is_delivered_by_default_with_its_verdict_kept(net: Network) -> None:
    wrong = priced_cdr(total_cost={"excl_vat": 5.0, "incl_vat": 6.05})
    await net.cpo.call("POST", CDRS, to=("DE", "MSP"), body=wrong)
    await settle(net.hub)
    assert len(of(net.msp, "cdrs")) == 1
    record = await net.hub.services.store.clearing.get("NL*CPO*CDR1")
    assert record is not None and record.verdict_status == "failed"
    assert "total_cost_mismatch" in [f["code"] for f in record.verdict["findings"]]


async def test_with_the_setting_a_failed_cdr_is_held_until_an_operator_releases_it(net: Network) -> None:
    services = net.hub.services
    services.settings = services.settings.model_copy(update={"hold_failed_cdrs": True})
    wrong = priced_cdr(total_cost={"excl_vat": 5.0, "incl_vat": 6.05})
    assert (await (await net.cpo.call("POST", CDRS, to=("DE", "MSP"), body=wrong)).json())[
        "status_code"
    ] == 1000
    await net.cpo.call("POST", CDRS, to=("DE", "MSP"), body=priced_cdr("CDR2"))  # a good one passes
    await settle(net.hub)
    assert [json.loads(r.body)["id"] for r in of(net.msp, "cdrs")] == ["CDR2"]
    held = await services.store.clearing.get("NL*CPO*CDR1")
    assert held is not None and held.state is ClearingState.HELD and held.delivery_id is None

    jobs = net.hub.server.app[jobs_key]
    released = await CdrIntake(services, jobs.deliver).release("NL*CPO*CDR1")
    await settle(net.hub)
    assert released.state is ClearingState.QUEUED
    assert [json.loads(r.body)["id"] for r in of(net.msp, "cdrs")] == ["CDR2", "CDR1"]
    kinds = [e.kind for e in await services.store.ledger.entries()]
    assert kinds.count("CDR_RELEASED") == 1 and kinds.count("CDR_DELIVERED") == 2


async def test_the_operator_api_shows_a_cdr_and_the_settlement(net: Network) -> None:
    await publish_location(net)
    await net.cpo.call("POST", CDRS, to=("DE", "MSP"), body=priced_cdr())
    await settle(net.hub)
    bearer = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    async with net.hub.http.get(net.hub.url("/operator/cdrs/NL*CPO*CDR1"), headers=bearer) as response:
        shown = await response.json()
    assert (shown["state"], shown["verdict"]["status"]) == ("DELIVERED", "ok")
    async with net.hub.http.get(net.hub.url("/operator/cdrs/NL*CPO*CDR1")) as response:
        assert response.status == 401
    query = "from=2025-01-01&to=2025-01-02"
    async with net.hub.http.get(net.hub.url(f"/operator/settlement?{query}"), headers=bearer) as response:
        [line] = (await response.json())["lines"]
    assert (line["cpo"], line["emsp"], line["currency"], line["cdrs"]) == ("NL*CPO", "DE*MSP", "EUR", 1)
    assert (line["total_excl_vat"], line["total_incl_vat"], line["energy_kwh"]) == ("3.5", "4.24", "10")
    async with net.hub.http.get(
        net.hub.url(f"/operator/settlement?{query}&format=csv"), headers=bearer
    ) as response:
        assert (await response.text()).splitlines()[1].startswith("NL*CPO,DE*MSP,EUR,1,0,10,")


async def test_a_cdr_whose_delivery_was_never_recorded_gets_it_when_the_cpo_sends_it_again(
    net: Network,
) -> None:
    """The process that accepted it died between storing the CDR and recording its delivery."""
    services = net.hub.services
    await net.cpo.call("POST", CDRS, to=("DE", "MSP"), body=priced_cdr())
    await settle(net.hub)
    record = await services.store.clearing.get("NL*CPO*CDR1")
    assert record is not None
    lost = record.model_copy(
        update={"key": "NL*CPO*CDR9", "cdr_id": "CDR9", "delivery_id": "d-never-recorded",
                "received_at": record.received_at - timedelta(hours=1),
                "document": record.document.replace('"id":"CDR1"', '"id":"CDR9"'), "revision": 0}
    )  # fmt: skip
    await services.store.clearing.add(lost)

    again = await net.cpo.call("POST", CDRS, to=("DE", "MSP"), body=priced_cdr("CDR9"))
    assert (await again.json())["status_code"] == 1000
    await settle(net.hub)
    assert [json.loads(r.body)["id"] for r in of(net.msp, "cdrs")] == ["CDR1", "CDR9"]
    delivered = await services.store.outbox.get("d-never-recorded")
    assert delivered is not None and delivered.state is DeliveryState.DELIVERED


async def test_delivered_signatures_verify_against_the_published_keys_across_a_rotation(net: Network) -> None:
    await net.cpo.call("POST", CDRS, to=("DE", "MSP"), body=priced_cdr("CDR1"))
    await settle(net.hub)
    rotated = await net.hub.services.signer.rotate()
    await net.cpo.call("POST", CDRS, to=("DE", "MSP"), body=priced_cdr("CDR2"))
    await settle(net.hub)

    before, after = of(net.msp, "cdrs")
    kids = [
        json.loads(b64url_decode(r.headers["Hub-Signature"].split(".")[0]))["kid"] for r in (before, after)
    ]
    assert kids[1] == rotated.kid != kids[0]
    for received in (before, after):  # the old key stays published: both still verify
        assert await verifies(net, received.headers["Hub-Signature"], received.body)
    assert not await verifies(net, before.headers["Hub-Signature"], after.body)


async def test_a_cdr_for_an_offline_emsp_is_accepted_and_a_suspended_one_refused(net: Network) -> None:
    store = net.hub.services.store
    [msp] = await store.platforms.by_party("DE", "MSP")
    offline = msp.model_copy(deep=True)
    offline.set_status(ConnectionStatus.OFFLINE, now=net.hub.services.clock())
    msp = await store.platforms.update(offline)
    await asyncio.sleep(net.hub.services.settings.platform_cache_seconds)  # the hub's look-ups expire
    accepted = await (await net.cpo.call("POST", CDRS, to=("DE", "MSP"), body=priced_cdr())).json()
    assert accepted["status_code"] == 1000
    await settle(net.hub)
    assert len(of(net.msp, "cdrs")) == 1  # the outbox tries anyway; this one was reachable

    suspended = msp.model_copy(deep=True)
    suspended.set_status(ConnectionStatus.SUSPENDED, now=net.hub.services.clock())
    await store.platforms.update(suspended)
    await asyncio.sleep(net.hub.services.settings.platform_cache_seconds)
    refused = await (await net.cpo.call("POST", CDRS, to=("DE", "MSP"), body=priced_cdr("CDR2"))).json()
    assert refused["status_code"] == 4003
    assert await store.clearing.get("NL*CPO*CDR2") is None


async def test_a_cdr_the_emsp_refuses_is_entered_dead_in_the_record_and_the_ledger(net: Network) -> None:
    async def refuse(_: web.Request, __: Received) -> web.StreamResponse:
        return web.json_response(
            {"status_code": 2001, "status_message": "no", "timestamp": "2025-01-01T00:00:00Z"}
        )

    net.msp.party.handler = refuse
    await net.cpo.call("POST", CDRS, to=("DE", "MSP"), body=priced_cdr())
    await settle(net.hub)
    record = await net.hub.services.store.clearing.get("NL*CPO*CDR1")
    assert record is not None and record.state is ClearingState.DEAD
    entries = await net.hub.services.store.ledger.entries()
    assert [e.kind for e in entries] == ["CDR_ACCEPTED", "CDR_DEAD"]
    assert (entries[1].data["ocpi_status"], entries[1].data["delivery_id"]) == (2001, record.delivery_id)
    assert verify_chain(entries).intact
