"""The hub's signing keys: Ed25519, named by their RFC 7638 thumbprint, kept with the private half
sealed by the hub's secret key.

The ``kid`` is the JWK thumbprint of the public key (SHA-256, base64url): anyone holding the key
can recompute it, two keys never share one, and nothing else needs to be made up or stored to name
a key. The private key is only ever in memory inside ``unseal``'s result; at rest it is a Fernet
token (``TokenCipher``), so the store alone reveals nothing that can sign.

Keys are ordered by ``generation``, which the store gives: 1 for the first key, one more for each
key added after it. The current key is the one with the highest generation; every older key stays
published, so signatures made with it still verify.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc.jwk import OKPKey
from pydantic import BaseModel, ConfigDict, Field

from hub.secrets import TokenCipher

ALGORITHM = "EdDSA"
CURVE: Final[Literal["Ed25519"]] = "Ed25519"


class SigningKey(BaseModel):
    """One signing key as the store keeps it."""

    model_config = ConfigDict(frozen=True)

    kid: str
    created_at: datetime
    # The public half as a JWK: {"kty": "OKP", "crv": "Ed25519", "x": …}.
    public_jwk: dict[str, str]
    # The private half (the JWK's "d") as a Fernet token; kept out of reprs and logs.
    sealed_private: str = Field(repr=False)
    # Given by the store: 1 for the first key, then one more for each key after it (0: not stored yet).
    generation: int = 0

    def published(self) -> dict[str, str]:
        """The JWK a verifier needs: the public half, named and restricted to EdDSA signatures."""
        return {**self.public_jwk, "kid": self.kid, "use": "sig", "alg": ALGORITHM}


def generate(*, now: datetime, cipher: TokenCipher) -> SigningKey:
    """A fresh Ed25519 key, its private half sealed with ``cipher``."""
    key = OKPKey.generate_key(CURVE, private=True)
    private: dict[str, Any] = dict(key.as_dict(private=True))
    public = {"kty": "OKP", "crv": CURVE, "x": str(private["x"])}
    return SigningKey(
        kid=key.thumbprint(),
        created_at=now,
        public_jwk=public,
        sealed_private=cipher.encrypt(str(private["d"])),
    )


def unseal(key: SigningKey, cipher: TokenCipher) -> OKPKey:
    """The private key, named by its ``kid`` and ready to sign; ``ValueError`` if it does not match
    its public half.

    The check guards against a store whose rows were mixed up or whose secret key changed: a
    signature made with the wrong private key would carry a ``kid`` that fails every verifier.
    """
    seed = base64.urlsafe_b64decode(cipher.decrypt(key.sealed_private) + "==")
    # Built from the private bytes alone, so its public half (and thumbprint) is derived, not copied.
    private = OKPKey.import_key(Ed25519PrivateKey.from_private_bytes(seed), {"kid": key.kid})
    if private.thumbprint() != key.kid:
        raise ValueError(f"the private half of signing key {key.kid} does not match its public key")
    return private


def jwks(keys: Sequence[SigningKey]) -> dict[str, list[dict[str, str]]]:
    """The JWK Set to publish: every key, the current (newest) first."""
    newest_first = sorted(keys, key=lambda key: key.generation, reverse=True)
    return {"keys": [key.published() for key in newest_first]}
