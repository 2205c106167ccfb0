"""``GET /.well-known/jwks.json``: the public halves of the hub's signing keys (RFC 7517), so anyone
can check a ``Hub-Signature``. Public, like ``/healthz``: it sits outside ``/ocpi/``, where the
``authenticate`` middleware asks for no token.

Every key is listed, the current one first; keys are never withdrawn, so a signature made before a
rotation still finds its key. The answer may be cached briefly: a verifier that meets an unknown
``kid`` fetches the set again, and a rotated key reaches the signers only after ``KEY_REFRESH_SECONDS``.
"""

from __future__ import annotations

from aiohttp import web

from hub.keys import services_key
from hub.signing.keys import jwks

CACHE_CONTROL = "public, max-age=300"


async def key_set(request: web.Request) -> web.Response:
    services = request.app[services_key]
    await services.signer.current()  # the first key is made on first use, so the set is never empty
    body = jwks(await services.store.keys.all())
    return web.json_response(body, headers={"Cache-Control": CACHE_CONTROL})


def routes() -> list[web.RouteDef]:
    return [web.get("/.well-known/jwks.json", key_set, name="jwks", allow_head=False)]
