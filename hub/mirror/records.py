"""What the mirror stores: one record per OCPI object, keyed the OCPI way (digest §16.1).

Keys are CiStrings, compared without regard to case: ``storage_key`` is upper-cased, while
``country_code``, ``party_id``, ``object_id`` and the document keep the spelling that was pushed.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class MirroredModule(StrEnum):
    LOCATIONS = "locations"
    TARIFFS = "tariffs"
    TOKENS = "tokens"
    SESSIONS = "sessions"
    CDRS = "cdrs"


DEFAULT_TOKEN_TYPE = "RFID"  # noqa: S105 - a token type, not a secret


def storage_key(
    module: str, country_code: str, party_id: str, object_id: str, token_type: str | None = None
) -> str:
    """``locations|NL|TNM|LOC1``; tokens add their type (``tokens|NL|MSP|0102|RFID``)."""
    parts = [module, country_code.upper(), party_id.upper(), object_id.upper()]
    if module == MirroredModule.TOKENS:
        parts.append((token_type or DEFAULT_TOKEN_TYPE).upper())
    return "|".join(parts)


class MirrorRecord(BaseModel):
    module: MirroredModule
    # The owner's pair and the object's id, as pushed.
    country_code: str
    party_id: str
    object_id: str
    # Tokens only: the token type, part of the key (RFID when a push names none).
    token_type: str | None = None
    # The object as pushed and merged: unknown fields included, exactly as the parties wrote them.
    document: dict[str, Any]
    # The document's own last_updated (for Locations and EVSEs: bumped when a child changed).
    last_updated: datetime
    # Party keys (``CC*PID``) that may see the object; None: every connected party may.
    audience: list[str] | None = None
    # Given by the store at first insert and never changed: the creation order pages follow.
    seq: int = 0
    # Bumped by the store at every write; a save with a stale version is refused (StaleWrite).
    version: int = 0
    stored_at: datetime | None = Field(default=None)

    @property
    def key(self) -> str:
        return storage_key(self.module, self.country_code, self.party_id, self.object_id, self.token_type)

    @property
    def owner_key(self) -> str:
        return f"{self.country_code.upper()}*{self.party_id.upper()}"
