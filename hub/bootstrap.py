"""Build the services from settings: open the store, find the secret key."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import structlog

from hub.secrets import TokenCipher, generate_key
from hub.services import Services
from hub.store import open_store
from settings import Settings
from settings.model import check_fernet_key

log = structlog.get_logger(__name__)

SECRET_KEY_FILE = "secret.key"  # noqa: S105 - a file name


def _read_or_create_key(path: Path) -> tuple[str, bool]:
    """The key kept in the data directory, created once (by whichever process gets there first)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        text = path.read_text().strip()
        check_fernet_key(text)
        return text, False
    key = generate_key()
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key + "\n")
    return key, True


async def secret_key(settings: Settings) -> str:
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    path = settings.data_dir / SECRET_KEY_FILE
    try:
        key, created = await asyncio.to_thread(_read_or_create_key, path)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
    if created:
        log.warning(
            "secret_key_generated",
            path=str(path),
            advice="production should set HUB_SECRET_KEY to its own key, kept outside the data directory",
        )
    return key


async def build_services(settings: Settings) -> Services:
    cipher = TokenCipher(await secret_key(settings))
    store = await open_store(settings)
    return Services(settings=settings, store=store, cipher=cipher)
