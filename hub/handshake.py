"""The pure half of the credentials handshake (digest §4): what the hub accepts from a party's
versions and version details, and the credentials the hub answers with."""

from __future__ import annotations

from typing import Any

from hub.errors import NoMatchingEndpoints, UnsupportedVersion
from hub.ocpi.v2_2_1.common import Role
from hub.ocpi.v2_2_1.versions import ModuleID, Version, VersionDetails

SUPPORTED_VERSIONS = ("2.2.1",)
# What a party must offer for the hub to keep the connection: credentials, so that updates (PUT)
# and unregistration (DELETE) can travel both ways. Functional modules are optional: a party
# without, say, a tokens endpoint simply receives no token pushes.
REQUIRED_MODULES = (ModuleID.CREDENTIALS,)


def choose_version(versions: list[Version]) -> Version:
    """The highest version both sides speak."""
    offered = {entry.version: entry for entry in versions}
    for candidate in SUPPORTED_VERSIONS:
        if candidate in offered:
            return offered[candidate]
    listed = ", ".join(sorted(offered)) or "none"
    raise UnsupportedVersion(
        f"no common OCPI version: the party offers {listed}; the hub speaks {', '.join(SUPPORTED_VERSIONS)}"
    )


def check_details(details: VersionDetails, version: str) -> None:
    if details.version != version:
        raise UnsupportedVersion(
            f"the version details say {details.version!r} where {version!r} was expected"
        )
    identifiers = {endpoint.identifier for endpoint in details.endpoints}
    missing = [module.value for module in REQUIRED_MODULES if module.value not in identifiers]
    if missing:
        raise NoMatchingEndpoints(f"the party's {version} endpoints lack: {', '.join(missing)}")


def hub_credentials(
    *, token: str, versions_url: str, country_code: str, party_id: str, business_details: dict[str, Any]
) -> dict[str, Any]:
    """The hub's credentials object: the hub reports only itself, with role HUB (digest §4.2)."""
    return {
        "token": token,
        "url": versions_url,
        "roles": [
            {
                "role": Role.HUB.value,
                "business_details": business_details,
                "party_id": party_id,
                "country_code": country_code,
            }
        ],
    }
