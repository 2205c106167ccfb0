from __future__ import annotations

import pytest

from hub.errors import NoMatchingEndpoints, UnsupportedVersion
from hub.handshake import check_details, choose_version, hub_credentials
from hub.ocpi.v2_2_1.credentials import Credentials
from hub.ocpi.v2_2_1.versions import Endpoint, InterfaceRole, Version, VersionDetails


def versions(*numbers: str) -> list[Version]:
    return [Version(version=n, url=f"https://party/{n}") for n in numbers]


def test_2_2_1_is_chosen_among_the_offered_versions() -> None:
    assert choose_version(versions("2.1.1", "2.2.1", "2.3.0")).url == "https://party/2.2.1"


@pytest.mark.parametrize("offered", [(), ("2.1.1",), ("2.2", "2.3.0")])
def test_no_common_version_is_3002_listing_what_was_offered(offered: tuple[str, ...]) -> None:
    with pytest.raises(UnsupportedVersion) as raised:
        choose_version(versions(*offered))
    assert raised.value.ocpi_status == 3002
    assert (", ".join(sorted(offered)) or "none") in raised.value.message


def details(version: str, *modules: str) -> VersionDetails:
    return VersionDetails(
        version=version,
        endpoints=[
            Endpoint(identifier=m, role=InterfaceRole.SENDER, url=f"https://party/{m}") for m in modules
        ],
    )


def test_details_with_credentials_are_accepted() -> None:
    check_details(details("2.2.1", "credentials", "locations"), "2.2.1")


def test_details_without_credentials_are_3003() -> None:
    with pytest.raises(NoMatchingEndpoints, match="credentials"):
        check_details(details("2.2.1", "locations"), "2.2.1")


def test_details_of_another_version_are_3002() -> None:
    with pytest.raises(UnsupportedVersion):
        check_details(details("2.1.1", "credentials"), "2.2.1")


def test_the_hub_credentials_are_a_valid_credentials_object_with_one_hub_role() -> None:
    body = hub_credentials(
        token="tok",
        versions_url="https://hub/ocpi/versions",
        country_code="NL",
        party_id="HUB",
        business_details={"name": "Hub"},
    )
    parsed = Credentials.model_validate(body)
    assert [(r.role.value, r.country_code, r.party_id) for r in parsed.roles] == [("HUB", "NL", "HUB")]
