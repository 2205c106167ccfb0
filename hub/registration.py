"""The credentials handshake, hub side (digest §4.3): a party registers with the hub, updates its
registration, or unregisters.

When a party POSTs (or PUTs) its credentials, the hub calls the party's versions URL with the
party's token B before it answers, picks 2.2.1, reads the party's endpoints, issues token C and
answers with its own credentials. The party's token B is kept encrypted; token C only as a digest.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import structlog
from aiohttp import ClientError, ClientSession, ClientTimeout
from pydantic import TypeAdapter, ValidationError

from hub.errors import ClientApiUnusable, InvalidParameters, MethodNotAllowed
from hub.handshake import check_details, choose_version, hub_credentials
from hub.ocpi.base import describe, parse
from hub.ocpi.v2_2_1.credentials import Credentials
from hub.ocpi.v2_2_1.hubclientinfo import ConnectionStatus
from hub.ocpi.v2_2_1.versions import Version, VersionDetails
from hub.platforms import IssuedToken, PartyRole, Platform, PlatformEndpoint, TokenKind, party_key
from hub.secrets import authorization_header, new_token, token_digest
from hub.services import Services
from hub.store import Conflict, StaleWrite

log = structlog.get_logger(__name__)

Encoding = Literal["base64", "raw"]
_VERSION_LIST = TypeAdapter(list[Version])


@dataclass(frozen=True)
class PartyEndpoints:
    version: str
    details: VersionDetails
    encoding: Encoding


# A party's status message is quoted in the hub's errors, but only this much of it.
_QUOTED = 200


class PartyApi:
    """Reads a party's versions and version details with the token the party gave the hub."""

    def __init__(self, http: ClientSession, *, timeout: ClientTimeout) -> None:
        self._http = http
        self._timeout = timeout

    async def discover(
        self, versions_url: str, token: str, *, preferred: Encoding = "base64", correlation_id: str
    ) -> PartyEndpoints:
        """Pick the version and read its endpoints.

        A party that refuses the token (HTTP 401 or 403) in one form is asked again in the other:
        2.2.1 says Base64, but many platforms still expect the raw token.
        """
        encoding = preferred
        status, body = await self._get(versions_url, token, encoding, correlation_id)
        if status in (401, 403):
            encoding = "raw" if preferred == "base64" else "base64"
            status, body = await self._get(versions_url, token, encoding, correlation_id)
        versions = answer_data(versions_url, status, body)
        try:
            offered = _VERSION_LIST.validate_python(versions)
        except ValidationError as error:
            raise ClientApiUnusable(f"versions at {versions_url} are not OCPI: {describe(error)}") from None
        chosen = choose_version(offered)
        status, body = await self._get(chosen.url, token, encoding, correlation_id)
        details_data = answer_data(chosen.url, status, body)
        try:
            details = VersionDetails.model_validate(details_data)
        except ValidationError as error:
            raise ClientApiUnusable(
                f"version details at {chosen.url} are not OCPI: {describe(error)}"
            ) from None
        check_details(details, chosen.version)
        return PartyEndpoints(version=chosen.version, details=details, encoding=encoding)

    async def _get(self, url: str, token: str, encoding: Encoding, correlation_id: str) -> tuple[int, bytes]:
        return await call_party(
            self._http,
            "GET",
            url,
            token=token,
            encoding=encoding,
            correlation_id=correlation_id,
            timeout=self._timeout,
        )


async def call_party(
    http: ClientSession,
    method: str,
    url: str,
    *,
    token: str,
    encoding: Encoding,
    correlation_id: str,
    timeout: ClientTimeout,  # noqa: ASYNC109 - aiohttp's own per-request timeout
    body: dict[str, Any] | None = None,
) -> tuple[int, bytes]:
    """One call from the hub to a party's configuration module (versions, credentials): its HTTP
    status and body; ``ClientApiUnusable`` when the party cannot be reached."""
    headers = {
        "Authorization": authorization_header(token, encoding=encoding),
        # A new request id for every call the hub makes; the conversation's correlation id.
        "X-Request-ID": str(uuid.uuid4()),
        "X-Correlation-ID": correlation_id,
    }
    try:
        async with http.request(method, url, json=body, headers=headers, timeout=timeout) as response:
            return response.status, await response.read()
    except (ClientError, TimeoutError, ValueError) as error:
        reason = (
            type(error).__name__ if isinstance(error, TimeoutError) else str(error) or type(error).__name__
        )
        raise ClientApiUnusable(f"could not reach {url}: {reason}") from None


def answer_data(url: str, status: int, body: bytes) -> Any:
    """The ``data`` of a party's OCPI answer; ``ClientApiUnusable`` saying what is wrong with it,
    quoting the party's own status message when it sent one."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        document = None
    envelope: dict[str, Any] = document if isinstance(document, dict) else {}
    message = envelope.get("status_message")
    said = f" ({message[:_QUOTED]})" if isinstance(message, str) and message else ""
    if status != 200:
        raise ClientApiUnusable(f"{url} answered HTTP {status}{said}")
    if document is None:
        raise ClientApiUnusable(f"{url} did not answer JSON")
    code = envelope.get("status_code")
    if code != 1000:
        raise ClientApiUnusable(f"{url} answered OCPI status {code!r}, not 1000{said}")
    return envelope.get("data")


# Told about every platform whose registration changed (True: it has just registered), after the
# change is stored: the hub pushes Hub Client Info from there.
Announce = Callable[[Platform, bool], Awaitable[None]]


async def _silent(_: Platform, __: bool) -> None:
    return None


class Registration:
    """Changes a platform's registration; one method per credentials method."""

    def __init__(self, services: Services, party_api: PartyApi, announce: Announce = _silent) -> None:
        self._services = services
        self._party_api = party_api
        self._announce = announce

    def credentials_for(self, token: str) -> dict[str, Any]:
        settings = self._services.settings
        business: dict[str, Any] = {"name": settings.business_name}
        if settings.business_website:
            business["website"] = settings.business_website
        return hub_credentials(
            token=token,
            versions_url=settings.versions_url,
            country_code=settings.country_code,
            party_id=settings.party_id,
            business_details=business,
        )

    async def register(self, platform: Platform, body: Any, *, correlation_id: str) -> dict[str, Any]:
        """POST: first registration, with token A."""
        if platform.registered:
            raise MethodNotAllowed("this platform is already registered; use PUT to update its credentials")
        return await self._connect(platform, body, verb="registered", correlation_id=correlation_id)

    async def update(self, platform: Platform, body: Any, *, correlation_id: str) -> dict[str, Any]:
        """PUT: new token B and endpoints, and a new token C in return; the old token C stops working."""
        if not platform.registered:
            raise MethodNotAllowed("this platform is not registered; POST its credentials first")
        return await self._connect(platform, body, verb="updated", correlation_id=correlation_id)

    async def unregister(self, platform: Platform) -> None:
        """DELETE: the platform's tokens stop working, its parties are shown SUSPENDED."""
        if not platform.registered:
            raise MethodNotAllowed("this platform is not registered")
        now = self._services.clock()
        changed = platform.model_copy(deep=True)
        changed.registered = False
        changed.tokens = []
        changed.outgoing_token = None
        changed.set_status(ConnectionStatus.SUSPENDED, now=now)
        try:
            stored = await self._services.store.platforms.update(changed)
        except StaleWrite:
            raise MethodNotAllowed("this platform's registration changed meanwhile; try again") from None
        log.info("platform_unregistered", platform=platform.id)
        await self._announce(stored, False)

    async def _connect(
        self, platform: Platform, body: Any, *, verb: str, correlation_id: str
    ) -> dict[str, Any]:
        services = self._services
        credentials = parse(Credentials, body)
        await self.check_roles(platform, credentials)
        discovered = await self._party_api.discover(
            credentials.url,
            credentials.token,
            preferred=platform.token_encoding,
            correlation_id=correlation_id,
        )
        now = services.clock()
        token_c = new_token()
        changed = platform.model_copy(deep=True)
        changed.registered = True
        changed.roles = [
            PartyRole(
                role=entry.role,
                country_code=entry.country_code,
                party_id=entry.party_id,
                business_details=entry.business_details.to_json(),
            )
            for entry in credentials.roles
        ]
        changed.version = discovered.version
        changed.versions_url = credentials.url
        changed.endpoints = [
            PlatformEndpoint(identifier=e.identifier, role=e.role.value, url=e.url)
            for e in discovered.details.endpoints
        ]
        changed.outgoing_token = services.cipher.encrypt(credentials.token)
        changed.token_encoding = discovered.encoding
        changed.tokens = [
            IssuedToken(digest=token_digest(token_c), kind=TokenKind.CREDENTIALS, issued_at=now)
        ]
        if [r.role_key for r in changed.roles] != [r.role_key for r in platform.roles]:
            changed.status_changed_at = now
        changed.set_status(ConnectionStatus.CONNECTED, now=now)
        try:
            stored = await services.store.platforms.update(changed)
        except StaleWrite:
            # Another request with the same token won the race; this one's token is spent.
            raise MethodNotAllowed("this platform's registration changed meanwhile") from None
        except Conflict:
            raise InvalidParameters("roles: a role is already held by another platform") from None
        log.info(
            f"platform_{verb}",
            platform=platform.id,
            parties=[r.role_key for r in changed.roles],
            version=discovered.version,
            endpoints=len(changed.endpoints),
        )
        await self._announce(stored, not platform.registered)
        return self.credentials_for(token_c)

    async def check_roles(self, platform: Platform, credentials: Credentials) -> None:
        """Refuse the hub's own party, and any role another platform holds (2001)."""
        settings = self._services.settings
        own = party_key(settings.country_code, settings.party_id)
        for index, entry in enumerate(credentials.roles):
            key = party_key(entry.country_code, entry.party_id)
            if key == own:
                raise InvalidParameters(f"roles[{index}]: {key} is the hub's own party")
            for other in await self._services.store.platforms.by_party(entry.country_code, entry.party_id):
                if other.id != platform.id and f"{key}*{entry.role.value}" in other.role_keys():
                    raise InvalidParameters(
                        f"roles[{index}]: {entry.role.value} {key} is already registered by another platform"
                    )


def issue_invitation(name: str, *, services: Services, now: datetime) -> tuple[Platform, str]:
    """A new platform awaiting registration, and its token A (shown once, kept as a digest)."""
    token_a = new_token()
    platform = Platform(name=name, created_at=now, status_changed_at=now)
    platform.invite(token_digest(token_a), ttl=timedelta(days=services.settings.invite_ttl_days), now=now)
    return platform, token_a
