"""Platforms: the OCPI connections the hub holds, one per party software it talks to.

A platform serves one or more parties (``country_code``/``party_id``/role). It is created by an
operator invitation (token A), becomes registered through the credentials handshake, and may be
suspended or unregister. This module is pure: the store keeps these documents, the services change them.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from hub.ocpi.types import utc_now
from hub.ocpi.v2_2_1.common import Role
from hub.ocpi.v2_2_1.hubclientinfo import ConnectionStatus


class TokenKind(StrEnum):
    REGISTRATION = "A"  # handed out of band; only good for versions and credentials
    CREDENTIALS = "C"  # issued in the handshake; good everywhere


class IssuedToken(BaseModel):
    """A token the hub gave a platform to call it; only its digest is kept."""

    digest: str
    kind: TokenKind
    issued_at: datetime = Field(default_factory=utc_now)
    expires_at: datetime | None = None

    def valid_at(self, moment: datetime) -> bool:
        return self.expires_at is None or moment < self.expires_at


class PartyRole(BaseModel):
    """One entry of the platform's credentials roles, as the platform sent it."""

    role: Role
    country_code: str
    party_id: str
    business_details: dict[str, Any] = Field(default_factory=dict)

    @property
    def party_key(self) -> str:
        return party_key(self.country_code, self.party_id)

    @property
    def role_key(self) -> str:
        return f"{self.party_key}*{self.role.value}"


class PlatformEndpoint(BaseModel):
    identifier: str
    role: str
    url: str


def party_key(country_code: str, party_id: str) -> str:
    """The case-insensitive key of a party: ``NL*TNM``."""
    return f"{country_code.upper()}*{party_id.upper()}"


def new_platform_id() -> str:
    return "p-" + uuid.uuid4().hex[:12]


class Platform(BaseModel):
    id: str = Field(default_factory=new_platform_id)
    name: str
    status: ConnectionStatus = ConnectionStatus.PLANNED
    registered: bool = False
    roles: list[PartyRole] = Field(default_factory=list)
    version: str | None = None
    versions_url: str | None = None
    endpoints: list[PlatformEndpoint] = Field(default_factory=list)
    # The token the hub presents to this platform (token B), encrypted, and how to send it.
    outgoing_token: str | None = None
    token_encoding: Literal["base64", "raw"] = "base64"  # noqa: S105 - a form, not a secret
    tokens: list[IssuedToken] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utc_now)
    # When status or roles last changed: the ``last_updated`` of this platform's ClientInfo objects.
    status_changed_at: datetime = Field(default_factory=utc_now)
    # Liveness (``hub.liveness``): checks of the versions URL failed in a row, why the last one
    # failed, and when the platform last answered one. Kept here, not in a process, so whichever
    # hub process or worker runs the next check carries on counting.
    liveness_failures: int = 0
    liveness_error: str | None = None
    last_seen_at: datetime | None = None
    # A party the hub itself operates (stations attached over OCPP, see ``hub.ocpp``): registered and
    # CONNECTED, with no endpoints and no token, so nothing ever calls it; its objects are the hub's.
    hosted: bool = False
    revision: int = 0

    # --- what the store indexes -----------------------------------------------------------------

    def role_keys(self) -> list[str]:
        """``CC*PID*ROLE`` of every role this platform holds; a role is held by one platform only.

        A platform that unregistered keeps its roles for the record but no longer holds them.
        """
        return sorted({entry.role_key for entry in self.roles}) if self.registered else []

    def party_keys(self) -> list[str]:
        return sorted({entry.party_key for entry in self.roles})

    def token_digests(self) -> list[str]:
        return [token.digest for token in self.tokens]

    # --- questions and changes ------------------------------------------------------------------

    def token(self, digest: str) -> IssuedToken | None:
        return next((token for token in self.tokens if token.digest == digest), None)

    def endpoint(self, identifier: str, role: str) -> PlatformEndpoint | None:
        return next(
            (e for e in self.endpoints if e.identifier == identifier and e.role == role),
            None,
        )

    def invite(self, digest: str, *, ttl: timedelta, now: datetime) -> None:
        self.tokens.append(
            IssuedToken(digest=digest, kind=TokenKind.REGISTRATION, issued_at=now, expires_at=now + ttl)
        )

    def set_status(self, status: ConnectionStatus, *, now: datetime) -> None:
        if status != self.status:
            self.status = status
            self.status_changed_at = now
