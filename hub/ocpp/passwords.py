"""Station passwords (OCPP security profiles 1 and 2: HTTP Basic), kept as salted scrypt hashes.

Unlike the hub's credentials tokens (``hub.secrets``: 256-bit random values, so a plain digest is
enough), a station password is chosen by an operator or written into a station's configuration by
hand, and may be guessable: a slow, salted hash keeps a leaked store from giving them away.
Hashing costs tens of milliseconds of CPU; callers in the event loop run it in a thread.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# scrypt's cost: 2**14 * 8 * 128 bytes = 16 MiB and roughly 50 ms per check; stations check once a
# connection, so this is paid rarely.
_N, _R, _P, _LENGTH = 2**14, 8, 1, 32
MAX_LENGTH = 40  # OCPP 1.6 security whitepaper and 2.0.1: at most 40 characters


def new_password() -> str:
    """A station password when the operator gives none: 24 url-safe characters (OCPP 2.0.1 asks
    for 16 to 40)."""
    return secrets.token_urlsafe(18)


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$hash`` with a fresh random salt, both Base64."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=_LENGTH)
    return "$".join(
        [
            "scrypt",
            str(_N),
            str(_R),
            str(_P),
            base64.b64encode(salt).decode(),
            base64.b64encode(digest).decode(),
        ]
    )


def check_password(password: str, stored: str) -> bool:
    """Whether ``password`` is the one ``stored`` was made from; False for anything malformed."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        found = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except ValueError:
        return False
    return hmac.compare_digest(found, expected)


class VerifiedPasswords:
    """Passwords this process has already checked, so a station that reconnects (after a network
    blip, or all of them after a hub restart behind a load balancer) costs a keyed digest instead of
    another scrypt run. Kept per stored hash: a new password (a new hash) is checked in full again.
    Only a keyed digest of the password is held, under a key that lives and dies with the process;
    a wrong password is never remembered, so guessing still pays scrypt every time."""

    def __init__(self, *, size: int = 100_000) -> None:
        self._key = secrets.token_bytes(32)
        self._size = size
        self._known: dict[str, bytes] = {}

    def _digest(self, password: str) -> bytes:
        return hmac.digest(self._key, password.encode("utf-8"), "sha256")

    def known(self, password: str, stored: str) -> bool:
        """Whether ``password`` was checked against ``stored`` before, with success."""
        remembered = self._known.get(stored)
        return remembered is not None and hmac.compare_digest(remembered, self._digest(password))

    def remember(self, password: str, stored: str) -> None:
        if len(self._known) >= self._size:
            self._known.pop(next(iter(self._known)))  # the oldest entry
        self._known[stored] = self._digest(password)
