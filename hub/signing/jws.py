"""Detached JWS over canonical JSON: what the ``Hub-Signature`` header carries.

The value is a JWS in compact serialisation with its payload left out (RFC 7515, Appendix F):
``<protected>..<signature>``. The payload it covers is the RFC 8785 canonical JSON of the body,
base64url-encoded as in any JWS. A receiver therefore verifies with the body it received, however
that was spaced or its members ordered: parse it, canonicalise it, base64url-encode it, and check
the signature over ``<protected>.<payload>`` with the key the header's ``kid`` names in the hub's
JWK Set (``GET /.well-known/jwks.json``).

The protected header is ``{"alg": "EdDSA", "kid": …}``. RFC 9864 deprecates the name ``EdDSA``
because it leaves the curve open; the hub's keys are Ed25519 only, so the name is unambiguous here,
and every JOSE library knows it (architecture decision 9). joserfc warns about the name on every
use; ``_Registry`` accepts exactly that one algorithm, so the choice is made once, in this module.

Canonical JSON follows I-JSON: numbers are IEEE doubles (``1.10`` and ``1.1`` sign the same). A body
is read that way (``parse_body``: an integer literal beyond 2**53 is a double, as in any JavaScript
verifier); a Python value JSON cannot carry (NaN, an int beyond 2**53, a ``Decimal``) is a
``ValueError``, so callers pass what ``parse_body`` or ``model_dump(mode="json")`` gives.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Mapping
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jws
from joserfc.errors import JoseError, UnsupportedAlgorithmError
from joserfc.jwa import JWSAlgModel
from joserfc.jwk import OKPKey

from hub.signing.keys import ALGORITHM, CURVE

HUB_SIGNATURE = "Hub-Signature"
_SAFE_INTEGER = 2**53 - 1


class _Registry(jws.JWSRegistry):
    """EdDSA and nothing else, for payloads as large as a CDR gets."""

    # A CDR with many charging periods outgrows joserfc's default of 128 kB.
    max_payload_length = 16 * 1024 * 1024

    def get_alg(self, name: str) -> JWSAlgModel:
        if name != ALGORITHM:
            raise UnsupportedAlgorithmError(f"only {ALGORITHM} signatures are accepted, not {name!r}")
        return self.algorithms[name]


_REGISTRY = _Registry(algorithms=[ALGORITHM])


def canonical_json(document: Any) -> bytes:
    """The RFC 8785 canonical form of a JSON value; ``ValueError`` for what JSON cannot carry.

    For the documents the hub signs, the standard library's encoder with sorted keys writes exactly
    the canonical form, many times faster than ``rfc8785``: integral doubles become integers first,
    and anything it could write differently (a double beyond 2**53 or non-integral below 1e-4, where
    the forms differ; a key beyond the Basic Multilingual Plane, where UTF-16 order differs from code
    point order; a lone surrogate; a value JSON cannot carry) goes to ``rfc8785`` instead.
    """
    plain = _plain(document)
    if plain is not _UNSURE:
        try:
            return json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        except UnicodeEncodeError:
            pass  # a lone surrogate: rfc8785 says what to do with it
    return rfc8785.dumps(document)


_UNSURE = object()


def _plain(value: Any) -> Any:
    """``value`` with integral doubles as ints, or ``_UNSURE`` where the fast path could go wrong."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if -_SAFE_INTEGER <= value <= _SAFE_INTEGER else _UNSURE
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return _UNSURE
        if value.is_integer():
            # Exact up to 2**53; beyond, JavaScript writes the shortest digits padded with zeros.
            return int(value) if abs(value) <= 2**53 else _UNSURE
        return value if abs(value) >= 1e-4 else _UNSURE
    if isinstance(value, list):
        items = [item if item.__class__ is str else _plain(item) for item in value]
        return _UNSURE if any(item is _UNSURE for item in items) else items
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str) or (not key.isascii() and max(key) > "\uffff"):
                return _UNSURE
            if item.__class__ is str or item is None:  # most members: kept as they are, no call
                result[key] = item
                continue
            plain = _plain(item)
            if plain is _UNSURE:
                return _UNSURE
            result[key] = plain
        return result
    return _UNSURE


def parse_body(payload: bytes) -> Any:
    """A JSON body as RFC 8785 sees it: every number an IEEE double, integers within 2**53 kept
    as ints (their canonical form is the same); ``ValueError`` if it is not JSON."""
    return json.loads(payload, parse_int=_integer)


def _integer(text: str) -> int | float:
    value = int(text)
    return value if abs(value) <= _SAFE_INTEGER else float(value)


def sign_detached(document: Any, key: OKPKey) -> str:
    """``<protected>..<signature>`` over the canonical JSON of ``document``, named by ``key.kid``
    (``hub.signing.keys.unseal`` gives keys their kid)."""
    return sign_canonical(canonical_json(document), key)


def sign_canonical(canonical: bytes, key: OKPKey) -> str:
    """As ``sign_detached``, for a payload already in RFC 8785 form (``canonical_json``'s output):
    canonicalising a large document is the costly step, so a caller that has the form signs it as is.

    The signing input is made here and signed with the Ed25519 key directly: the same bytes, and
    the same compact value, as ``joserfc.jws.serialize_compact`` followed by ``detach_content``
    (Ed25519 signatures are deterministic), without building its header and registry objects for
    every signature.
    """
    if not key.kid:
        raise ValueError("a signing key needs a kid, so verifiers can find its public half")
    private = key.private_key
    if not isinstance(private, Ed25519PrivateKey):
        raise ValueError(f"only {CURVE} private keys sign {ALGORITHM} signatures")
    protected = _protected(key.kid)
    signature = private.sign(protected + b"." + _b64url(canonical))
    return f"{protected.decode('ascii')}..{_b64url(signature).decode('ascii')}"


@functools.lru_cache(maxsize=64)
def _protected(kid: str) -> bytes:
    """The protected header segment for ``kid``, written as joserfc writes it."""
    header = json.dumps({"alg": ALGORITHM, "kid": kid}, ensure_ascii=True, separators=(",", ":"))
    return _b64url(header.encode("ascii"))


def _b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def sign_detached_bytes(payload: bytes, key: OKPKey) -> str:
    """As ``sign_detached``, for a body as sent: the JSON text is parsed, then canonicalised."""
    return sign_detached(parse_body(payload), key)


def verify_detached(signature: str, payload: bytes, jwks: Mapping[str, Any]) -> bool:
    """Whether ``signature`` is a detached EdDSA JWS over the canonical form of the JSON body
    ``payload``, made with the key its ``kid`` names in the JWK Set ``jwks``.

    Anything else is False: a signature that carries its own payload (it would vouch for that
    payload, not for this body), an unknown ``kid``, a body that is not JSON.
    """
    parts = signature.split(".")
    if len(parts) != 3 or parts[1] != "" or not parts[0] or not parts[2]:
        return False
    try:
        header = json.loads(_b64url_decode(parts[0]))
        public = _public_key(jwks, header.get("kid"))
        if public is None:
            return False
        jws.deserialize_compact(
            signature, public, payload=canonical_json(parse_body(payload)), registry=_REGISTRY
        )
    except (JoseError, ValueError, AttributeError, TypeError):
        return False
    return True


def _public_key(jwks: Mapping[str, Any], kid: object) -> OKPKey | None:
    """The Ed25519 public key named ``kid`` in the set (its private half, if present, is ignored)."""
    for jwk in jwks.get("keys") or []:
        if isinstance(jwk, Mapping) and jwk.get("kid") == kid and kid is not None:
            if jwk.get("kty") != "OKP" or jwk.get("crv") != CURVE:
                return None
            return OKPKey.import_key({"kty": "OKP", "crv": CURVE, "x": str(jwk["x"])})
    return None


def _b64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as error:
        raise ValueError(str(error)) from None
