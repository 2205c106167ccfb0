"""Signing keys: named by their thumbprint, sealed at rest, published without their private half."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest

from hub.secrets import TokenCipher, generate_key
from hub.signing.keys import generate, jwks, unseal

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CIPHER = TokenCipher(generate_key())


def test_the_kid_is_the_rfc_7638_thumbprint_of_the_public_key() -> None:
    key = generate(now=T0, cipher=CIPHER)
    members = json.dumps(
        {"crv": "Ed25519", "kty": "OKP", "x": key.public_jwk["x"]}, separators=(",", ":"), sort_keys=True
    )
    digest = hashlib.sha256(members.encode()).digest()
    assert key.kid == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert key.created_at == T0


def test_the_private_half_is_sealed_and_kept_out_of_reprs() -> None:
    key = generate(now=T0, cipher=CIPHER)
    private_d = unseal(key, CIPHER).as_dict(private=True)["d"]
    assert private_d not in key.model_dump_json()
    assert CIPHER.decrypt(key.sealed_private) == private_d
    assert key.sealed_private not in repr(key)


def test_a_key_does_not_unseal_with_another_secret_key() -> None:
    key = generate(now=T0, cipher=CIPHER)
    with pytest.raises(ValueError, match="cannot be decrypted"):
        unseal(key, TokenCipher(generate_key()))


def test_a_private_half_that_does_not_match_the_public_half_is_refused() -> None:
    one, other = generate(now=T0, cipher=CIPHER), generate(now=T0, cipher=CIPHER)
    mixed = one.model_copy(update={"sealed_private": other.sealed_private})
    with pytest.raises(ValueError, match="does not match"):
        unseal(mixed, CIPHER)


def test_the_key_set_lists_every_key_newest_first_without_private_parts() -> None:
    older = generate(now=T0, cipher=CIPHER).model_copy(update={"generation": 1})
    newer = generate(now=T0 + timedelta(days=90), cipher=CIPHER).model_copy(update={"generation": 2})
    published = jwks([older, newer])
    assert [jwk["kid"] for jwk in published["keys"]] == [newer.kid, older.kid]
    for jwk, key in zip(published["keys"], [newer, older], strict=True):
        assert jwk == {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": key.public_jwk["x"],
            "kid": key.kid,
            "use": "sig",
            "alg": "EdDSA",
        }
