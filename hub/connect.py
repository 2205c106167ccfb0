"""Hub-initiated registration (digest §4.3, the hub as credentials Sender): the hub connects to a party.

The party hands the hub operator its versions URL and a token A. The hub reads the party's versions and
2.2.1 endpoints with token A, issues a token for the party to call the hub, and POSTs its own
credentials to the party's ``credentials`` endpoint. Before it answers, the party reads the hub's
versions with that token, so the hub must accept it already: it is stored first, on a provisional
platform, as a registration token that is good only for versions and credentials, and only while the
hub waits for the answer. The answer carries the token the hub presents from then on (kept
encrypted), the party's roles and its versions URL, which the hub reads again with the new token for
the final endpoints. Only then is the platform registered, CONNECTED, with the issued token as its
credentials token (kept as a digest).

When a step fails, the provisional platform is removed: nothing is kept. A party that had already
answered is told with a DELETE that its credentials for the hub are void. Token A is only ever held
in memory; once the party has answered, the party no longer accepts it anyway.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import structlog
from aiohttp import ClientSession, ClientTimeout
from pydantic import ValidationError

from hub.errors import ClientApiUnusable, HubError, InvalidParameters, NoMatchingEndpoints, ServerError
from hub.ocpi.base import describe
from hub.ocpi.v2_2_1.credentials import Credentials
from hub.ocpi.v2_2_1.hubclientinfo import ConnectionStatus
from hub.ocpi.v2_2_1.versions import ModuleID, VersionDetails
from hub.outbox.clientinfo import push_client_info
from hub.platforms import IssuedToken, PartyRole, Platform, PlatformEndpoint, TokenKind
from hub.registration import Encoding, PartyApi, PartyEndpoints, Registration, answer_data, call_party
from hub.secrets import new_token, token_digest
from hub.services import Services
from hub.store import Conflict, StaleWrite
from settings import Settings

log = structlog.get_logger(__name__)

# Told the ids of the Hub Client Info deliveries recorded after a change: the job port's ``deliver``.
# Without it they stay PENDING in the outbox, and the hub's sweeper attempts them.
Deliver = Callable[[Sequence[str]], Awaitable[None]]

_SAVE_ATTEMPTS = 5


class CredentialsClient:
    """The hub's calls to a party's ``credentials`` endpoint (digest §4.1): POST, PUT and DELETE."""

    def __init__(self, http: ClientSession, *, timeout: ClientTimeout) -> None:
        self._http = http
        self._timeout = timeout

    async def exchange(
        self,
        method: str,
        url: str,
        token: str,
        *,
        encoding: Encoding,
        hub_credentials: dict[str, Any],
        correlation_id: str,
    ) -> Credentials:
        """Send the hub's credentials (POST to register, PUT to update); the party's in return."""
        status, body = await self._send(method, url, token, encoding, correlation_id, hub_credentials)
        data = answer_data(url, status, body)
        try:
            return Credentials.model_validate(data)
        except ValidationError as error:
            raise ClientApiUnusable(
                f"the credentials {url} answered are not OCPI: {describe(error)}"
            ) from None

    async def withdraw(self, url: str, token: str, *, encoding: Encoding, correlation_id: str) -> None:
        """DELETE: tell the party that its credentials for the hub are void.

        Best effort: the hub no longer accepts the party's token whatever the party answers.
        """
        try:
            status, _ = await self._send("DELETE", url, token, encoding, correlation_id, None)
        except ClientApiUnusable as error:
            log.warning("credentials_withdrawal_failed", url=url, reason=error.message)
        else:
            log.info("credentials_withdrawn", url=url, http_status=status)

    async def _send(
        self,
        method: str,
        url: str,
        token: str,
        encoding: Encoding,
        correlation_id: str,
        body: dict[str, Any] | None,
    ) -> tuple[int, bytes]:
        return await call_party(
            self._http,
            method,
            url,
            token=token,
            encoding=encoding,
            correlation_id=correlation_id,
            timeout=self._timeout,
            body=body,
        )


# --- pure parts ------------------------------------------------------------------------------------


def endpoints_of(details: VersionDetails) -> list[PlatformEndpoint]:
    return [
        PlatformEndpoint(identifier=e.identifier, role=e.role.value, url=e.url) for e in details.endpoints
    ]


def credentials_url(endpoints: Sequence[PlatformEndpoint]) -> str:
    """The party's credentials endpoint; its interface role means nothing (digest §3.2)."""
    for endpoint in endpoints:
        if endpoint.identifier == ModuleID.CREDENTIALS.value:
            return endpoint.url
    raise NoMatchingEndpoints("the party publishes no credentials endpoint")


def party_roles(credentials: Credentials) -> list[PartyRole]:
    return [
        PartyRole(
            role=entry.role,
            country_code=entry.country_code,
            party_id=entry.party_id,
            business_details=entry.business_details.to_json(),
        )
        for entry in credentials.roles
    ]


def take_credentials(
    platform: Platform, answer: Credentials, discovered: PartyEndpoints | None, *, sealed_token: str
) -> Platform:
    """``platform`` registered with the party's answer: the token the hub presents from now on
    (``sealed_token``, encrypted) and, when they could be read with it, the party's endpoints."""
    changed = platform.model_copy(deep=True)
    changed.registered = True
    changed.outgoing_token = sealed_token
    if discovered is not None:
        changed.version = discovered.version
        changed.versions_url = answer.url
        changed.endpoints = endpoints_of(discovered.details)
        changed.token_encoding = discovered.encoding
    return changed


def handshake_window(settings: Settings) -> timedelta:
    """How long a token issued for a handshake works before the handshake completes: as long as
    the hub waits for the party's answer, and a minute more for clocks that disagree between hosts."""
    return timedelta(seconds=settings.request_timeout + 60)


def client_timeout(settings: Settings) -> ClientTimeout:
    return ClientTimeout(total=settings.request_timeout, connect=settings.connect_timeout)


@contextmanager
def step(doing: str) -> Iterator[None]:
    """Say which step of a handshake failed: the party's side of the story alone rarely tells."""
    try:
        yield
    except HubError as error:
        raise type(error)(f"{doing}: {error.message}") from None


# --- the shell -------------------------------------------------------------------------------------


async def save_change(
    services: Services, platform_id: str, change: Callable[[Platform], Platform]
) -> Platform:
    """Apply ``change`` to the platform as stored now, and store the result.

    Another write may come between the read and the write (a party's request, an operator command):
    then the platform is read again and ``change`` applied afresh, so that write is kept, not undone.
    """
    platforms = services.store.platforms
    for _ in range(_SAVE_ATTEMPTS):
        current = await platforms.get(platform_id)
        if current is None:
            raise ServerError(f"platform {platform_id} was removed meanwhile")
        try:
            return await platforms.update(change(current))
        except StaleWrite:
            continue
        except Conflict:
            raise InvalidParameters("roles: a role is already held by another platform") from None
    raise ServerError(f"platform {platform_id} kept changing while the hub saved it; try again")


async def connect(
    services: Services,
    http: ClientSession,
    *,
    versions_url: str,
    token_a: str,
    name: str | None = None,
    deliver: Deliver | None = None,
) -> Platform:
    """Register the hub with a party that handed over its versions URL and token A; the new platform.

    Failures raise ``ClientApiUnusable`` (3001), ``UnsupportedVersion`` (3002),
    ``NoMatchingEndpoints`` (3003) or ``InvalidParameters`` (2001: the party's roles, or a party the
    hub is connected to already), the message naming the step that failed; then nothing is kept.
    Hub Client Info is recorded for every other party (and theirs for the newcomer), ``deliver`` is
    told the deliveries. The caller may start a full pull of the platform returned.
    """
    settings = services.settings
    for other in await services.store.platforms.all():
        if other.registered and other.versions_url == versions_url:
            raise InvalidParameters(
                f"platform {other.id} is connected to {versions_url} already; rotate its token instead"
            )
    correlation_id = str(uuid.uuid4())
    party_api = PartyApi(http, timeout=client_timeout(settings))
    client = CredentialsClient(http, timeout=client_timeout(settings))
    registration = Registration(services, party_api)

    with step("reading the party's versions with token A"):
        offered = await party_api.discover(versions_url, token_a, correlation_id=correlation_id)
    url = credentials_url(endpoints_of(offered.details))
    token = new_token()
    now = services.clock()
    provisional = Platform(name=name or urlsplit(versions_url).netloc, created_at=now, status_changed_at=now)
    provisional.invite(token_digest(token), ttl=handshake_window(settings), now=now)
    await services.store.platforms.add(provisional)
    try:
        with step("sending the hub's credentials to the party (POST)"):
            answer = await client.exchange(
                "POST",
                url,
                token_a,
                encoding=offered.encoding,
                hub_credentials=registration.credentials_for(token),
                correlation_id=correlation_id,
            )
        try:
            with step("the roles the party answered"):
                await registration.check_roles(provisional, answer)
            with step("reading the party's versions with the token it answered"):
                final = await party_api.discover(
                    answer.url, answer.token, preferred=offered.encoding, correlation_id=correlation_id
                )
            sealed = services.cipher.encrypt(answer.token)

            def register(current: Platform) -> Platform:
                moment = services.clock()
                changed = take_credentials(current, answer, final, sealed_token=sealed)
                changed.name = name or answer.roles[0].business_details.name
                changed.roles = party_roles(answer)
                changed.status_changed_at = moment
                changed.tokens = [
                    IssuedToken(digest=token_digest(token), kind=TokenKind.CREDENTIALS, issued_at=moment)
                ]
                changed.set_status(ConnectionStatus.CONNECTED, now=moment)
                return changed

            stored = await save_change(services, provisional.id, register)
        except HubError:
            await client.withdraw(url, answer.token, encoding=offered.encoding, correlation_id=correlation_id)
            raise
    except BaseException:
        await services.store.platforms.remove(provisional.id)
        raise
    log.info(
        "platform_connected",
        platform=stored.id,
        parties=[r.role_key for r in stored.roles],
        version=stored.version,
        endpoints=len(stored.endpoints),
    )
    delivery_ids = await push_client_info(services, stored, welcome=True)
    if deliver is not None:
        await deliver(delivery_ids)
    return stored
