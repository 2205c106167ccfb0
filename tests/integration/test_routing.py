"""Routing between parties through the hub (digest §5), with real party apps on loopback."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from hub.ocpi.envelope import envelope
from tests.integration.conftest import Network, of, settle
from tests.support import objects
from tests.support.party import Party, Received

StartParty = Callable[..., Awaitable[Party]]
LOCATIONS_RECEIVER = "/ocpi/2.2.1/receiver/locations"
LOCATIONS_SENDER = "/ocpi/2.2.1/sender/locations"


def body_of(response_body: bytes) -> Any:
    return json.loads(response_body)


# --- direct requests --------------------------------------------------------------------------------


async def test_a_direct_push_is_forwarded_byte_for_byte_with_the_receivers_token(net: Network) -> None:
    raw = json.dumps(objects.location(), indent=1).encode() + b"\n"  # any spacing: bytes go out unchanged
    response = await net.cpo.call(
        "PUT",
        f"{LOCATIONS_RECEIVER}/NL/CPO/LOC1",
        to=("DE", "MSP"),
        raw=raw,
        headers={"X-Request-ID": "cpo-req-1", "X-Correlation-ID": "corr-1"},
    )
    assert response.status == 200
    assert (await response.json())["status_code"] == 1000
    assert response.headers["X-Request-ID"] == "cpo-req-1"
    assert response.headers["X-Correlation-ID"] == "corr-1"

    [received] = of(net.msp, "locations")
    assert received.method == "PUT"
    assert received.role == "RECEIVER"
    assert received.path == "/NL/CPO/LOC1"
    assert received.body == raw
    headers = received.headers
    assert headers["Authorization"] == "Token " + base64.b64encode(net.msp.party.token_b.encode()).decode()
    assert headers["X-Request-ID"] not in ("cpo-req-1", "")
    assert headers["X-Correlation-ID"] == "corr-1"
    assert (headers["OCPI-to-country-code"], headers["OCPI-to-party-id"]) == ("DE", "MSP")
    assert (headers["OCPI-from-country-code"], headers["OCPI-from-party-id"]) == ("NL", "CPO")
    assert of(net.emp, "locations") == []

    await settle(net.hub)
    stored = await net.hub.services.store.mirror.get("locations", "nl", "cpo", "loc1")
    assert stored is not None
    assert stored.document == objects.location()


async def test_the_receivers_answer_comes_back_unchanged(net: Network) -> None:
    async def refuse(_: web.Request, __: Received) -> web.Response:
        return web.json_response(
            envelope(status_code=2001, status_message="we do not like it"),
            status=400,
            headers={
                "OCPI-to-country-code": "NL",
                "OCPI-to-party-id": "CPO",
                "OCPI-from-country-code": "DE",
                "OCPI-from-party-id": "MSP",
            },
        )

    net.msp.party.handler = refuse
    response = await net.cpo.call(
        "PUT", f"{LOCATIONS_RECEIVER}/NL/CPO/LOC1", to=("DE", "MSP"), body=objects.location()
    )
    assert response.status == 400
    body = await response.json()
    assert body["status_code"] == 2001
    assert body["status_message"] == "we do not like it"
    assert response.headers["OCPI-from-party-id"] == "MSP"
    assert response.headers["OCPI-to-party-id"] == "CPO"


async def test_a_request_with_to_but_without_from_is_2001_and_not_forwarded(net: Network) -> None:
    response = await net.cpo.call(
        "PUT", f"{LOCATIONS_RECEIVER}/NL/CPO/LOC1", to=("DE", "MSP"), sender=None, body=objects.location()
    )
    body = await response.json()
    assert body["status_code"] == 2001
    assert "OCPI-from-country-code" in body["status_message"]
    assert of(net.msp, "locations") == []


async def test_a_spoofed_from_is_refused_and_nothing_is_forwarded_or_stored(net: Network) -> None:
    response = await net.cpo.call(
        "PUT",
        f"{LOCATIONS_RECEIVER}/NL/CPO/LOC1",
        to=("DE", "MSP"),
        sender=("FR", "EMP"),
        body=objects.location(),
    )
    body = await response.json()
    assert body["status_code"] == 2001
    assert "FR*EMP is not a party of the calling platform" in body["status_message"]
    assert of(net.msp, "locations") == []
    assert await net.hub.services.store.mirror.get("locations", "NL", "CPO", "LOC1") is None


async def test_a_push_to_another_partys_object_url_is_refused(net: Network) -> None:
    # The eMSP pretends to push the CPO's location.
    response = await net.msp.call(
        "PUT", f"{LOCATIONS_RECEIVER}/NL/CPO/LOC1", to=("FR", "EMP"), body=objects.location()
    )
    assert response.status == 404
    body = await response.json()
    assert body["status_code"] == 2001
    assert "NL*CPO is not a party of the calling platform" in body["status_message"]
    assert of(net.emp, "locations") == []
    assert await net.hub.services.store.mirror.get("locations", "NL", "CPO", "LOC1") is None


async def test_an_invalid_body_is_2001_naming_the_path_and_nothing_is_forwarded(net: Network) -> None:
    broken = objects.location()
    broken["evses"][0]["connectors"][1]["max_voltage"] = "lots"
    response = await net.cpo.call("PUT", f"{LOCATIONS_RECEIVER}/NL/CPO/LOC1", to=("DE", "MSP"), body=broken)
    body = await response.json()
    assert body["status_code"] == 2001
    assert "evses[0].connectors[1].max_voltage" in body["status_message"]
    assert of(net.msp, "locations") == []
    assert await net.hub.services.store.mirror.get("locations", "NL", "CPO", "LOC1") is None


async def test_ids_in_the_url_must_match_the_body(net: Network) -> None:
    response = await net.cpo.call(
        "PUT", f"{LOCATIONS_RECEIVER}/NL/CPO/LOC2", to=("DE", "MSP"), body=objects.location()
    )
    body = await response.json()
    assert body["status_code"] == 2001
    assert "LOC1" in body["status_message"]
    assert of(net.msp, "locations") == []


@pytest.mark.parametrize(
    ("to", "code"),
    [(("XX", "YYY"), 4001), (("de", "msp"), 1000)],
    ids=["unknown-receiver", "case-insensitive"],
)
async def test_the_receiver_is_found_by_its_pair_whatever_the_case(
    net: Network, to: tuple[str, str], code: int
) -> None:
    response = await net.cpo.call("PUT", f"{LOCATIONS_RECEIVER}/NL/CPO/LOC1", to=to, body=objects.location())
    assert (await response.json())["status_code"] == code


async def test_a_suspended_or_unregistered_receiver_is_4003(net: Network) -> None:
    from hub import operators

    await operators.suspend(net.hub.services, "DE*MSP")
    response = await net.cpo.call(
        "PUT", f"{LOCATIONS_RECEIVER}/NL/CPO/LOC1", to=("DE", "MSP"), body=objects.location()
    )
    assert (await response.json())["status_code"] == 4003
    await operators.resume(net.hub.services, "DE*MSP")
    assert (await net.emp.call("DELETE", "/ocpi/2.2.1/credentials")).status == 200
    response = await net.cpo.call(
        "PUT", f"{LOCATIONS_RECEIVER}/NL/CPO/LOC1", to=("FR", "EMP"), body=objects.location()
    )
    assert (await response.json())["status_code"] == 4003


async def test_an_unreachable_receiver_is_4003(net: Network) -> None:
    from tests.conftest import free_port

    # The eMSP's platform moved away: nothing listens where its endpoints point any more.
    [platform] = await net.hub.services.store.platforms.by_party("DE", "MSP")
    moved = platform.model_copy(deep=True)
    for endpoint in moved.endpoints:
        endpoint.url = f"http://127.0.0.1:{free_port()}/ocpi/2.2.1/{endpoint.identifier}"
    await net.hub.services.store.platforms.update(moved)
    response = await net.cpo.call(
        "PUT", f"{LOCATIONS_RECEIVER}/NL/CPO/LOC1", to=("DE", "MSP"), body=objects.location()
    )
    body = await response.json()
    assert body["status_code"] == 4003
    assert "cannot be reached" in body["status_message"]


async def test_a_receiver_that_does_not_answer_in_time_is_4002(net: Network) -> None:
    net.hub.services.settings = net.hub.services.settings.model_copy(update={"forward_timeout": 0.3})

    async def slow(_: web.Request, __: Received) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response(envelope())

    net.msp.party.handler = slow
    response = await net.cpo.call(
        "PUT", f"{LOCATIONS_RECEIVER}/NL/CPO/LOC1", to=("DE", "MSP"), body=objects.location()
    )
    body = await response.json()
    assert body["status_code"] == 4002
    assert "0.3 s" in body["status_message"]


async def test_a_receiver_without_the_endpoint_is_4000(net: Network) -> None:
    # The eMSP publishes no tariffs SENDER interface (it is not a tariff owner).
    response = await net.cpo.call("GET", "/ocpi/2.2.1/sender/tariffs", to=("DE", "MSP"))
    body = await response.json()
    assert body["status_code"] == 4000
    assert "publishes no tariffs SENDER endpoint" in body["status_message"]


async def test_a_list_from_a_party_keeps_its_query_and_its_link_points_at_the_hub(net: Network) -> None:
    async def page(request: web.Request, received: Received) -> web.Response:
        offset = int(request.query.get("offset", "0"))
        headers = {"X-Total-Count": "3", "X-Limit": "2"}
        if offset == 0:
            next_url = (
                net.cpo.party.endpoint_url("locations", "SENDER")
                + "?offset=2&limit=2&date_from=2020-01-01T00:00:00Z"
            )
            headers["Link"] = f'<{next_url}>; rel="next"'
            data = [objects.location(location_id="L1"), objects.location(location_id="L2")]
        else:
            data = [objects.location(location_id="L3")]
        return web.json_response(envelope(data), headers=headers)

    net.cpo.party.handler = page
    response = await net.msp.call(
        "GET", f"{LOCATIONS_SENDER}?limit=2&date_from=2020-01-01T00:00:00Z", to=("NL", "CPO")
    )
    assert response.status == 200
    assert [d["id"] for d in (await response.json())["data"]] == ["L1", "L2"]
    assert response.headers["X-Total-Count"] == "3"
    assert of(net.cpo, "locations")[0].query_string == "limit=2&date_from=2020-01-01T00:00:00Z"
    link = str(response.links["next"]["url"])
    assert link.startswith(net.hub.url(LOCATIONS_SENDER))
    assert net.cpo.party.base_url not in link
    following = await net.msp.call("GET", link.removeprefix(net.hub.base_url), to=("NL", "CPO"))
    assert [d["id"] for d in (await following.json())["data"]] == ["L3"]
    assert "next" not in following.links


# --- broadcast push ------------------------------------------------------------------------------------


async def test_a_broadcast_is_answered_at_once_and_delivered_to_every_emsp(net: Network) -> None:
    raw = json.dumps(objects.location()).encode()
    response = await net.cpo.call("PUT", f"{LOCATIONS_RECEIVER}/NL/CPO/LOC1", to=("NL", "HUB"), raw=raw)
    assert response.status == 200
    assert (await response.json())["status_code"] == 1000
    assert (response.headers["OCPI-from-country-code"], response.headers["OCPI-from-party-id"]) == (
        "NL",
        "HUB",
    )
    assert (response.headers["OCPI-to-country-code"], response.headers["OCPI-to-party-id"]) == ("NL", "CPO")
    await settle(net.hub)
    for member in (net.msp, net.emp):
        [received] = of(member, "locations")
        assert received.path == "/NL/CPO/LOC1"  # the owner's pair, even though FROM is the hub
        assert received.body == raw
        assert (received.headers["OCPI-from-country-code"], received.headers["OCPI-from-party-id"]) == (
            "NL",
            "HUB",
        )
        assert received.headers["OCPI-to-party-id"] == member.party_id
    assert of(net.cpo, "locations") == []
    delivered = await net.hub.services.store.outbox.by_state("DELIVERED", limit=10)  # type: ignore[arg-type]
    assert len([d for d in delivered if d.module == "locations"]) == 2


async def test_a_stale_broadcast_is_acknowledged_but_not_delivered(net: Network) -> None:
    await net.cpo.call(
        "PUT",
        f"{LOCATIONS_RECEIVER}/NL/CPO/LOC1",
        to=("NL", "HUB"),
        body=objects.location(last_updated="2025-02-01T00:00:00Z"),
    )
    await settle(net.hub)
    net.msp.party.received.clear()
    response = await net.cpo.call(
        "PUT",
        f"{LOCATIONS_RECEIVER}/NL/CPO/LOC1",
        to=("NL", "HUB"),
        body=objects.location(last_updated="2025-01-01T00:00:00Z", name="older"),
    )
    assert (await response.json())["status_code"] == 1000
    await settle(net.hub)
    assert of(net.msp, "locations") == []
    stored = await net.hub.services.store.mirror.get("locations", "NL", "CPO", "LOC1")
    assert stored is not None and stored.document["last_updated"] == "2025-02-01T00:00:00Z"


async def test_an_unpublished_location_reaches_only_the_parties_it_is_published_to(net: Network) -> None:
    # The FR eMSP's token is named in publish_allowed_to; the DE eMSP has none there.
    await net.emp.call(
        "PUT",
        "/ocpi/2.2.1/receiver/tokens/FR/EMP/T-FR",
        to=("NL", "HUB"),
        body=objects.token("FR", "EMP", "T-FR"),
    )
    await settle(net.hub)
    private = objects.location(publish=False, publish_allowed_to=[{"uid": "T-FR", "type": "RFID"}])
    await net.cpo.call("PUT", f"{LOCATIONS_RECEIVER}/NL/CPO/LOC1", to=("NL", "HUB"), body=private)
    await settle(net.hub)
    assert len(of(net.emp, "locations")) == 1
    assert of(net.msp, "locations") == []
    # ... and GET all via the hub shows it to the same party only.
    for member, count in ((net.emp, 1), (net.msp, 0)):
        listed = await member.call("GET", LOCATIONS_SENDER, to=("NL", "HUB"))
        assert len((await listed.json())["data"]) == count
        assert listed.headers["X-Total-Count"] == str(count)


async def test_evse_pushes_merge_into_the_mirrored_location_and_bump_it(net: Network) -> None:
    await net.cpo.call("PUT", f"{LOCATIONS_RECEIVER}/NL/CPO/LOC1", to=("NL", "HUB"), body=objects.location())
    patch = {"status": "CHARGING", "last_updated": "2025-03-01T12:00:00Z"}
    response = await net.cpo.call(
        "PATCH", f"{LOCATIONS_RECEIVER}/NL/CPO/LOC1/LOC1-E1", to=("NL", "HUB"), body=patch
    )
    assert (await response.json())["status_code"] == 1000
    await settle(net.hub)
    stored = await net.hub.services.store.mirror.get("locations", "NL", "CPO", "LOC1")
    assert stored is not None
    assert stored.document["evses"][0]["status"] == "CHARGING"
    assert stored.document["last_updated"] == "2025-03-01T12:00:00Z"
    patches = [r for r in of(net.msp, "locations") if r.method == "PATCH"]
    assert [r.path for r in patches] == ["/NL/CPO/LOC1/LOC1-E1"]
    # A PATCH for an EVSE of a location the hub does not hold cannot be broadcast.
    response = await net.cpo.call(
        "PATCH", f"{LOCATIONS_RECEIVER}/NL/CPO/NOPE/E1", to=("NL", "HUB"), body=patch
    )
    assert (await response.json())["status_code"] == 2001


async def test_tokens_broadcast_from_an_emsp_reach_the_cpo(net: Network) -> None:
    response = await net.msp.call(
        "PUT", "/ocpi/2.2.1/receiver/tokens/DE/MSP/TOKEN1?type=RFID", to=("NL", "HUB"), body=objects.token()
    )
    assert (await response.json())["status_code"] == 1000
    await settle(net.hub)
    [received] = of(net.cpo, "tokens")
    assert received.path == "/DE/MSP/TOKEN1"
    assert received.query_string == "type=RFID"
    assert of(net.emp, "tokens") == []


async def test_a_get_with_to_hub_on_a_receiver_interface_returns_the_hubs_copy(net: Network) -> None:
    await net.cpo.call("PUT", f"{LOCATIONS_RECEIVER}/NL/CPO/LOC1", to=("NL", "HUB"), body=objects.location())
    response = await net.cpo.call("GET", f"{LOCATIONS_RECEIVER}/NL/CPO/LOC1/LOC1-E2/2", to=("NL", "HUB"))
    assert (await response.json())["data"]["id"] == "2"
    missing = await net.cpo.call("GET", f"{LOCATIONS_RECEIVER}/NL/CPO/NOPE", to=("NL", "HUB"))
    assert missing.status == 404


async def test_a_push_method_that_cannot_be_broadcast_is_2001(net: Network) -> None:
    response = await net.cpo.call(
        "POST", f"{LOCATIONS_RECEIVER}/NL/CPO/LOC1", to=("NL", "HUB"), body=objects.location()
    )
    body = await response.json()
    assert body["status_code"] == 2001
    assert "cannot be broadcast" in body["status_message"]
    await settle(net.hub)
    assert of(net.msp, "locations") == []


async def test_a_broadcast_is_recorded_before_the_answer_and_kept_when_a_receiver_is_down(
    net: Network,
) -> None:
    """The receiver is unreachable: the sender still gets 1000, and the delivery waits in the outbox."""
    from tests.conftest import free_port

    [platform] = await net.hub.services.store.platforms.by_party("DE", "MSP")
    moved = platform.model_copy(deep=True)
    for endpoint in moved.endpoints:
        endpoint.url = f"http://127.0.0.1:{free_port()}/ocpi/2.2.1/{endpoint.identifier}"
    await net.hub.services.store.platforms.update(moved)
    response = await net.cpo.call(
        "PUT", f"{LOCATIONS_RECEIVER}/NL/CPO/LOC1", to=("NL", "HUB"), body=objects.location()
    )
    assert (await response.json())["status_code"] == 1000
    await settle(net.hub)
    [pending] = await net.hub.services.store.outbox.for_target(platform.id, states=["PENDING"], limit=10)  # type: ignore[list-item]
    assert pending.module == "locations"
    assert pending.attempts and pending.attempts[-1].error
    assert pending.next_attempt_at is not None
    assert len(of(net.emp, "locations")) == 1  # the other receiver got it all the same


async def test_a_per_module_page_limit_caps_get_all(net: Network) -> None:
    settings = net.hub.services.settings
    net.hub.services.settings = settings.model_copy(update={"page_limits": {"locations": 2}})
    for index in range(3):
        await net.cpo.call(
            "PUT",
            f"{LOCATIONS_RECEIVER}/NL/CPO/L{index}",
            to=("NL", "HUB"),
            body=objects.location(location_id=f"L{index}", evses=1),
        )
    response = await net.msp.call("GET", f"{LOCATIONS_SENDER}?limit=50", to=("NL", "HUB"))
    assert response.headers["X-Limit"] == "2"
    assert len((await response.json())["data"]) == 2
    assert "limit=2" in str(response.links["next"]["url"])
    tariffs = await net.msp.call("GET", "/ocpi/2.2.1/sender/tariffs", to=("NL", "HUB"))
    assert tariffs.headers["X-Limit"] == str(settings.page_limit_max)


# --- GET all via hub -----------------------------------------------------------------------------------


async def test_get_all_walks_the_mirror_without_duplicates_or_gaps_while_objects_change(net: Network) -> None:
    for index in range(25):
        stamp = f"2025-01-01T10:{index:02d}:00Z"
        await net.cpo.call(
            "PUT",
            f"{LOCATIONS_RECEIVER}/NL/CPO/L{index:02d}",
            to=("NL", "HUB"),
            body=objects.location(location_id=f"L{index:02d}", last_updated=stamp, evses=1),
        )
    seen: list[str] = []
    path: str | None = f"{LOCATIONS_SENDER}?limit=10"
    round_ = 0
    while path is not None:
        response = await net.msp.call("GET", path, to=("NL", "HUB"))
        body = await response.json()
        assert body["status_code"] == 1000
        assert response.headers["X-Total-Count"] == "25"
        assert response.headers["X-Limit"] == str(net.hub.services.settings.page_limit("locations"))
        seen.extend(item["id"] for item in body["data"])
        # Meanwhile the CPO updates objects already seen and objects still ahead.
        for index in (round_, 24 - round_):
            await net.cpo.call(
                "PUT",
                f"{LOCATIONS_RECEIVER}/NL/CPO/L{index:02d}",
                to=("NL", "HUB"),
                body=objects.location(
                    location_id=f"L{index:02d}", last_updated=f"2025-06-0{round_ + 1}T00:00:00Z", evses=1
                ),
            )
        link = response.links.get("next")
        path = str(link["url"]).removeprefix(net.hub.base_url) if link else None
        if link:
            assert "limit=10" in str(link["url"])
        round_ += 1
    assert seen == [f"L{index:02d}" for index in range(25)]


async def test_get_all_filters_by_date_and_keeps_unknown_fields(net: Network) -> None:
    for index, stamp in enumerate(["2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", "2025-03-01T00:00:00Z"]):
        document = objects.location(location_id=f"L{index}", last_updated=stamp, evses=1)
        document["x_vendor"] = {"depth": [1, {"two": None}]}
        await net.cpo.call("PUT", f"{LOCATIONS_RECEIVER}/NL/CPO/L{index}", to=("NL", "HUB"), body=document)
    response = await net.msp.call(
        "GET",
        f"{LOCATIONS_SENDER}?date_from=2025-02-01T00:00:00Z&date_to=2025-03-01T00:00:00Z",
        to=("NL", "HUB"),
    )
    data = (await response.json())["data"]
    assert [d["id"] for d in data] == ["L1"]
    assert data[0]["x_vendor"] == {"depth": [1, {"two": None}]}
    bad = await net.msp.call("GET", f"{LOCATIONS_SENDER}?date_from=yesterday", to=("NL", "HUB"))
    assert (await bad.json())["status_message"].startswith("date_from:")


async def test_sessions_and_cdrs_are_listed_only_to_their_emsp(net: Network) -> None:
    await net.cpo.call(
        "PUT", "/ocpi/2.2.1/receiver/sessions/NL/CPO/S1", to=("DE", "MSP"), body=objects.session()
    )
    await net.cpo.call("POST", "/ocpi/2.2.1/receiver/cdrs", to=("DE", "MSP"), body=objects.cdr())
    await settle(net.hub)
    for module in ("sessions", "cdrs"):
        mine = await net.msp.call("GET", f"/ocpi/2.2.1/sender/{module}", to=("NL", "HUB"))
        theirs = await net.emp.call("GET", f"/ocpi/2.2.1/sender/{module}", to=("NL", "HUB"))
        assert len((await mine.json())["data"]) == 1, module
        assert (await theirs.json())["data"] == [], module


async def test_a_session_patch_appends_charging_periods_in_the_mirror(net: Network) -> None:
    await net.cpo.call(
        "PUT", "/ocpi/2.2.1/receiver/sessions/NL/CPO/S1", to=("DE", "MSP"), body=objects.session()
    )
    period = {"start_date_time": "2025-01-01T09:15:00Z", "dimensions": [{"type": "ENERGY", "volume": 1.5}]}
    for minute in (15, 30):
        period = {**period, "start_date_time": f"2025-01-01T09:{minute}:00Z"}
        await net.cpo.call(
            "PATCH",
            "/ocpi/2.2.1/receiver/sessions/NL/CPO/S1",
            to=("DE", "MSP"),
            body={"charging_periods": [period], "kwh": 3, "last_updated": f"2025-01-01T10:{minute}:00Z"},
        )
    await settle(net.hub)
    stored = await net.hub.services.store.mirror.get("sessions", "NL", "CPO", "S1")
    assert stored is not None
    assert [p["start_date_time"] for p in stored.document["charging_periods"]] == [
        "2025-01-01T09:15:00Z",
        "2025-01-01T09:30:00Z",
    ]


async def test_a_list_get_needs_a_receiver(net: Network) -> None:
    response = await net.msp.call("GET", LOCATIONS_SENDER)
    body = await response.json()
    assert body["status_code"] == 2001
    assert "OCPI-to-country-code" in body["status_message"]


# --- open routing, commands and their results ---------------------------------------------------------------


async def test_a_command_without_to_goes_to_the_locations_owner_and_its_result_comes_back(
    net: Network,
) -> None:
    await net.cpo.call("PUT", f"{LOCATIONS_RECEIVER}/NL/CPO/LOC1", to=("NL", "HUB"), body=objects.location())
    await settle(net.hub)
    original = net.msp.party.endpoint_url("commands", "SENDER") + "/START_SESSION/42"

    async def accept(_: web.Request, __: Received) -> web.Response:
        return web.json_response(
            envelope({"result": "ACCEPTED", "timeout": 30}),
            headers={"OCPI-from-country-code": "NL", "OCPI-from-party-id": "CPO"},
        )

    net.cpo.party.handler = accept
    command = {
        "response_url": original,
        "token": objects.token(),
        "location_id": "LOC1",
        "evse_uid": "LOC1-E1",
    }
    response = await net.msp.call("POST", "/ocpi/2.2.1/receiver/commands/START_SESSION", body=command)
    body = await response.json()
    assert body["data"] == {"result": "ACCEPTED", "timeout": 30}

    [forwarded] = of(net.cpo, "commands")
    assert forwarded.path == "/START_SESSION"
    assert (forwarded.headers["OCPI-to-country-code"], forwarded.headers["OCPI-to-party-id"]) == ("NL", "CPO")
    assert forwarded.headers["OCPI-from-party-id"] == "MSP"
    sent = json.loads(forwarded.body)
    hub_url = sent["response_url"]
    assert hub_url.startswith(net.hub.url("/ocpi/2.2.1/links/"))
    assert len(hub_url) <= 255
    assert {k: v for k, v in sent.items() if k != "response_url"} == {
        k: v for k, v in command.items() if k != "response_url"
    }

    # The charge point answers: the CPO POSTs the result to the hub URL; the eMSP gets it at its own URL.
    result = await net.cpo.call("POST", hub_url.removeprefix(net.hub.base_url), body={"result": "ACCEPTED"})
    assert (await result.json())["status_code"] == 1000
    [delivered] = of(net.msp, "commands")
    assert delivered.method == "POST"
    assert delivered.path == "/START_SESSION/42"
    assert json.loads(delivered.body) == {"result": "ACCEPTED"}
    assert (delivered.headers["OCPI-to-country-code"], delivered.headers["OCPI-to-party-id"]) == ("DE", "MSP")
    assert (delivered.headers["OCPI-from-country-code"], delivered.headers["OCPI-from-party-id"]) == (
        "NL",
        "CPO",
    )
    assert (
        delivered.headers["Authorization"]
        == "Token " + base64.b64encode(net.msp.party.token_b.encode()).decode()
    )

    # Only the CPO may use that URL, and only with a CommandResult.
    stolen = await net.emp.call("POST", hub_url.removeprefix(net.hub.base_url), body={"result": "ACCEPTED"})
    assert stolen.status == 404
    bad = await net.cpo.call("POST", hub_url.removeprefix(net.hub.base_url), body={"result": "MAYBE"})
    assert (await bad.json())["status_code"] == 2001


async def test_a_charging_profile_response_url_in_the_query_is_proxied(net: Network) -> None:
    await net.cpo.call(
        "PUT", "/ocpi/2.2.1/receiver/sessions/NL/CPO/S1", to=("DE", "MSP"), body=objects.session()
    )
    await settle(net.hub)  # the mirror copy is written right after the push is forwarded
    original = net.msp.party.endpoint_url("chargingprofiles", "SENDER") + "/result/7"
    from urllib.parse import quote

    response = await net.msp.call(
        "GET",
        f"/ocpi/2.2.1/receiver/chargingprofiles/S1?duration=900&response_url={quote(original, safe='')}",
    )
    assert (await response.json())["status_code"] == 1000
    [forwarded] = of(net.cpo, "chargingprofiles")
    from urllib.parse import parse_qs

    query = parse_qs(forwarded.query_string)
    assert query["duration"] == ["900"]
    hub_url = query["response_url"][0]
    assert hub_url.startswith(net.hub.url("/ocpi/2.2.1/links/"))
    result = {
        "result": "ACCEPTED",
        "profile": {
            "start_date_time": "2025-01-01T09:00:00Z",
            "charging_profile": {
                "charging_rate_unit": "W",
                "charging_profile_period": [{"start_period": 0, "limit": 11000}],
            },
        },
    }
    answer = await net.cpo.call("POST", hub_url.removeprefix(net.hub.base_url), body=result)
    assert (await answer.json())["status_code"] == 1000
    [delivered] = of(net.msp, "chargingprofiles")
    assert delivered.path == "/result/7"


async def test_an_authorization_without_to_goes_to_the_tokens_owner(net: Network) -> None:
    await net.msp.call(
        "PUT", "/ocpi/2.2.1/receiver/tokens/DE/MSP/TOKEN1", to=("NL", "HUB"), body=objects.token()
    )
    await settle(net.hub)

    async def allow(_: web.Request, __: Received) -> web.Response:
        return web.json_response(envelope({"allowed": "ALLOWED", "token": objects.token()}))

    net.msp.party.handler = allow
    response = await net.cpo.call(
        "POST", "/ocpi/2.2.1/sender/tokens/TOKEN1/authorize?type=RFID", body={"location_id": "LOC1"}
    )
    assert (await response.json())["data"]["allowed"] == "ALLOWED"
    [forwarded] = of(net.msp, "tokens")
    assert forwarded.path == "/TOKEN1/authorize"
    assert forwarded.query_string == "type=RFID"


async def test_an_authorization_that_times_out_is_answered_from_the_mirrored_token(net: Network) -> None:
    await net.msp.call(
        "PUT", "/ocpi/2.2.1/receiver/tokens/DE/MSP/TOKEN1", to=("NL", "HUB"), body=objects.token()
    )
    await settle(net.hub)
    net.hub.services.settings = net.hub.services.settings.model_copy(update={"authorize_timeout": 0.2})

    async def slow(_: web.Request, __: Received) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response(envelope())

    net.msp.party.handler = slow
    response = await net.cpo.call("POST", "/ocpi/2.2.1/sender/tokens/TOKEN1/authorize", to=("DE", "MSP"))
    body = await response.json()
    assert body["status_code"] == 1000
    assert body["data"]["allowed"] == "ALLOWED"
    assert body["data"]["token"]["uid"] == "TOKEN1"
    # An unknown token has no fallback: the timeout is the answer, and it never hangs.
    response = await net.cpo.call("POST", "/ocpi/2.2.1/sender/tokens/UNKNOWN/authorize", to=("DE", "MSP"))
    assert (await response.json())["status_code"] == 4002
    # With the fallback switched off the hub answers the timeout too.
    net.hub.services.settings = net.hub.services.settings.model_copy(update={"authorize_fallback": "none"})
    response = await net.cpo.call("POST", "/ocpi/2.2.1/sender/tokens/TOKEN1/authorize", to=("DE", "MSP"))
    assert (await response.json())["status_code"] == 4002
