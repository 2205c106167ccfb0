"""What the hub needs from storage, as ports; ``sqlite.py`` and ``mongo.py`` implement them.

All keys that OCPI declares CiString (country codes, party ids, object ids) are compared without
regard to case: adapters index the upper-cased key and keep the original spelling in the document.
"""

from __future__ import annotations

from typing import Protocol

from hub.platforms import Platform


class StoreError(Exception):
    """Base of the store's own errors."""


class Conflict(StoreError):
    """The write would give a role or a token to two platforms."""


class StaleWrite(StoreError):
    """The document changed (or vanished) since it was read; read it again and retry."""


class PlatformStore(Protocol):
    """Where the hub keeps the platforms it routes between."""

    async def add(self, platform: Platform) -> None:
        """Store a new platform; ``Conflict`` if one of its roles or tokens belongs to another."""

    async def get(self, platform_id: str) -> Platform | None: ...

    async def by_token(self, digest: str) -> Platform | None:
        """The platform that was issued the token with this digest."""

    async def by_party(self, country_code: str, party_id: str) -> list[Platform]:
        """Platforms that list this party among their roles (held or not), case-insensitively."""

    async def all(self) -> list[Platform]:
        """Every platform, oldest first."""

    async def update(self, platform: Platform) -> Platform:
        """Replace the stored platform if it still has ``platform.revision``.

        Returns the platform with its new revision; ``StaleWrite`` if someone else wrote first,
        ``Conflict`` as for ``add``.
        """

    async def remove(self, platform_id: str) -> bool: ...


class Store(Protocol):
    @property
    def platforms(self) -> PlatformStore: ...

    async def close(self) -> None: ...
