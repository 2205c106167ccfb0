"""Party-initiated registration with the hub (digest §4.3), over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable

import pytest

from hub.ocpi.types import parse_datetime
from tests.conftest import Hub
from tests.integration.conftest import settle
from tests.support.party import Party, PartyBehaviour, role

CPO = [role("CPO", "NL", "TNM", "Test CPO")]
StartParty = Callable[..., Awaitable[Party]]


async def test_a_party_registers_with_token_a_and_then_works_with_token_c(hub: Hub, party: Party) -> None:
    token_a = await hub.invite("tnm")

    versions = await hub.call("GET", "/ocpi/versions", token_a)
    assert versions.status == 200
    listed = (await versions.json())["data"]
    assert listed == [{"version": "2.2.1", "url": hub.url("/ocpi/2.2.1")}]
    details = await hub.call("GET", "/ocpi/2.2.1", token_a)
    assert (await details.json())["data"]["version"] == "2.2.1"

    response = await hub.call("POST", "/ocpi/2.2.1/credentials", token_a, json=party.credentials(CPO))
    body = await response.json()
    assert response.status == 200
    assert body["status_code"] == 1000
    credentials = body["data"]
    assert credentials["url"] == hub.url("/ocpi/versions")
    assert credentials["roles"] == [
        {"role": "HUB", "business_details": {"name": "ocpi-hub"}, "party_id": "HUB", "country_code": "NL"}
    ]
    token_c = credentials["token"]
    assert token_c not in (token_a, party.token_b)
    assert 1 <= len(token_c) <= 64

    # The hub called the party back with token B, Base64-encoded as 2.2.1 asks, each call with a
    # request id of its own and the registration's correlation id.
    expected = "Token " + base64.b64encode(party.token_b.encode()).decode()
    assert party.seen_authorizations == [expected, expected]
    request_ids = [request_id for request_id, _ in party.seen_ids]
    assert all(request_ids) and len(set(request_ids)) == 2
    assert {correlation for _, correlation in party.seen_ids} == {response.headers["X-Correlation-ID"]}

    platform = (await hub.services.store.platforms.all())[0]
    assert platform.registered and platform.status == "CONNECTED"
    assert platform.version == "2.2.1"
    assert platform.endpoint("locations", "SENDER") is not None
    assert platform.endpoint("locations", "SENDER").url == party.endpoint_url("locations", "SENDER")  # type: ignore[union-attr]
    assert hub.services.cipher.decrypt(platform.outgoing_token or "") == party.token_b

    for path in ("/ocpi/versions", "/ocpi/2.2.1", "/ocpi/2.2.1/credentials"):
        assert (await hub.call("GET", path, token_a)).status == 401, path
        assert (await hub.call("GET", path, token_c)).status == 200, path
    own = await (await hub.call("GET", "/ocpi/2.2.1/credentials", token_c)).json()
    assert own["data"]["token"] == token_c


async def test_the_hub_lists_credentials_hubclientinfo_and_both_roles_of_every_functional_module(
    hub: Hub,
) -> None:
    token_a = await hub.invite()
    body = await (await hub.call("GET", "/ocpi/2.2.1", token_a)).json()
    endpoints = {(e["identifier"], e["role"]) for e in body["data"]["endpoints"]}
    modules = ["cdrs", "chargingprofiles", "commands", "locations", "sessions", "tariffs", "tokens"]
    expected = {("credentials", "SENDER"), ("hubclientinfo", "SENDER")}
    expected |= {(m, r) for m in modules for r in ("SENDER", "RECEIVER")}
    assert endpoints == expected
    assert all(e["url"].startswith(hub.base_url) for e in body["data"]["endpoints"])


async def test_token_a_is_refused_on_every_module_but_versions_and_credentials(
    hub: Hub, party: Party
) -> None:
    token_a = await hub.invite()
    details = await (await hub.call("GET", "/ocpi/2.2.1", token_a)).json()
    urls = [e["url"] for e in details["data"]["endpoints"] if e["identifier"] != "credentials"]
    assert len(urls) == 15
    for url in urls:
        path = url.removeprefix(hub.base_url)
        for method in ("GET", "PUT"):
            response = await hub.call(method, path + "/NL/TNM/1", token_a, json={})
            assert response.status == 401, (method, path)
            assert (await response.json())["status_code"] == 2000
    # ... also after registration, when token A is dead everywhere.
    token_c = await hub.register(party, token_a, CPO)
    for url in urls:
        path = url.removeprefix(hub.base_url)
        assert (await hub.call("GET", path, token_a)).status == 401
        assert (await hub.call("GET", path, token_c)).status == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Token " + base64.b64encode(b"no-such-token").decode()},
        {"Authorization": "Token no-such-token"},
        {"Authorization": "Bearer something"},
        {"Authorization": "Token"},
    ],
    ids=["missing", "unknown-base64", "unknown-raw", "other-scheme", "empty"],
)
async def test_requests_without_a_known_token_get_401_in_the_envelope(
    hub: Hub, headers: dict[str, str]
) -> None:
    for path in (
        "/ocpi/versions",
        "/ocpi/2.2.1",
        "/ocpi/2.2.1/credentials",
        "/ocpi/2.2.1/receiver/locations",
    ):
        response = await hub.call("GET", path, headers=headers)
        assert response.status == 401
        body = await response.json()
        assert body["status_code"] == 2000
        assert body["status_message"]
        parse_datetime(body["timestamp"])


async def test_every_answer_carries_the_envelope_and_the_request_ids(hub: Hub, party: Party) -> None:
    token_a = await hub.invite()
    cases = [
        ("GET", "/ocpi/versions", token_a, None),
        ("GET", "/ocpi/versions", None, None),  # 401
        ("PUT", "/ocpi/2.2.1/credentials", token_a, party.credentials(CPO)),  # 405
        ("POST", "/ocpi/2.2.1/credentials", token_a, {"token": "x"}),  # 2001
        ("GET", "/ocpi/2.2.1/nothing-here", token_a, None),  # 404
    ]
    for method, path, token, body in cases:
        response = await hub.call(
            method, path, token, json=body, headers={"X-Request-ID": "req-1", "X-Correlation-ID": "corr-1"}
        )
        assert response.headers["X-Request-ID"] == "req-1", path
        assert response.headers["X-Correlation-ID"] == "corr-1", path
        envelope = await response.json()
        assert isinstance(envelope["status_code"], int)
        assert envelope["timestamp"].endswith("Z")
        # Configuration modules carry no routing headers.
        assert not [h for h in response.headers if h.lower().startswith("ocpi-")]

    response = await hub.call("GET", "/ocpi/versions", token_a)
    assert response.headers["X-Request-ID"]
    assert response.headers["X-Correlation-ID"] == response.headers["X-Request-ID"]
    other = await hub.call("GET", "/ocpi/versions", token_a)
    assert other.headers["X-Request-ID"] != response.headers["X-Request-ID"]


async def test_a_second_post_is_405_and_put_or_delete_before_registration_are_405(
    hub: Hub, party: Party
) -> None:
    token_a = await hub.invite()
    for method in ("PUT", "DELETE"):
        response = await hub.call(method, "/ocpi/2.2.1/credentials", token_a, json=party.credentials(CPO))
        assert response.status == 405, method
        assert (await response.json())["status_code"] == 2000
    token_c = await hub.register(party, token_a, CPO)
    again = await hub.call("POST", "/ocpi/2.2.1/credentials", token_c, json=party.credentials(CPO))
    assert again.status == 405
    assert "already registered" in (await again.json())["status_message"]


@pytest.mark.parametrize(
    ("behaviour", "status_code", "words"),
    [
        (PartyBehaviour(versions_status=500), 3001, "HTTP 500"),
        (PartyBehaviour(accepts="none"), 3001, "HTTP 401"),
        (PartyBehaviour(versions_body=b"<html>not json</html>"), 3001, "did not answer JSON"),
        (
            PartyBehaviour(versions_body=b'{"status_code": 2000, "timestamp": "2020-01-01T00:00:00Z"}'),
            3001,
            "status 2000",
        ),
        (
            PartyBehaviour(
                versions_body=b'{"status_code": 1000, "data": [{"url": "x"}], '
                b'"timestamp": "2020-01-01T00:00:00Z"}'
            ),
            3001,
            "[0].version",
        ),
        (PartyBehaviour(versions=["2.1.1", "2.2"]), 3002, "2.1.1, 2.2"),
        (PartyBehaviour(modules=[("locations", "SENDER")]), 3003, "credentials"),
    ],
    ids=[
        "versions-500",
        "token-b-refused",
        "not-json",
        "not-success",
        "bad-versions",
        "no-common-version",
        "no-credentials",
    ],
)
async def test_registration_fails_with_the_matching_server_error_and_token_a_stays_usable(
    hub: Hub, start_party: StartParty, behaviour: PartyBehaviour, status_code: int, words: str
) -> None:
    party = await start_party(behaviour=behaviour)
    token_a = await hub.invite()
    response = await hub.call("POST", "/ocpi/2.2.1/credentials", token_a, json=party.credentials(CPO))
    body = await response.json()
    assert response.status == 200
    assert body["status_code"] == status_code
    assert words in body["status_message"]
    platform = (await hub.services.store.platforms.all())[0]
    assert not platform.registered
    # Nothing was kept, and the party may try again once it has fixed its side.
    assert (await hub.call("GET", "/ocpi/versions", token_a)).status == 200


async def test_an_unreachable_versions_url_is_3001(hub: Hub, party: Party) -> None:
    from tests.conftest import free_port

    token_a = await hub.invite()
    credentials = party.credentials(CPO)
    credentials["url"] = f"http://127.0.0.1:{free_port()}/ocpi/versions"
    body = await (await hub.call("POST", "/ocpi/2.2.1/credentials", token_a, json=credentials)).json()
    assert body["status_code"] == 3001
    assert "could not reach" in body["status_message"]


async def test_a_body_that_is_not_json_is_http_400_with_2001(hub: Hub) -> None:
    token_a = await hub.invite()
    for raw in (b"{not json", b"", b"\xff\xfe"):
        response = await hub.call(
            "POST", "/ocpi/2.2.1/credentials", token_a, data=raw, headers={"Content-Type": "application/json"}
        )
        assert response.status == 400
        body = await response.json()
        assert body["status_code"] == 2001
        assert body["status_message"]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"token": "has space"}, "token:"),
        ({"token": "x" * 65}, "token: must be at most 64"),
        ({"roles": []}, "roles: must not be empty"),
        ({"roles": [role("CPO", "NL", "TOOLONG")]}, "roles[0].party_id: must be at most 3"),
        ({"roles": [role("ALIEN", "NL", "TNM")]}, "roles[0].role: must be one of"),
        ({"roles": [role("CPO", "NL", "TNM"), role("CPO", "nl", "tnm")]}, "listed twice"),
        ({"roles": [role("CPO", "NL", "HUB")]}, "hub's own party"),
        ({"url": None}, "url:"),
    ],
)
async def test_invalid_credentials_are_2001_naming_the_field_and_nothing_is_called(
    hub: Hub, party: Party, change: dict[str, object], words: str
) -> None:
    token_a = await hub.invite()
    credentials = {**party.credentials(CPO), **change}
    response = await hub.call("POST", "/ocpi/2.2.1/credentials", token_a, json=credentials)
    body = await response.json()
    assert body["status_code"] == 2001
    assert words in body["status_message"]
    assert party.seen_authorizations == []


async def test_put_switches_to_a_new_token_b_and_issues_a_new_token_c(hub: Hub, party: Party) -> None:
    token_a = await hub.invite()
    token_c = await hub.register(party, token_a, CPO)
    await settle(hub)  # the pull that follows a registration calls the party with the old token
    party.token_b = "party-token-b-0002"
    party.behaviour.modules.append(("sessions", "RECEIVER"))
    party.seen_authorizations.clear()

    response = await hub.call("PUT", "/ocpi/2.2.1/credentials", token_c, json=party.credentials(CPO))
    body = await response.json()
    assert body["status_code"] == 1000
    new_c = body["data"]["token"]
    assert new_c != token_c
    expected = "Token " + base64.b64encode(b"party-token-b-0002").decode()
    assert party.seen_authorizations == [expected, expected]

    assert (await hub.call("GET", "/ocpi/versions", token_c)).status == 401
    assert (await hub.call("GET", "/ocpi/versions", new_c)).status == 200
    platform = (await hub.services.store.platforms.all())[0]
    assert hub.services.cipher.decrypt(platform.outgoing_token or "") == "party-token-b-0002"
    assert platform.endpoint("sessions", "RECEIVER") is not None


async def test_a_failed_put_keeps_the_current_registration(hub: Hub, party: Party) -> None:
    token_a = await hub.invite()
    token_c = await hub.register(party, token_a, CPO)
    party.behaviour.versions_status = 503
    body = await (
        await hub.call("PUT", "/ocpi/2.2.1/credentials", token_c, json=party.credentials(CPO))
    ).json()
    assert body["status_code"] == 3001
    assert (await hub.call("GET", "/ocpi/versions", token_c)).status == 200


async def test_delete_unregisters_the_platform(hub: Hub, start_party: StartParty) -> None:
    leaving = await start_party(token_b="leaving-b")
    staying = await start_party(token_b="staying-b")
    leaving_c = await hub.register(leaving, await hub.invite("leaving"), CPO)
    staying_c = await hub.register(staying, await hub.invite("staying"), [role("EMSP", "DE", "MSP")])

    response = await hub.call("DELETE", "/ocpi/2.2.1/credentials", leaving_c)
    assert response.status == 200
    assert (await response.json())["status_code"] == 1000
    assert (await hub.call("GET", "/ocpi/versions", leaving_c)).status == 401
    assert (await hub.call("DELETE", "/ocpi/2.2.1/credentials", leaving_c)).status == 401

    infos = (await (await hub.call("GET", "/ocpi/2.2.1/hubclientinfo", staying_c)).json())["data"]
    statuses = {(i["country_code"], i["party_id"], i["role"]): i["status"] for i in infos}
    assert statuses == {("NL", "TNM", "CPO"): "SUSPENDED", ("DE", "MSP", "EMSP"): "CONNECTED"}

    # The role is free again: a new platform may take it over.
    newcomer = await start_party(token_b="newcomer-b")
    await hub.register(newcomer, await hub.invite("newcomer"), CPO)
    infos = (await (await hub.call("GET", "/ocpi/2.2.1/hubclientinfo", staying_c)).json())["data"]
    assert [i["status"] for i in infos if i["party_id"] == "TNM"] == ["CONNECTED"]


async def test_a_multi_role_platform_registers_all_its_parties(hub: Hub, start_party: StartParty) -> None:
    party = await start_party()
    roles = [role("CPO", "NL", "ABC"), role("EMSP", "NL", "ABC"), role("CPO", "DE", "XYZ", "White label")]
    token_c = await hub.register(party, await hub.invite(), roles)
    platform = (await hub.services.store.platforms.all())[0]
    assert platform.role_keys() == ["DE*XYZ*CPO", "NL*ABC*CPO", "NL*ABC*EMSP"]
    infos = (await (await hub.call("GET", "/ocpi/2.2.1/hubclientinfo", token_c)).json())["data"]
    assert [(i["country_code"], i["party_id"], i["role"]) for i in infos] == [
        ("NL", "ABC", "CPO"),
        ("NL", "ABC", "EMSP"),
        ("DE", "XYZ", "CPO"),
    ]

    # Another platform cannot claim a role that is held, whatever the case of the codes.
    rival = await start_party(token_b="rival-b")
    token_a = await hub.invite("rival")
    response = await hub.call(
        "POST", "/ocpi/2.2.1/credentials", token_a, json=rival.credentials([role("EMSP", "nl", "abc")])
    )
    body = await response.json()
    assert body["status_code"] == 2001
    assert "roles[0]: EMSP NL*ABC is already registered" in body["status_message"]
    # The same pair with a role nobody holds is fine.
    await hub.register(rival, token_a, [role("NSP", "nl", "abc")])


@pytest.mark.parametrize("refusal_status", [401, 403])
async def test_a_party_that_only_understands_raw_tokens_is_registered_in_raw_form(
    hub: Hub, start_party: StartParty, refusal_status: int
) -> None:
    party = await start_party(behaviour=PartyBehaviour(accepts="raw", refusal_status=refusal_status))
    token_a = await hub.invite()
    # The party calls the hub with the raw token too, as 2.1.1-era platforms do.
    response = await hub.call(
        "POST", "/ocpi/2.2.1/credentials", token_a, raw=True, json=party.credentials(CPO)
    )
    body = await response.json()
    assert body["status_code"] == 1000
    token_c = body["data"]["token"]
    assert party.seen_authorizations[-2:] == [f"Token {party.token_b}"] * 2
    platform = (await hub.services.store.platforms.all())[0]
    assert platform.token_encoding == "raw"
    assert (await hub.call("GET", "/ocpi/versions", token_c, raw=True)).status == 200
    assert (await hub.call("GET", "/ocpi/versions", token_c)).status == 200


async def test_an_expired_registration_token_is_refused(hub: Hub) -> None:
    from datetime import timedelta

    token_a = await hub.invite()
    real_clock = hub.services.clock
    hub.services.clock = lambda: (
        real_clock() + timedelta(days=hub.services.settings.invite_ttl_days, seconds=1)
    )
    response = await hub.call("GET", "/ocpi/versions", token_a)
    assert response.status == 401
    assert "expired" in (await response.json())["status_message"]


async def test_a_suspended_platform_is_refused_until_resumed(hub: Hub, party: Party) -> None:
    from hub import operators

    token_c = await hub.register(party, await hub.invite(), CPO)
    await operators.suspend(hub.services, "nl*tnm")
    response = await hub.call("GET", "/ocpi/versions", token_c)
    assert response.status == 401
    assert "suspended" in (await response.json())["status_message"]
    await operators.resume(hub.services, "NL-TNM")
    assert (await hub.call("GET", "/ocpi/versions", token_c)).status == 200


async def test_tokens_are_kept_hashed_or_encrypted_never_in_plain_text(
    hub: Hub, party: Party, settings: object
) -> None:
    token_a = await hub.invite()
    token_c = await hub.register(party, token_a, CPO)
    path = hub.services.settings.sqlite_path
    assert path is not None
    stored = await asyncio.to_thread(
        lambda: b"".join(p.read_bytes() for p in path.parent.glob("hub.sqlite3*"))
    )
    for secret in (token_a, token_c, party.token_b):
        assert secret.encode() not in stored
        assert base64.b64encode(secret.encode()) not in stored
