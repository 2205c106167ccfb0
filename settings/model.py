"""One Settings class, built from the environment at start.

Every variable is ``HUB_`` + the field name in upper case. A bad value stops the hub at start with
a message naming the variable, never later in the middle of a request.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "HUB_"


class SettingsError(Exception):
    """A setting is missing or wrong; the message names the environment variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    # Where parties reach this hub; every URL the hub hands out starts with it.
    public_url: str = "http://127.0.0.1:8080"
    # The hub's own identity in OCPI (credentials role HUB, Hub Client Info, routing headers).
    country_code: str = "NL"
    party_id: str = "HUB"
    business_name: str = "ocpi-hub"
    business_website: str | None = None

    data_dir: Path = Path("var")
    # Empty: an SQLite file in the data directory. ``sqlite:///path`` or ``mongodb://…`` otherwise.
    store_url: str | None = None
    # Empty: background jobs run inside the hub process. ``redis://…`` sends them to Celery workers.
    broker_url: str | None = None
    # Redis through which several hub processes reach each other's OCPP stations and share which
    # process holds which station. Empty: the broker URL; neither: stations are this process's only.
    relay_url: str | None = None
    # Fernet key (32 url-safe base64 bytes) that encrypts the tokens the hub uses to call parties.
    # Empty: one is generated once and kept in the data directory.
    secret_key: SecretStr | None = None

    # Seconds the hub waits for a party when it calls it (handshakes, forwarded requests).
    connect_timeout: Annotated[float, Field(gt=0)] = 5.0
    request_timeout: Annotated[float, Field(gt=0)] = 30.0
    # Days an unused registration token (token A) stays valid.
    invite_ttl_days: Annotated[int, Field(gt=0)] = 14
    # Largest page the hub serves on its own paginated lists (X-Limit), and the default page;
    # per module overrides as JSON, e.g. HUB_PAGE_LIMITS='{"locations": 50, "cdrs": 200}'.
    page_limit_max: Annotated[int, Field(gt=0, le=10_000)] = 100
    page_limits: dict[str, Annotated[int, Field(gt=0, le=10_000)]] = Field(default_factory=dict)
    # Seconds the hub waits for the receiver of a forwarded request before answering 4002.
    forward_timeout: Annotated[float, Field(gt=0)] = 30.0
    # Real-time authorization waits less: a driver stands at the charger.
    authorize_timeout: Annotated[float, Field(gt=0)] = 5.0
    # When the eMSP does not answer an authorization in time: "mirror" answers from the token the
    # hub holds (if any), "none" answers the hub error.
    authorize_fallback: Literal["mirror", "none"] = "mirror"
    # Seconds the hub waits for a hosted station to answer a command or charging profile call before
    # it reports TIMEOUT (commands) or REJECTED (profiles) to the eMSP.
    station_command_timeout: Annotated[float, Field(gt=0)] = 25.0
    # Seconds a hub URL that stands in for a party's URL (response_url, Location, Link) stays usable.
    link_ttl: Annotated[int, Field(gt=0)] = 86_400
    # Seconds a hub process reuses a token or receiver look-up. Changes made by another process
    # (an operator command, another hub process) take effect within this time; 0: never reuse.
    platform_cache_seconds: Annotated[float, Field(ge=0)] = 1.0
    # Seconds between two looks for deliveries that are due again (a retry, or a task that was lost).
    sweep_interval: Annotated[float, Field(gt=0)] = 5.0

    # Outbox retries (seconds): the first retry after about ``retry_first_delay``, the interval
    # doubling with jitter up to ``retry_max_interval``; after ``retry_horizon`` a dead letter.
    retry_first_delay: Annotated[float, Field(gt=0)] = 2.0
    retry_max_interval: Annotated[float, Field(gt=0)] = 60.0
    retry_horizon: Annotated[float, Field(gt=0)] = 7 * 86_400.0
    # Seconds an attempt under way keeps its claim on a delivery beyond ``request_timeout``; a
    # delivery whose worker died is attempted again once the claim has run out.
    claim_margin: Annotated[float, Field(gt=0)] = 30.0
    # Seconds Redis keeps a task taken by a worker that never acknowledged it before handing it
    # to another; retries are never scheduled as broker tasks, so this only bounds lost tasks.
    broker_visibility_timeout: Annotated[int, Field(gt=0)] = 3_600

    # Seconds a scheduler (``python -m hub beat``) holds the cluster-wide schedule lock without
    # renewing it; another scheduler takes over this long after the holder died.
    scheduler_lock_timeout: Annotated[float, Field(gt=0)] = 30.0
    # Tasks one ``python -m hub worker`` process runs at once, all on its one event loop; run more
    # worker processes to use more cores.
    worker_tasks: Annotated[int, Field(gt=0, le=256)] = 8

    # Whether a CDR whose checks failed is held for an operator's review instead of delivered.
    hold_failed_cdrs: bool = False
    # Bearer token for the operator API (``/operator/…``); empty: the operator API is closed.
    operator_token: SecretStr | None = None

    # Liveness: every ``liveness_interval`` seconds the hub reads each connected platform's
    # versions; after ``liveness_failures`` failures in a row the platform is OFFLINE.
    liveness_interval: Annotated[float, Field(gt=0)] = 60.0
    liveness_failures: Annotated[int, Field(gt=0)] = 3
    # Whether the hub pulls parties' Sender interfaces by itself: everything right after a party
    # registers, then the changes every ``pull_interval`` seconds. Off: parties push, and operators
    # pull on demand (``python -m hub pull``).
    pulls: bool = True
    pull_interval: Annotated[float, Field(gt=0)] = 900.0
    # Seconds the old token keeps working after ``parties rotate`` gave a platform a new one.
    rotation_overlap: Annotated[float, Field(ge=0)] = 3_600.0

    # The event loop ``serve`` runs on: uvloop (faster) or the standard library's.
    event_loop: Literal["uvloop", "asyncio"] = "uvloop"

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "json"

    @model_validator(mode="after")
    def _retry_below_visibility(self) -> Settings:
        if self.retry_max_interval >= self.broker_visibility_timeout:
            raise ValueError(
                "retry_max_interval: must stay below HUB_BROKER_VISIBILITY_TIMEOUT "
                f"({self.broker_visibility_timeout} s)"
            )
        if self.retry_first_delay > self.retry_max_interval:
            raise ValueError("retry_first_delay: must not exceed HUB_RETRY_MAX_INTERVAL")
        return self

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL such as https://hub.example.com")
        if parts.query or parts.fragment:
            raise ValueError("must not have a query or fragment")
        return value.rstrip("/")

    @field_validator("country_code")
    @classmethod
    def _country(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z]{2}", value):
            raise ValueError("must be an ISO 3166 alpha-2 code such as NL")
        return value.upper()

    @field_validator("party_id")
    @classmethod
    def _party(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9]{3}", value):
            raise ValueError("must be three letters or digits such as HUB")
        return value.upper()

    @field_validator("business_name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not 1 <= len(value) <= 100:
            raise ValueError("must be 1 to 100 characters")
        return value

    @field_validator("store_url")
    @classmethod
    def _store(cls, value: str | None) -> str | None:
        if not value:
            return None
        scheme = urlsplit(value).scheme
        if scheme not in ("sqlite", "mongodb", "mongodb+srv"):
            raise ValueError("must start with sqlite:/// or mongodb:// (or be empty for the default)")
        if scheme == "sqlite" and not value.startswith("sqlite:///"):
            raise ValueError("an SQLite store is written sqlite:///relative/path or sqlite:////absolute/path")
        return value

    @field_validator("broker_url", "relay_url")
    @classmethod
    def _broker(cls, value: str | None) -> str | None:
        if not value:
            return None
        if urlsplit(value).scheme not in ("redis", "rediss"):
            raise ValueError("must be a redis:// URL (or be empty)")
        return value

    @field_validator("secret_key")
    @classmethod
    def _fernet_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        check_fernet_key(value.get_secret_value())
        return value

    # --- derived values -------------------------------------------------------------------------

    @property
    def versions_url(self) -> str:
        return f"{self.public_url}/ocpi/versions"

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file, or None when the store is MongoDB."""
        if self.store_url is None:
            return self.data_dir / "hub.sqlite3"
        if self.store_url.startswith("sqlite:///"):
            return Path(self.store_url.removeprefix("sqlite:///"))
        return None

    def page_limit(self, module: str) -> int:
        return self.page_limits.get(module, self.page_limit_max)

    @property
    def embedded_jobs(self) -> bool:
        return self.broker_url is None

    @property
    def station_relay_url(self) -> str | None:
        return self.relay_url or self.broker_url


def check_fernet_key(text: str) -> None:
    try:
        raw = base64.urlsafe_b64decode(text.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ValueError("must be a Fernet key: 32 bytes in url-safe base64 (44 characters)")


def load_settings(**overrides: object) -> Settings:
    """Build the settings from the environment (and explicit overrides, used by tests and the CLI).

    Raises ``SettingsError`` naming every wrong variable.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        lines = []
        for item in error.errors(include_url=False):
            message = str(item["msg"]).removeprefix("Value error, ")
            if item["loc"]:
                field = str(item["loc"][0])
            else:  # a rule across fields names the field it blames first: "field: message"
                field, _, message = message.partition(": ")
            # Never echo a secret back, not even a wrong one.
            shown = "" if field == "secret_key" or not item["loc"] else f" (got {item.get('input')!r})"
            lines.append(f"{ENV_PREFIX}{field.upper()}: {message}{shown}")
        raise SettingsError("invalid settings: " + "; ".join(lines)) from None
