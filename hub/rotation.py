"""Token rotation (digest §4.4): the hub gives a party a new token and gets a new one in return.

The hub issues a new token and PUTs its credentials with it to the party's ``credentials`` endpoint,
calling with the token it presents now. The party reads the hub's versions with the new token before
it answers (so the hub accepts that token from the start, for as long as it waits for the answer),
and answers with a new token for the hub, which the hub reads the party's endpoints with again.

The token the party used so far keeps working for ``rotation_overlap`` seconds: requests the party
has under way, and its processes that have not picked up the new token yet, are not refused
mid-flight. After that only the new token works. Rotation changes tokens and endpoints only: the
parties a platform serves change when the party sends its own credentials PUT.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

import structlog
from aiohttp import ClientSession

from hub.connect import (
    CredentialsClient,
    Deliver,
    client_timeout,
    credentials_url,
    handshake_window,
    party_roles,
    save_change,
    step,
    take_credentials,
)
from hub.errors import HubError, MethodNotAllowed, ServerError
from hub.ocpi.types import format_datetime
from hub.ocpi.v2_2_1.hubclientinfo import ConnectionStatus
from hub.outbox.clientinfo import push_client_info
from hub.platforms import IssuedToken, Platform, TokenKind
from hub.registration import PartyApi, PartyEndpoints, Registration
from hub.secrets import new_token, token_digest
from hub.services import Services

log = structlog.get_logger(__name__)


# --- pure parts ------------------------------------------------------------------------------------


def rotated_tokens(
    tokens: Sequence[IssuedToken], new_digest: str, *, now: datetime, overlap: timedelta
) -> list[IssuedToken]:
    """A platform's tokens once ``new_digest`` replaces them.

    The previous credentials tokens keep working until ``now + overlap``, or until their own earlier
    expiry (a second rotation does not lengthen the first one's overlap); what has expired by ``now``
    is dropped, and so is any registration token, which a registered platform has no use for.
    """
    deadline = now + overlap
    kept: list[IssuedToken] = []
    for token in tokens:
        if token.kind is not TokenKind.CREDENTIALS or token.digest == new_digest:
            continue
        expires_at = deadline if token.expires_at is None else min(token.expires_at, deadline)
        if now < expires_at:
            kept.append(token.model_copy(update={"expires_at": expires_at}))
    return [*kept, IssuedToken(digest=new_digest, kind=TokenKind.CREDENTIALS, issued_at=now)]


def previous_tokens_valid_until(platform: Platform) -> datetime | None:
    """When the last of the platform's superseded tokens stops working; None when none works now."""
    return max(
        (t.expires_at for t in platform.tokens if t.kind is TokenKind.CREDENTIALS and t.expires_at),
        default=None,
    )


def refusal(platform: Platform) -> str | None:
    """Why the platform's token cannot be rotated, or None."""
    if not platform.registered:
        return f"platform {platform.id} is not registered; connect to it (or invite it) first"
    if platform.status is ConnectionStatus.SUSPENDED:
        return f"platform {platform.id} is suspended; resume it before rotating its token"
    if platform.outgoing_token is None:
        return f"the hub holds no token to call platform {platform.id}"
    return None


def _checked(platform: Platform) -> Platform:
    reason = refusal(platform)
    if reason is not None:
        raise MethodNotAllowed(reason)
    return platform


# --- the shell -------------------------------------------------------------------------------------


async def rotate(
    services: Services, http: ClientSession, platform: Platform, *, deliver: Deliver | None = None
) -> Platform:
    """Give the party a new token to call the hub, and take the new one it answers with.

    Refused (``MethodNotAllowed``) for a platform that is not registered or is suspended. When the
    PUT fails, nothing changes. Once the party has answered, both sides have switched: the new tokens
    are stored even if the party's endpoints cannot be read again, and then the error says so.
    ``deliver`` is told the Hub Client Info deliveries, recorded if the platform was OFFLINE and is
    CONNECTED again.
    """
    settings = services.settings
    _checked(platform)
    correlation_id = str(uuid.uuid4())
    party_api = PartyApi(http, timeout=client_timeout(settings))
    client = CredentialsClient(http, timeout=client_timeout(settings))
    token = new_token()
    digest = token_digest(token)

    def accept_new_token(current: Platform) -> Platform:
        changed = _checked(current).model_copy(deep=True)
        now = services.clock()
        changed.tokens.append(
            IssuedToken(
                digest=digest,
                kind=TokenKind.CREDENTIALS,
                issued_at=now,
                expires_at=now + handshake_window(settings),
            )
        )
        return changed

    def forget_new_token(current: Platform) -> Platform:
        changed = current.model_copy(deep=True)
        changed.tokens = [t for t in changed.tokens if t.digest != digest]
        return changed

    before = await save_change(services, platform.id, accept_new_token)
    assert before.outgoing_token is not None  # _checked
    try:
        url = credentials_url(before.endpoints)
        try:
            current_token = services.cipher.decrypt(before.outgoing_token)
        except ValueError as error:
            raise ServerError(str(error)) from None
        with step("sending the hub's new credentials to the party (PUT)"):
            answer = await client.exchange(
                "PUT",
                url,
                current_token,
                encoding=before.token_encoding,
                hub_credentials=Registration(services, party_api).credentials_for(token),
                correlation_id=correlation_id,
            )
    except BaseException:
        # A platform removed meanwhile has no token left to forget.
        with contextlib.suppress(HubError):
            await save_change(services, platform.id, forget_new_token)
        raise

    discovered: PartyEndpoints | None = None
    problem: HubError | None = None
    try:
        with step("reading the party's versions with the token it answered"):
            discovered = await party_api.discover(
                answer.url, answer.token, preferred=before.token_encoding, correlation_id=correlation_id
            )
    except HubError as error:
        problem = error
    sealed = services.cipher.encrypt(answer.token)
    overlap = timedelta(seconds=settings.rotation_overlap)

    def switch(current: Platform) -> Platform:
        if not current.registered:
            raise MethodNotAllowed(f"platform {current.id} unregistered while its token was rotated")
        now = services.clock()
        changed = take_credentials(current, answer, discovered, sealed_token=sealed)
        changed.tokens = rotated_tokens(current.tokens, digest, now=now, overlap=overlap)
        if changed.status is not ConnectionStatus.SUSPENDED:
            changed.set_status(ConnectionStatus.CONNECTED, now=now)
        return changed

    stored = await save_change(services, platform.id, switch)
    until = previous_tokens_valid_until(stored)
    log.info(
        "platform_token_rotated",
        platform=stored.id,
        previous_valid_until=format_datetime(until) if until is not None else None,
        endpoints_read=discovered is not None,
    )
    if {r.role_key for r in party_roles(answer)} != set(stored.role_keys()):
        log.warning("rotation_roles_differ", platform=stored.id)
    if stored.status_changed_at != before.status_changed_at:
        delivery_ids = await push_client_info(services, stored)
        if deliver is not None:
            await deliver(delivery_ids)
    if problem is not None:
        raise type(problem)(
            f"the tokens were rotated, but the party's endpoints were kept as they were: {problem.message}"
        )
    return stored
