"""GET hubclientinfo: the parties reachable through the hub, paginated (digest §6, §1.7)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import timedelta

from hub.ocpi.v2_2_1.hubclientinfo import ClientInfo
from tests.conftest import Hub
from tests.integration.conftest import Network, settle
from tests.support.network import join
from tests.support.party import Party, Received, role

StartParty = Callable[..., Awaitable[Party]]


async def test_client_info_is_paginated_with_link_total_and_limit(hub: Hub, start_party: StartParty) -> None:
    party = await start_party()
    roles = [role("CPO", "NL", f"C{i:02d}") for i in range(7)]
    token_c = await hub.register(party, await hub.invite(), roles)

    seen: list[str] = []
    path: str | None = "/ocpi/2.2.1/hubclientinfo?limit=3"
    pages = 0
    while path is not None:
        response = await hub.call("GET", path, token_c)
        body = await response.json()
        assert body["status_code"] == 1000
        assert response.headers["X-Total-Count"] == "7"
        assert response.headers["X-Limit"] == "100"
        for item in body["data"]:
            ClientInfo.model_validate(item)
            seen.append(item["party_id"])
        link = response.links.get("next")
        path = str(link["url"]).removeprefix(hub.base_url) if link else None
        if link:
            assert str(link["url"]).startswith(hub.base_url)
            assert "limit=3" in str(link["url"])
        pages += 1
    assert pages == 3
    assert seen == [f"C{i:02d}" for i in range(7)]


async def test_a_limit_above_the_maximum_is_capped(hub: Hub, party: Party, settings: object) -> None:
    token_c = await hub.register(party, await hub.invite(), [role("CPO", "NL", "TNM")])
    response = await hub.call("GET", "/ocpi/2.2.1/hubclientinfo?limit=100000", token_c)
    assert response.headers["X-Limit"] == str(hub.services.settings.page_limit_max)
    assert len((await response.json())["data"]) == 1


async def test_date_filters_select_by_last_updated(hub: Hub, start_party: StartParty) -> None:
    first = await start_party(token_b="first-b")
    second = await start_party(token_b="second-b")
    token_c = await hub.register(first, await hub.invite("first"), [role("CPO", "NL", "ONE")])
    real_clock = hub.services.clock
    hub.services.clock = lambda: real_clock() + timedelta(hours=1)
    await hub.register(second, await hub.invite("second"), [role("EMSP", "NL", "TWO")])
    hub.services.clock = real_clock

    everything = (await (await hub.call("GET", "/ocpi/2.2.1/hubclientinfo", token_c)).json())["data"]
    boundary = everything[1]["last_updated"]
    later = await hub.call("GET", f"/ocpi/2.2.1/hubclientinfo?date_from={boundary}", token_c)
    assert [i["party_id"] for i in (await later.json())["data"]] == ["TWO"]
    assert later.headers["X-Total-Count"] == "1"
    earlier = await hub.call("GET", f"/ocpi/2.2.1/hubclientinfo?date_to={boundary}", token_c)
    assert [i["party_id"] for i in (await earlier.json())["data"]] == ["ONE"]


async def test_bad_pagination_parameters_are_2001(hub: Hub, party: Party) -> None:
    token_c = await hub.register(party, await hub.invite(), [role("CPO", "NL", "TNM")])
    body = await (await hub.call("GET", "/ocpi/2.2.1/hubclientinfo?offset=-5", token_c)).json()
    assert body["status_code"] == 2001
    assert body["status_message"].startswith("offset:")


async def test_invited_platforms_that_never_registered_are_not_listed(hub: Hub, party: Party) -> None:
    await hub.invite("someone")
    token_c = await hub.register(party, await hub.invite(), [role("CPO", "NL", "TNM")])
    body = await (await hub.call("GET", "/ocpi/2.2.1/hubclientinfo", token_c)).json()
    assert [i["party_id"] for i in body["data"]] == ["TNM"]


# --- pushes ---------------------------------------------------------------------------------------------


def _client_infos(received: list[Received]) -> list[dict[str, object]]:
    return [json.loads(r.body) | {"path": r.path} for r in received if r.module == "hubclientinfo"]


async def test_a_new_party_is_announced_to_the_others_and_told_about_them(
    net: Network, start_party: StartParty
) -> None:
    newcomer = await join(net.hub, start_party, "EMSP", "BE", "NEW")
    await settle(net.hub)
    for member in (net.cpo, net.msp, net.emp):
        [info] = _client_infos(member.party.received)
        assert info["path"] == "/BE/NEW"
        assert (info["country_code"], info["party_id"], info["role"], info["status"]) == (
            "BE",
            "NEW",
            "EMSP",
            "CONNECTED",
        )
        headers = next(r.headers for r in member.party.received if r.module == "hubclientinfo")
        assert "OCPI-to-country-code" not in headers  # a configuration module: no routing headers
    welcomed = {(i["party_id"], i["status"]) for i in _client_infos(newcomer.party.received)}
    assert welcomed == {("CPO", "CONNECTED"), ("MSP", "CONNECTED"), ("EMP", "CONNECTED")}


async def test_suspension_and_unregistration_are_pushed(net: Network) -> None:
    from hub import operators
    from hub.keys import jobs_key

    await operators.suspend(net.hub.services, "FR*EMP")
    # An operator command records the pushes; the running hub's sweeper delivers them.
    await net.hub.server.app[jobs_key].sweep()  # type: ignore[attr-defined]  # the embedded runner
    await settle(net.hub)
    for member in (net.cpo, net.msp):
        assert [(i["party_id"], i["status"]) for i in _client_infos(member.party.received)] == [
            ("EMP", "SUSPENDED")
        ]
    assert _client_infos(net.emp.party.received) == []  # a suspended platform is told nothing

    for member in (net.cpo, net.msp):
        member.party.received.clear()
    assert (await net.msp.call("DELETE", "/ocpi/2.2.1/credentials")).status == 200
    await settle(net.hub)
    assert [(i["party_id"], i["status"]) for i in _client_infos(net.cpo.party.received)] == [
        ("MSP", "SUSPENDED")
    ]
    # It stays listed, with a status other than CONNECTED.
    listed = await net.cpo.call("GET", "/ocpi/2.2.1/hubclientinfo")
    statuses = {i["party_id"]: i["status"] for i in (await listed.json())["data"]}
    assert statuses == {"CPO": "CONNECTED", "MSP": "SUSPENDED", "EMP": "SUSPENDED"}
