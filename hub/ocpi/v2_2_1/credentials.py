"""OCPI 2.2.1 credentials module (digest §4.2)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from hub.ocpi.base import OcpiModel
from hub.ocpi.types import CiString2, CiString3, CredentialsToken, Url
from hub.ocpi.v2_2_1.common import BusinessDetails, Role


class CredentialsRole(OcpiModel):
    """OCPI 2.2.1, credentials, 'CredentialsRole class'."""

    role: Role
    business_details: BusinessDetails
    party_id: Annotated[CiString3, Field(min_length=3)]
    country_code: Annotated[CiString2, Field(min_length=2)]


class Credentials(OcpiModel):
    """OCPI 2.2.1, credentials, 'Credentials object'."""

    token: CredentialsToken
    url: Url
    roles: Annotated[list[CredentialsRole], Field(min_length=1)]

    @model_validator(mode="after")
    def _roles_are_unique(self) -> Credentials:
        seen: set[tuple[str, str, str]] = set()
        for index, entry in enumerate(self.roles):
            key = (entry.role.value, entry.country_code.upper(), entry.party_id.upper())
            if key in seen:
                raise ValueError(f"roles[{index}]: {entry.role.value} {key[1]}*{key[2]} is listed twice")
            seen.add(key)
        return self
