"""Pagination of OCPI lists (digest §1.7), as pure functions.

The server side: read ``offset``/``limit``/``date_from``/``date_to`` from a query, cap the limit,
and build the ``Link``, ``X-Total-Count`` and ``X-Limit`` headers of one page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from hub.errors import InvalidParameters
from hub.ocpi.types import format_datetime, parse_datetime


@dataclass(frozen=True)
class PageRequest:
    offset: int
    limit: int
    date_from: datetime | None
    date_to: datetime | None

    def admits(self, last_updated: datetime) -> bool:
        """``date_from`` is inclusive, ``date_to`` exclusive."""
        if self.date_from is not None and last_updated < self.date_from:
            return False
        return self.date_to is None or last_updated < self.date_to


def _integer(query: Mapping[str, str], name: str, default: int) -> int:
    text = query.get(name)
    if text is None or text == "":
        return default
    if not text.isdigit():
        raise InvalidParameters(f"{name}: must be a non-negative integer (got {text!r})")
    return int(text)


def _moment(query: Mapping[str, str], name: str) -> datetime | None:
    text = query.get(name)
    if not text:
        return None
    try:
        return parse_datetime(text)
    except ValueError as error:
        raise InvalidParameters(f"{name}: {error} (got {text!r})") from None


def read_page_request(query: Mapping[str, str], *, max_limit: int) -> PageRequest:
    """The page a client asks for; a ``limit`` above ours is quietly capped, as OCPI allows."""
    limit = _integer(query, "limit", max_limit)
    return PageRequest(
        offset=_integer(query, "offset", 0),
        limit=min(limit, max_limit) if limit > 0 else max_limit,
        date_from=_moment(query, "date_from"),
        date_to=_moment(query, "date_to"),
    )


def page_headers(url: str, page: PageRequest, *, total: int, max_limit: int) -> dict[str, str]:
    """``X-Total-Count``, ``X-Limit`` and, unless this is the last page, ``Link rel="next"``.

    The next link repeats every filter of the request, with the capped limit.
    """
    headers = {"X-Total-Count": str(total), "X-Limit": str(max_limit)}
    next_offset = page.offset + page.limit
    if next_offset < total:
        query: dict[str, str] = {"offset": str(next_offset), "limit": str(page.limit)}
        if page.date_from is not None:
            query["date_from"] = format_datetime(page.date_from)
        if page.date_to is not None:
            query["date_to"] = format_datetime(page.date_to)
        headers["Link"] = f'<{url}?{urlencode(query)}>; rel="next"'
    return headers
