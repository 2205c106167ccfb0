"""What the hub may pull from a platform, and how it addresses the pull."""

from __future__ import annotations

import pytest

from hub.ocpi.v2_2_1.common import Role
from hub.ocpi.v2_2_1.hubclientinfo import ConnectionStatus
from hub.platforms import PartyRole, Platform, PlatformEndpoint
from hub.pulls.plan import not_pullable, owner_keys, pull_headers, sender_modules, sender_party
from hub.routing.table import PartyRef


def platform(
    *roles: tuple[str, str, str],
    sends: tuple[str, ...] = ("locations", "tariffs", "sessions", "cdrs", "tokens"),
    status: ConnectionStatus = ConnectionStatus.CONNECTED,
    registered: bool = True,
    token: str | None = "sealed",
) -> Platform:
    return Platform(
        id="p-1",
        name="one",
        registered=registered,
        status=status,
        outgoing_token=token,
        roles=[PartyRole(role=Role(r), country_code=cc, party_id=pid) for r, cc, pid in roles],
        endpoints=[PlatformEndpoint(identifier=m, role="SENDER", url=f"https://one/{m}") for m in sends]
        + [PlatformEndpoint(identifier="commands", role="RECEIVER", url="https://one/commands")],
    )


def test_a_cpo_offers_its_data_and_an_emsp_its_tokens() -> None:
    assert sender_modules(platform(("CPO", "NL", "CPO"))) == ["tariffs", "locations", "sessions", "cdrs"]
    assert sender_modules(platform(("EMSP", "DE", "MSP"))) == ["tokens"]
    both = platform(("CPO", "NL", "CPO"), ("EMSP", "NL", "MSP"))
    assert sender_modules(both) == ["tokens", "tariffs", "locations", "sessions", "cdrs"]


def test_only_published_sender_endpoints_count() -> None:
    assert sender_modules(platform(("CPO", "NL", "CPO"), sends=("locations",))) == ["locations"]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"registered": False}, "not registered"),
        ({"status": ConnectionStatus.SUSPENDED}, "is suspended"),
        ({"status": ConnectionStatus.OFFLINE}, "is offline"),
        ({"token": None}, "no token"),
    ],
)
def test_a_platform_the_hub_cannot_call_offers_nothing(changes: dict[str, object], reason: str) -> None:
    unusable = platform(("CPO", "NL", "CPO"), **changes)  # type: ignore[arg-type]
    assert sender_modules(unusable) == []
    assert reason in (not_pullable(unusable, "locations") or "")


def test_the_reason_names_what_is_missing() -> None:
    cpo = platform(("CPO", "NL", "CPO"), sends=("locations",))
    assert "no tariffs SENDER endpoint" in (not_pullable(cpo, "tariffs") or "")
    assert "no role that sends tokens" in (not_pullable(platform(("CPO", "NL", "CPO")), "tokens") or "")
    assert "not a module the hub pulls" in (not_pullable(cpo, "commands") or "")


def test_the_pull_is_addressed_to_the_first_party_that_sends_the_module() -> None:
    both = platform(("EMSP", "NL", "MSP"), ("CPO", "NL", "CPO"), ("CPO", "BE", "CPX"))
    assert sender_party(both, "locations") == PartyRef("NL", "CPO")
    assert sender_party(both, "tokens") == PartyRef("NL", "MSP")
    assert owner_keys(both, "locations") == {"NL*CPO", "BE*CPX"}
    assert owner_keys(both, "tokens") == {"NL*MSP"}


def test_pull_requests_are_from_the_hub_to_the_party() -> None:
    headers = pull_headers(
        authorization="Token abc",
        hub=PartyRef("NL", "HUB"),
        to=PartyRef("DE", "CPO"),
        request_id="r",
        correlation_id="c",
    )
    assert headers == {
        "Authorization": "Token abc",
        "X-Request-ID": "r",
        "X-Correlation-ID": "c",
        "OCPI-from-country-code": "NL",
        "OCPI-from-party-id": "HUB",
        "OCPI-to-country-code": "DE",
        "OCPI-to-party-id": "CPO",
    }
