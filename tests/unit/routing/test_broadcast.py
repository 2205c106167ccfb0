"""Who receives a Broadcast Push (digest §5.3)."""

from __future__ import annotations

from hub.ocpi.v2_2_1.common import Role
from hub.ocpi.v2_2_1.hubclientinfo import ConnectionStatus
from hub.ocpi.v2_2_1.versions import ModuleID
from hub.platforms import PartyRole, Platform, PlatformEndpoint
from hub.routing.broadcast import recipients


def platform(
    name: str,
    *roles: tuple[str, str, str],
    receives: tuple[str, ...] = ("locations", "tariffs", "tokens"),
    status: ConnectionStatus = ConnectionStatus.CONNECTED,
    registered: bool = True,
) -> Platform:
    return Platform(
        id=name,
        name=name,
        registered=registered,
        status=status,
        roles=[PartyRole(role=Role(r), country_code=cc, party_id=pid) for r, cc, pid in roles],
        endpoints=[
            PlatformEndpoint(identifier=m, role="RECEIVER", url=f"https://{name}/{m}") for m in receives
        ],
    )


PLATFORMS = [
    platform("cpo", ("CPO", "NL", "CPO")),
    platform("emsp", ("EMSP", "DE", "MSP")),
    platform("nsp", ("NSP", "FR", "NAV")),
    platform("scsp", ("SCSP", "BE", "SMT")),
    platform("other-cpo", ("CPO", "NL", "CP2")),
    platform("no-endpoint", ("EMSP", "DE", "NOE"), receives=()),
    platform("offline", ("EMSP", "DE", "OFF"), status=ConnectionStatus.OFFLINE),
    platform("suspended", ("EMSP", "DE", "SUS"), status=ConnectionStatus.SUSPENDED),
    platform("gone", ("EMSP", "DE", "GON"), registered=False),
    platform("dual", ("CPO", "IT", "DUA"), ("EMSP", "IT", "DUA")),
]


def names(pairs: object) -> list[str]:
    return [p.id for p, _ in pairs]  # type: ignore[attr-defined]


def test_a_cpos_locations_reach_every_emsp_like_platform_with_the_receiver_offline_or_not() -> None:
    # An OFFLINE receiver's deliveries wait in the outbox until it answers again.
    got = list(recipients(PLATFORMS, ModuleID.LOCATIONS, sender_platform_id="cpo", audience=None))
    assert names(got) == ["emsp", "nsp", "offline", "dual"]
    assert [party.key for _, party in got] == ["DE*MSP", "FR*NAV", "DE*OFF", "IT*DUA"]


def test_an_emsps_tokens_reach_the_cpos() -> None:
    got = recipients(PLATFORMS, ModuleID.TOKENS, sender_platform_id="emsp", audience=None)
    assert names(got) == ["cpo", "other-cpo", "dual"]


def test_the_sender_never_receives_its_own_broadcast() -> None:
    got = recipients(PLATFORMS, ModuleID.TOKENS, sender_platform_id="dual", audience=None)
    assert "dual" not in names(got)


def test_an_audience_limits_the_receivers() -> None:
    got = recipients(PLATFORMS, ModuleID.LOCATIONS, sender_platform_id="cpo", audience=["NL*CPO", "FR*NAV"])
    assert names(got) == ["nsp"]
