"""The signer: the hub's current signing key, kept in memory, and the signatures made with it.

A hub process reads the current key once and then again at most every ``refresh`` seconds, so a
key added by ``python -m hub keys rotate`` in another process is used by every running hub and
worker within that time; until then they sign with the previous key, which stays published and
valid. The store gives the first key exactly once (``KeyStore.add_first``), however many
processes start on an empty store together. Two rotations at once both add a key; the newer
generation is current, and the other simply stays published like any older key.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from joserfc.jwk import OKPKey

from hub.ocpi.types import utc_now
from hub.secrets import TokenCipher
from hub.signing.jws import sign_canonical, sign_detached, sign_detached_bytes
from hub.signing.keys import SigningKey, generate, unseal
from hub.store.port import KeyStore

# Seconds a process signs with the key it read before it looks for a newer one.
KEY_REFRESH_SECONDS = 30.0


class Signer:
    """Signs documents with the current key; makes the first key if there is none yet."""

    def __init__(
        self,
        keys: KeyStore,
        cipher: TokenCipher,
        *,
        clock: Callable[[], datetime] = utc_now,
        refresh: float = KEY_REFRESH_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._keys = keys
        self._cipher = cipher
        self._clock = clock
        self._refresh = refresh
        self._monotonic = monotonic
        self._held: tuple[SigningKey, OKPKey] | None = None
        self._read_at = 0.0
        self._lock = asyncio.Lock()

    async def sign(self, document: Any) -> str:
        """The ``Hub-Signature`` value for a JSON document (as ``parse_body`` or
        ``model_dump(mode="json")`` gives it)."""
        _, private = await self._current()
        return sign_detached(document, private)

    async def sign_bytes(self, payload: bytes) -> str:
        """As ``sign``, for a body as sent (JSON text)."""
        _, private = await self._current()
        return sign_detached_bytes(payload, private)

    async def sign_canonical(self, canonical: bytes) -> tuple[str, str]:
        """The signature over a payload already in canonical form, and the kid that made it."""
        key, private = await self._current()
        return sign_canonical(canonical, private), key.kid

    async def current(self) -> SigningKey:
        """The key new signatures are made with (its public half and kid)."""
        key, _ = await self._current()
        return key

    async def rotate(self) -> SigningKey:
        """Add a new key; it is current from now on, here and (within ``refresh``) everywhere."""
        added = await self._keys.add(generate(now=self._clock(), cipher=self._cipher))
        async with self._lock:
            self._held = (added, unseal(added, self._cipher))
            self._read_at = self._monotonic()
        return added

    async def _current(self) -> tuple[SigningKey, OKPKey]:
        held = self._held
        if held is not None and self._monotonic() - self._read_at < self._refresh:
            return held
        async with self._lock:
            if self._held is not None and self._monotonic() - self._read_at < self._refresh:
                return self._held
            key = await self._keys.current()
            if key is None:
                key = await self._keys.add_first(generate(now=self._clock(), cipher=self._cipher))
            if self._held is None or self._held[0].kid != key.kid:
                self._held = (key, unseal(key, self._cipher))
            self._read_at = self._monotonic()
            return self._held
