"""The long-lived objects the hub's handlers and commands share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from hub.ocpi.types import utc_now
from hub.secrets import TokenCipher
from hub.store import Store
from settings import Settings


@dataclass
class Services:
    settings: Settings
    store: Store
    cipher: TokenCipher
    clock: Callable[[], datetime] = field(default=utc_now)

    async def close(self) -> None:
        await self.store.close()
