"""Credentials tokens: making them, recognising them in a header, keeping them at rest.

Tokens that parties use to call the hub are kept only as a SHA-256 digest: they are 256-bit random
values the hub generated, so a plain digest cannot be reversed and needs no salt. Tokens the hub uses
to call parties must be sent again, so they are kept encrypted with the settings key (Fernet).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets

from cryptography.fernet import Fernet, InvalidToken


def new_token() -> str:
    """A fresh credentials token: 43 url-safe characters, well inside OCPI's string(64)."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def header_candidates(authorization: str | None) -> list[str]:
    """The tokens an ``Authorization: Token …`` header may carry, most likely first.

    OCPI 2.2.1 sends the token Base64-encoded; 2.1.1 and many 2.2 platforms send it raw. The
    Base64 decoding is tried first, as 2.2.1 asks; the raw value second. The tokens this hub issues
    are not valid standard Base64, so a raw one costs a single look-up too.
    """
    if not authorization:
        return []
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "token" or not value:
        return []
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return [value]
    if decoded and decoded != value and decoded.isprintable():
        return [decoded, value]
    return [value]


def authorization_header(token: str, *, encoding: str = "base64") -> str:
    """The ``Authorization`` value for calling a party, in the form that party understands."""
    if encoding == "raw":
        return f"Token {token}"
    return "Token " + base64.b64encode(token.encode("utf-8")).decode("ascii")


class TokenCipher:
    """Encrypts the tokens the hub must present to parties."""

    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode("ascii"))

    def encrypt(self, token: str) -> str:
        return self._fernet.encrypt(token.encode("utf-8")).decode("ascii")

    def decrypt(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise ValueError("a stored token cannot be decrypted with the configured secret key") from None


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")
