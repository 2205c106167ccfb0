"""A bare aiohttp pass-through proxy, the yardstick for the hub's routing cost.

    python bench/bare_proxy.py PORT TARGET_BASE_URL

Forwards every request's method, path, query, body and headers to the target with one pooled
client session and returns the answer: what any proxy must do, without OCPI.
"""

from __future__ import annotations

import sys

from aiohttp import ClientSession, TCPConnector, web

HOP = {"host", "content-length", "transfer-encoding", "connection"}


def make_app(target: str) -> web.Application:
    app = web.Application()

    async def session(app: web.Application):  # type: ignore[no-untyped-def]
        async with ClientSession(connector=TCPConnector(limit=200)) as http:
            app["http"] = http
            yield

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP}
        async with request.app["http"].request(
            request.method, target + request.rel_url.raw_path_qs, data=body or None, headers=headers
        ) as answer:
            data = await answer.read()
            return web.Response(status=answer.status, body=data, content_type="application/json")

    app.cleanup_ctx.append(session)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


if __name__ == "__main__":
    import asyncio
    import os

    import uvloop

    port, target = int(sys.argv[1]), sys.argv[2].rstrip("/")
    # The same event loop as the hub under comparison (HUB_EVENT_LOOP, uvloop by default).
    loop = (
        asyncio.new_event_loop() if os.environ.get("HUB_EVENT_LOOP") == "asyncio" else uvloop.new_event_loop()
    )
    web.run_app(make_app(target), host="127.0.0.1", port=port, print=None, access_log=None, loop=loop)
