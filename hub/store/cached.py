"""A short-lived in-process cache in front of the platform store.

Every request looks its token up and most look a receiver up: two trips to the store that return
the same few documents again and again. Answers are kept for ``ttl`` seconds; writes made through
this process clear the cache at once, writes made by other processes (the CLI, other hub
processes) are seen within ``ttl``. ``ttl`` 0 turns the cache off.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from hub.platforms import Platform
from hub.store.port import PlatformStore, Store


class CachedPlatformStore:
    def __init__(
        self, inner: PlatformStore, *, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._inner = inner
        self._ttl = ttl
        self._clock = clock
        self._by_token: dict[str, tuple[float, Platform | None]] = {}
        self._by_party: dict[str, tuple[float, list[Platform]]] = {}

    def clear(self) -> None:
        self._by_token.clear()
        self._by_party.clear()

    async def by_token(self, digest: str) -> Platform | None:
        now = self._clock()
        hit = self._by_token.get(digest)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        found = await self._inner.by_token(digest)
        if self._ttl > 0:
            if len(self._by_token) > 10_000:
                self._by_token.clear()
            self._by_token[digest] = (now, found)
        return found

    async def by_party(self, country_code: str, party_id: str) -> list[Platform]:
        key = f"{country_code.upper()}*{party_id.upper()}"
        now = self._clock()
        hit = self._by_party.get(key)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        found = await self._inner.by_party(country_code, party_id)
        if self._ttl > 0:
            if len(self._by_party) > 10_000:
                self._by_party.clear()
            self._by_party[key] = (now, found)
        return found

    # --- reads that stay uncached, and writes that clear the cache --------------------------------

    async def get(self, platform_id: str) -> Platform | None:
        return await self._inner.get(platform_id)

    async def all(self) -> list[Platform]:
        return await self._inner.all()

    async def add(self, platform: Platform) -> None:
        self.clear()
        await self._inner.add(platform)

    async def update(self, platform: Platform) -> Platform:
        self.clear()
        try:
            return await self._inner.update(platform)
        finally:
            self.clear()

    async def remove(self, platform_id: str) -> bool:
        self.clear()
        return await self._inner.remove(platform_id)


class CachedStore:
    """A store whose platform look-ups go through ``CachedPlatformStore``; the rest passes through."""

    def __init__(self, inner: Store, *, ttl: float) -> None:
        self._inner = inner
        self.platforms = CachedPlatformStore(inner.platforms, ttl=ttl)
        self.mirror = inner.mirror
        self.outbox = inner.outbox
        self.links = inner.links
        self.pulls = inner.pulls
        self.keys = inner.keys
        self.ledger = inner.ledger
        self.clearing = inner.clearing
        self.stations = inner.stations
        self.transactions = inner.transactions

    async def close(self) -> None:
        await self._inner.close()
