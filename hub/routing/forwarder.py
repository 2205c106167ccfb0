"""The one place the hub sends a party's request on to another party (the I/O half of routing).

Original body bytes go out unchanged (the hub validated a parsed copy); the target's answer comes
back with its HTTP status, body and OCPI headers. Trouble on the way is a hub error: 4002 when the
target does not answer in time, 4003 when it cannot be reached.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

import structlog
from aiohttp import ClientConnectionError, ClientError, ClientSession, ClientTimeout

from hub.errors import ForwardTimeout, ReceiverNotConnected, RoutingError
from hub.platforms import Platform
from hub.routing.table import FROM_COUNTRY, FROM_PARTY, TO_COUNTRY, TO_PARTY, PartyRef
from hub.secrets import TokenCipher, authorization_header

log = structlog.get_logger(__name__)

# Headers of the target's answer that travel back to the caller (Link and Location are rewritten).
RELAYED_HEADERS = (
    "Content-Type",
    TO_COUNTRY,
    TO_PARTY,
    FROM_COUNTRY,
    FROM_PARTY,
    "X-Total-Count",
    "X-Limit",
    "Link",
    "Location",
)


@dataclass
class Relayed:
    """A target's answer, ready to go back to the caller."""

    status: int
    body: bytes
    # Canonical names (as in RELAYED_HEADERS) to values.
    headers: dict[str, str] = field(default_factory=dict)
    # The OCPI status_code when the hub wrote the answer itself (metrics); None for a relayed one.
    ocpi_status: int | None = None


def join(base: str, tail: str) -> str:
    """An endpoint URL and a path after it, with exactly one slash between (digest §19 item 20)."""
    if not tail:
        return base
    return base.rstrip("/") + "/" + tail.lstrip("/")


class Forwarder:
    def __init__(self, http: ClientSession, cipher: TokenCipher) -> None:
        self._http = http
        self._cipher = cipher
        # Decrypting a token costs more than the rest of the header work: keep what was opened.
        self._opened: dict[str, str] = {}

    def _token(self, platform: Platform) -> str:
        sealed = platform.outgoing_token
        if sealed is None:
            raise ReceiverNotConnected(f"the hub holds no token for platform {platform.id}")
        token = self._opened.get(sealed)
        if token is None:
            token = self._cipher.decrypt(sealed)
            if len(self._opened) > 10_000:
                self._opened.clear()
            self._opened[sealed] = token
        return token

    async def send(
        self,
        platform: Platform,
        method: str,
        url: str,
        *,
        body: bytes | None,
        to: PartyRef | None,
        sender: PartyRef | None,
        correlation_id: str,
        within: float,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Relayed:
        """Send one request to ``platform`` and return its answer within ``within`` seconds;
        routing headers as given."""
        headers = {
            "Authorization": authorization_header(self._token(platform), encoding=platform.token_encoding),
            "X-Request-ID": str(uuid.uuid4()),  # new for every hop
            "X-Correlation-ID": correlation_id,  # kept end to end
        }
        if to is not None:
            headers[TO_COUNTRY] = to.country_code
            headers[TO_PARTY] = to.party_id
        if sender is not None:
            headers[FROM_COUNTRY] = sender.country_code
            headers[FROM_PARTY] = sender.party_id
        if body is not None:
            headers["Content-Type"] = "application/json"
        if extra_headers:
            headers.update(extra_headers)
        started = time.perf_counter()
        try:
            async with self._http.request(
                method, url, data=body, headers=headers, timeout=ClientTimeout(total=within)
            ) as response:
                answer = await response.read()
                relayed = Relayed(
                    status=response.status,
                    body=answer,
                    headers={
                        name: response.headers[name] for name in RELAYED_HEADERS if name in response.headers
                    },
                )
        except TimeoutError:
            raise ForwardTimeout(f"{to or platform.id} did not answer within {within:g} s") from None
        except ClientConnectionError as error:
            raise ReceiverNotConnected(f"{to or platform.id} cannot be reached: {error}") from None
        except (ClientError, ValueError) as error:
            raise RoutingError(f"forwarding to {to or platform.id} failed: {error}") from None
        log.debug(
            "request_forwarded",
            target=platform.id,
            method=method,
            status=relayed.status,
            elapsed_ms=round((time.perf_counter() - started) * 1000, 2),
        )
        return relayed
