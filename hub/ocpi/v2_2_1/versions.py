"""OCPI 2.2.1 versions module (digest §3)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from hub.ocpi.base import OcpiModel
from hub.ocpi.types import Url


class InterfaceRole(StrEnum):
    SENDER = "SENDER"
    RECEIVER = "RECEIVER"


class ModuleID(StrEnum):
    CDRS = "cdrs"
    CHARGING_PROFILES = "chargingprofiles"
    COMMANDS = "commands"
    CREDENTIALS = "credentials"
    HUB_CLIENT_INFO = "hubclientinfo"
    LOCATIONS = "locations"
    SESSIONS = "sessions"
    TARIFFS = "tariffs"
    TOKENS = "tokens"


FUNCTIONAL_MODULES = (
    ModuleID.CDRS,
    ModuleID.CHARGING_PROFILES,
    ModuleID.COMMANDS,
    ModuleID.LOCATIONS,
    ModuleID.SESSIONS,
    ModuleID.TARIFFS,
    ModuleID.TOKENS,
)


class Version(OcpiModel):
    """OCPI 2.2.1, version_information_endpoint, 'Version class'.

    ``version`` is kept as text: a party may list versions this hub has never heard of.
    """

    version: Annotated[str, Field(min_length=1, max_length=10)]
    url: Url


class Endpoint(OcpiModel):
    """OCPI 2.2.1, version_information_endpoint, 'Endpoint class'.

    ``identifier`` is text as well: custom modules (``nltnm-tokens``) are allowed between parties.
    """

    identifier: Annotated[str, Field(min_length=1, max_length=255)]
    role: InterfaceRole
    url: Url


class VersionDetails(OcpiModel):
    version: Annotated[str, Field(min_length=1, max_length=10)]
    endpoints: Annotated[list[Endpoint], Field(min_length=1)]
