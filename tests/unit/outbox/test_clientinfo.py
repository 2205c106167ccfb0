"""Hub Client Info pushes (digest §6.3): who is told what when a platform's parties change."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hub.ocpi.v2_2_1.common import Role
from hub.ocpi.v2_2_1.hubclientinfo import ClientInfo, ConnectionStatus
from hub.outbox.clientinfo import client_info_deliveries, client_info_url
from hub.outbox.deliver import request_headers
from hub.platforms import PartyRole, Platform, PlatformEndpoint

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CHANGED_AT = NOW - timedelta(minutes=5)


def platform(
    name: str,
    *roles: tuple[str, str, str],
    receiver_url: str | None = None,
    registered: bool = True,
    status: ConnectionStatus = ConnectionStatus.CONNECTED,
) -> Platform:
    endpoints = [PlatformEndpoint(identifier="credentials", role="SENDER", url=f"http://{name}/credentials")]
    if receiver_url is not None:
        endpoints.append(PlatformEndpoint(identifier="hubclientinfo", role="RECEIVER", url=receiver_url))
    return Platform(
        id=f"p-{name}",
        name=name,
        registered=registered,
        status=status,
        roles=[PartyRole(role=Role(r), country_code=cc, party_id=pid) for r, cc, pid in roles],
        endpoints=endpoints,
        status_changed_at=CHANGED_AT,
    )


def deliveries_for(platforms: list[Platform], changed: Platform) -> list[dict[str, object]]:
    made = client_info_deliveries(platforms, changed, hub_country_code="NL", hub_party_id="HUB", now=NOW)
    return [
        {
            "to": d.target_platform_id,
            "url": d.url,
            "party": json.loads(d.body or "null")["party_id"],
            "role": json.loads(d.body or "null")["role"],
        }
        for d in made
    ]


def test_every_role_of_the_changed_platform_goes_to_every_other_receiver() -> None:
    cpo = platform("cpo", ("CPO", "NL", "TNM"), ("EMSP", "NL", "TNX"), receiver_url="http://cpo/hci")
    msp = platform("msp", ("EMSP", "DE", "MSP"), receiver_url="http://msp/hci")
    nsp = platform("nsp", ("NSP", "BE", "NAV"), receiver_url="http://nsp/ocpi/hubclientinfo/")
    assert deliveries_for([cpo, msp, nsp], cpo) == [
        {"to": "p-msp", "url": "http://msp/hci/NL/TNM", "party": "TNM", "role": "CPO"},
        {"to": "p-msp", "url": "http://msp/hci/NL/TNX", "party": "TNX", "role": "EMSP"},
        {"to": "p-nsp", "url": "http://nsp/ocpi/hubclientinfo/NL/TNM", "party": "TNM", "role": "CPO"},
        {"to": "p-nsp", "url": "http://nsp/ocpi/hubclientinfo/NL/TNX", "party": "TNX", "role": "EMSP"},
    ]


def test_platforms_that_cannot_or_must_not_receive_are_left_out() -> None:
    changed = platform("cpo", ("CPO", "NL", "TNM"), receiver_url="http://cpo/hci")
    others = [
        platform("no-endpoint", ("EMSP", "DE", "AAA")),
        platform("invited", ("EMSP", "DE", "BBB"), receiver_url="http://b/hci", registered=False),
        platform(
            "suspended", ("EMSP", "DE", "CCC"), receiver_url="http://c/hci", status=ConnectionStatus.SUSPENDED
        ),
        platform(
            "offline", ("EMSP", "DE", "DDD"), receiver_url="http://d/hci", status=ConnectionStatus.OFFLINE
        ),
        platform("no-roles", receiver_url="http://e/hci"),
    ]
    assert [d["to"] for d in deliveries_for([changed, *others], changed)] == ["p-offline"]


def test_a_delivery_carries_the_client_info_as_the_hub_and_for_the_receivers_first_party() -> None:
    cpo = platform("cpo", ("CPO", "nl", "Tnm"))
    msp = platform("msp", ("EMSP", "DE", "MSP"), ("CPO", "DE", "CPX"), receiver_url="http://msp/hci/")
    [delivery] = client_info_deliveries([cpo, msp], cpo, hub_country_code="NL", hub_party_id="HUB", now=NOW)

    assert (delivery.method, delivery.url, delivery.module) == (
        "PUT",
        "http://msp/hci/nl/Tnm",
        "hubclientinfo",
    )
    info = ClientInfo.model_validate_json(delivery.body or "")
    assert (info.country_code, info.party_id, info.role, info.status) == ("nl", "Tnm", Role.CPO, "CONNECTED")
    assert info.last_updated == CHANGED_AT
    assert delivery.object_key == "hubclientinfo|NL|TNM|CPO"
    assert delivery.object_version == "2025-03-01T11:55:00Z"
    assert (delivery.from_country_code, delivery.from_party_id) == ("NL", "HUB")
    assert (delivery.to_country_code, delivery.to_party_id) == ("DE", "MSP")
    assert (delivery.created_at, delivery.next_attempt_at, delivery.state) == (NOW, NOW, "PENDING")


def test_each_delivery_is_a_conversation_of_its_own_without_routing_headers() -> None:
    cpo = platform("cpo", ("CPO", "NL", "TNM"), ("EMSP", "NL", "TNM"))
    msp = platform("msp", ("EMSP", "DE", "MSP"), receiver_url="http://msp/hci")
    made = client_info_deliveries([cpo, msp], cpo, hub_country_code="NL", hub_party_id="HUB", now=NOW)
    assert len({d.correlation_id for d in made}) == len(made) == 2
    assert len({d.id for d in made}) == 2
    headers = request_headers(made[0], authorization="Token x", request_id="r-1")
    assert not [name for name in headers if name.lower().startswith("ocpi-")]
    assert headers == {
        "Authorization": "Token x",
        "X-Request-ID": "r-1",
        "X-Correlation-ID": made[0].correlation_id,
        "Content-Type": "application/json",
    }


def test_an_unregistered_platform_is_pushed_as_suspended_unless_its_role_moved_on() -> None:
    gone = platform("gone", ("CPO", "NL", "OLD"), ("CPO", "NL", "TNM"), registered=False)
    taken_over = platform("new", ("CPO", "NL", "TNM"), receiver_url="http://new/hci")
    msp = platform("msp", ("EMSP", "DE", "MSP"), receiver_url="http://msp/hci")
    made = client_info_deliveries(
        [gone, taken_over, msp], gone, hub_country_code="NL", hub_party_id="HUB", now=NOW
    )
    assert [(d.target_platform_id, d.url) for d in made] == [
        ("p-new", "http://new/hci/NL/OLD"),
        ("p-msp", "http://msp/hci/NL/OLD"),
    ]
    assert {json.loads(d.body or "")["status"] for d in made} == {"SUSPENDED"}


def test_the_changed_platform_is_taken_as_given_not_as_listed() -> None:
    stored = platform("cpo", ("CPO", "NL", "TNM"))
    changed = stored.model_copy(deep=True)
    changed.set_status(ConnectionStatus.OFFLINE, now=NOW)
    msp = platform("msp", ("EMSP", "DE", "MSP"), receiver_url="http://msp/hci")
    for listed in ([stored, msp], [msp]):
        [delivery] = client_info_deliveries(
            listed, changed, hub_country_code="NL", hub_party_id="HUB", now=NOW
        )
        assert json.loads(delivery.body or "")["status"] == "OFFLINE"
        assert delivery.object_version == "2025-03-01T12:00:00Z"


def test_nobody_to_tell_means_no_deliveries() -> None:
    alone = platform("cpo", ("CPO", "NL", "TNM"), receiver_url="http://cpo/hci")
    assert client_info_deliveries([alone], alone, hub_country_code="NL", hub_party_id="HUB", now=NOW) == []


def test_the_url_tolerates_a_trailing_slash_and_escapes_the_segments() -> None:
    assert client_info_url("http://x/hci", "NL", "TNM") == "http://x/hci/NL/TNM"
    assert client_info_url("http://x/hci/", "NL", "TNM") == "http://x/hci/NL/TNM"
    assert client_info_url("http://x/hci//", "NL", "T/M") == "http://x/hci/NL/T%2FM"
