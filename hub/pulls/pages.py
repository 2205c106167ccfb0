"""A party's paginated list as the hub reads it (digest §1.7, client side), as pure functions: the
first page's URL, each answer's envelope, its ``Link rel="next"``, ``X-Total-Count`` and ``X-Limit``.

The party decides the pages: the hub asks for a ``limit`` once, on the first page, and from then on
follows the party's ``Link`` as given, which repeats the filters with the party's own (possibly
smaller) limit. Nothing assumes a page holds as many objects as were asked for, or that a total is
sent at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from hub.ocpi.status import OcpiStatus
from hub.ocpi.types import format_datetime

# The Sessions Sender GET requires date_from (digest §9.2): a full pull asks from the epoch.
REQUIRES_DATE_FROM = frozenset({"sessions"})
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PAGING_PARAMETERS = frozenset({"offset", "limit", "date_from", "date_to"})
_MESSAGE_MAX = 200

_LINK = re.compile(r"<(?P<url>[^>]*)>(?P<parameters>[^<]*)")
_REL = re.compile(r';\s*rel\s*=\s*(?:"(?P<quoted>[^"]*)"|(?P<bare>[^\s;,]+))', re.IGNORECASE)


class PageError(Exception):
    """The party's answer to a page cannot be used; the pull stops there (and is retried later)."""


@dataclass(frozen=True)
class Page:
    """One page of a party's list: its objects, unread, and what its headers say."""

    items: list[Any]
    next_url: str | None
    total: int | None  # X-Total-Count, when sent and a number
    limit: int | None  # X-Limit, the party's largest page


def first_url(endpoint_url: str, *, module: str, limit: int, date_from: datetime | None) -> str:
    """The first page of a pull: the Sender endpoint with ``limit`` and, for an incremental pull,
    ``date_from``. A query the endpoint URL carries itself is kept, but for the paging parameters."""
    parts = urlsplit(endpoint_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in _PAGING_PARAMETERS]
    if date_from is None and module in REQUIRES_DATE_FROM:
        date_from = EPOCH
    if date_from is not None:
        query.append(("date_from", format_datetime(date_from)))
    query.append(("limit", str(limit)))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def next_link(link: str | None, *, base: str) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header (several links may be listed, comma-separated);
    a relative one is resolved against ``base``, the page it came with."""
    if not link:
        return None
    for match in _LINK.finditer(link):
        rel = _REL.search(match["parameters"])
        if rel is None:
            continue
        if "next" in (rel["quoted"] if rel["quoted"] is not None else rel["bare"]).lower().split():
            return urljoin(base, str(match["url"]).strip())
    return None


def header_count(value: str | None) -> int | None:
    """A count header (``X-Total-Count``, ``X-Limit``); None when absent or not a whole number."""
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())


def same_origin(url: str, other: str) -> bool:
    """Same scheme, host and port: where the hub may send the token it holds for the party."""

    def origin(text: str) -> tuple[str, str, int | None]:
        parts = urlsplit(text)
        scheme = parts.scheme.lower()
        try:
            port = parts.port or {"http": 80, "https": 443}.get(scheme)
        except ValueError:
            port = -1
        return scheme, (parts.hostname or "").lower(), port

    return origin(url) == origin(other)


def read_page(status: int, headers: Mapping[str, str], body: bytes, *, url: str) -> Page:
    """The page in one answer of the party, or ``PageError`` saying why it cannot be used.

    ``headers`` needs ``Link`` (all of them, comma-joined), ``X-Total-Count`` and ``X-Limit``.
    An answer other than HTTP 200 with OCPI status 1000 is an error; so is a next page on another
    host than this one (the hub would send the party's token there) or the same page again.
    """
    envelope = _envelope(body)
    ocpi_status = envelope.get("status_code") if envelope is not None else None
    message = str(envelope.get("status_message") or "") if envelope is not None else ""
    if status != 200:
        detail = f", OCPI status {ocpi_status}" if ocpi_status is not None else ""
        raise PageError(_trimmed(f"HTTP {status}{detail}" + (f": {message}" if message else "")))
    if envelope is None:
        raise PageError("the answer is not an OCPI envelope (JSON object with status_code)")
    if ocpi_status != OcpiStatus.SUCCESS:
        raise PageError(_trimmed(f"OCPI status {ocpi_status}" + (f": {message}" if message else "")))
    data = envelope.get("data")
    if data is None:
        data = []
    if not isinstance(data, list):
        raise PageError("data: must be a list of objects")
    following = next_link(headers.get("Link"), base=url)
    if following is not None:
        if not same_origin(following, url):
            raise PageError(_trimmed(f'Link rel="next" leads to another host: {following}'))
        if following == url:
            raise PageError('Link rel="next" names the page it came with')
    return Page(
        items=data,
        next_url=following,
        total=header_count(headers.get("X-Total-Count")),
        limit=header_count(headers.get("X-Limit")),
    )


def _envelope(body: bytes) -> dict[str, Any] | None:
    try:
        parsed: Any = json.loads(body)
    except ValueError:  # not JSON, or not UTF-8
        return None
    return parsed if isinstance(parsed, dict) and "status_code" in parsed else None


def _trimmed(text: str) -> str:
    return text if len(text) <= _MESSAGE_MAX else text[: _MESSAGE_MAX - 1] + "…"
