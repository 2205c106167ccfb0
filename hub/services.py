"""The long-lived objects the hub's handlers and commands share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from hub.ocpi.types import utc_now
from hub.secrets import TokenCipher
from hub.signing.signer import Signer
from hub.store import Store
from settings import Settings


@dataclass
class Services:
    settings: Settings
    store: Store
    cipher: TokenCipher
    clock: Callable[[], datetime] = field(default=utc_now)

    @cached_property
    def signer(self) -> Signer:
        """Signs with the hub's current key (made on first use); one per process, built when needed."""
        return Signer(self.store.keys, self.cipher, clock=self.clock)

    async def close(self) -> None:
        await self.store.close()
