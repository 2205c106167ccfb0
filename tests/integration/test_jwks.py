"""The hub's public keys at ``/.well-known/jwks.json``, and signatures a receiver checks with them
and nothing else: the verifier below uses the raw Ed25519 primitive, not the hub's code."""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hub.signing.signer import KEY_REFRESH_SECONDS, Signer
from settings import Settings
from tests.conftest import Hub
from tests.support.processes import ROOT, hub_environment

CDR_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "ocpi" / "cdr.json"


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def independently_verified(signature: str, body: bytes, key_set: dict[str, Any]) -> str:
    """Check a Hub-Signature as a receiver would, from the spec alone; returns the kid it used."""
    protected, payload, signed = signature.split(".")
    assert payload == "", "the payload must be detached"
    header = json.loads(b64url_decode(protected))
    assert header["alg"] == "EdDSA"
    [jwk] = [k for k in key_set["keys"] if k["kid"] == header["kid"]]
    assert (jwk["kty"], jwk["crv"]) == ("OKP", "Ed25519")
    canonical = rfc8785.dumps(json.loads(body))
    signing_input = protected + "." + base64.urlsafe_b64encode(canonical).rstrip(b"=").decode()
    public = Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
    public.verify(b64url_decode(signed), signing_input.encode("ascii"))  # raises InvalidSignature
    return str(header["kid"])


async def key_set(hub: Hub) -> dict[str, Any]:
    response = await hub.call("GET", "/.well-known/jwks.json")
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


async def rotate(settings: Settings) -> dict[str, Any]:
    """``python -m hub keys rotate --json`` in its own process, on the hub's store."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub", "keys", "rotate", "--json",
        env=hub_environment(settings),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, stderr.decode()
    added: dict[str, Any] = json.loads(stdout)
    return added


async def test_the_key_set_is_public_and_publishes_the_current_key(hub: Hub) -> None:
    assert await hub.services.store.keys.current() is None
    response = await hub.call("GET", "/.well-known/jwks.json")  # no Authorization header
    assert response.status == 200
    assert response.content_type == "application/json"
    assert "max-age=" in response.headers["Cache-Control"]
    body = await response.json()
    current = await hub.services.signer.current()
    assert body == {
        "keys": [
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": current.public_jwk["x"],
                "kid": current.kid,
                "use": "sig",
                "alg": "EdDSA",
            }
        ]
    }
    # Asked again, the same key: the first key is made once.
    assert await key_set(hub) == body


async def test_a_signed_cdr_verifies_with_the_published_keys_before_and_after_rotation(
    hub: Hub, settings: Settings
) -> None:
    body = await asyncio.to_thread(CDR_FILE.read_bytes)
    cdr = json.loads(body)
    before = await hub.services.signer.sign(cdr)
    first_set = await key_set(hub)
    old_kid = independently_verified(before, body, first_set)
    assert old_kid == first_set["keys"][0]["kid"]
    pretty = json.dumps(cdr, indent=3, ensure_ascii=False).encode()
    assert independently_verified(before, pretty, first_set) == old_kid  # however it is spaced

    tampered = json.dumps(cdr | {"total_energy": 1000}).encode()
    with pytest.raises(InvalidSignature):
        independently_verified(before, tampered, first_set)

    # A signer of another process, whose clock the test moves on.
    moments = [0.0]
    signer = Signer(hub.services.store.keys, hub.services.cipher, monotonic=lambda: moments[0])
    assert (await signer.current()).kid == old_kid

    added = await rotate(settings)
    assert added["current"] is True and added["kid"] != old_kid
    second_set = await key_set(hub)
    assert [k["kid"] for k in second_set["keys"]] == [added["kid"], old_kid]

    # Until the refresh time has passed, the running signer keeps the key it holds (still valid) …
    assert independently_verified(await signer.sign(cdr), body, second_set) == old_kid
    # … then it signs with the new key.
    moments[0] += KEY_REFRESH_SECONDS
    after = await signer.sign(cdr)
    assert independently_verified(after, body, second_set) == added["kid"]
    # The old signature still verifies against the key set published after the rotation.
    assert independently_verified(before, body, second_set) == old_kid
    assert after != before
