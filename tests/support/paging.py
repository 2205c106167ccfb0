"""A party's paginated Sender interface, for ``Party.handler``: serves a list of OCPI objects the way
OCPI asks (digest §1.7), and can be told to misbehave the ways parties do.

Objects are served in list order (their creation order), filtered by ``date_from`` (inclusive) and
``date_to`` (exclusive) on ``last_updated``, cut by ``offset``/``limit`` with the limit capped at
``max_limit``; each page carries ``X-Limit``, ``X-Total-Count`` (unless told not to) and, unless it is
the last, a ``Link rel="next"`` that repeats the filters with the capped limit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from hub.ocpi.envelope import envelope
from hub.ocpi.types import parse_datetime
from tests.support.party import Received


@dataclass(frozen=True)
class Served:
    """One page request the party answered (or refused)."""

    offset: int
    limit: int
    date_from: str | None
    date_to: str | None
    query_string: str
    headers: dict[str, str]


class Paging:
    def __init__(
        self,
        objects: list[dict[str, Any]],
        *,
        max_limit: int = 100,
        total_count: bool = True,
        before_page: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self.objects = objects
        self.max_limit = max_limit
        self.total_count = total_count
        # Awaited with the number of the page about to be served (1, 2, …): slow a party down,
        # or act in the middle of a walk.
        self.before_page = before_page
        # offset -> the answer to give instead of the page: "http" (HTTP 503) or "ocpi" (OCPI 3001).
        self.failures: dict[int, str] = {}
        self.served: list[Served] = []

    async def __call__(self, request: web.Request, received: Received) -> web.StreamResponse:
        if request.method != "GET" or received.role != "SENDER" or received.path.strip("/"):
            return web.json_response(envelope())
        query = request.query
        offset = int(query.get("offset", "0"))
        limit = min(int(query.get("limit", str(self.max_limit))) or self.max_limit, self.max_limit)
        served = Served(
            offset=offset,
            limit=limit,
            date_from=query.get("date_from"),
            date_to=query.get("date_to"),
            query_string=request.query_string,
            headers=dict(request.headers),
        )
        self.served.append(served)
        if self.before_page is not None:
            await self.before_page(len(self.served))
        failure = self.failures.get(offset)
        if failure == "http":
            return web.Response(status=503, text="maintenance")
        if failure == "ocpi":
            return web.json_response(
                envelope(status_code=3001, status_message="unable to use the client's API")
            )

        filtered = served.date_from is not None or served.date_to is not None
        matching = [o for o in self.objects if self._admits(o, served)] if filtered else self.objects
        page = matching[offset : offset + limit]
        headers = {"X-Limit": str(self.max_limit)}
        if self.total_count:
            headers["X-Total-Count"] = str(len(matching))
        if offset + limit < len(matching):
            following = request.url.update_query({"offset": str(offset + limit), "limit": str(limit)})
            headers["Link"] = f'<{following}>; rel="next"'
        return web.json_response(envelope(page), headers=headers)

    @staticmethod
    def _admits(document: dict[str, Any], served: Served) -> bool:
        try:
            updated = parse_datetime(str(document.get("last_updated")))
        except ValueError:
            return True  # a broken object is served anyway: the client must cope
        if served.date_from is not None and updated < parse_datetime(served.date_from):
            return False
        return served.date_to is None or updated < parse_datetime(served.date_to)
