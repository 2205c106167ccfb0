"""A minimal OCPI 2.2.1 party for benchmarks: versions, details and module endpoints that answer 1000.

    python bench/party_server.py PORT TOKEN_B

Also serves ``/direct/...`` without authentication checks beyond the token, so a benchmark can
measure the same request sent straight to the party.
"""

from __future__ import annotations

import base64
import json
import sys

from aiohttp import web

OK = json.dumps({"status_code": 1000, "timestamp": "2025-01-01T00:00:00Z"}).encode()


def make_app(port: int, token_b: str) -> web.Application:
    base = f"http://127.0.0.1:{port}"
    accepted = {"Token " + base64.b64encode(token_b.encode()).decode(), f"Token {token_b}"}

    def envelope(data: object) -> web.Response:
        return web.json_response({"data": data, "status_code": 1000, "timestamp": "2025-01-01T00:00:00Z"})

    async def versions(request: web.Request) -> web.Response:
        return envelope([{"version": "2.2.1", "url": f"{base}/ocpi/2.2.1"}])

    async def details(request: web.Request) -> web.Response:
        modules = [
            ("credentials", "SENDER"),
            ("locations", "RECEIVER"),
            ("tariffs", "RECEIVER"),
            ("sessions", "RECEIVER"),
            ("cdrs", "RECEIVER"),
            ("tokens", "SENDER"),
        ]
        return envelope(
            {
                "version": "2.2.1",
                "endpoints": [
                    {"identifier": m, "role": r, "url": f"{base}/ocpi/2.2.1/{r.lower()}/{m}"}
                    for m, r in modules
                ],
            }
        )

    async def module(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") not in accepted:
            return web.json_response({"status_code": 2000, "timestamp": "2025-01-01T00:00:00Z"}, status=401)
        await request.read()
        return web.Response(body=OK, content_type="application/json")

    app = web.Application()
    app.add_routes(
        [
            web.get("/ocpi/versions", versions),
            web.get("/ocpi/2.2.1", details),
            web.route("*", "/ocpi/2.2.1/{role}/{module}{tail:.*}", module),
        ]
    )
    return app


if __name__ == "__main__":
    port, token_b = int(sys.argv[1]), sys.argv[2]
    web.run_app(make_app(port, token_b), host="127.0.0.1", port=port, print=None, access_log=None)
