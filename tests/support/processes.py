"""Real processes for the tests: a ``redis-server`` on a free loopback port, and the hub's Celery
workers and schedulers as ``python -m hub worker|beat`` subprocesses with their own logs."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from pathlib import Path

from settings import Settings
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]

# Settings a test changes that the worker processes must share with the hub under test.
SHARED_SETTINGS = (
    "public_url",
    "country_code",
    "party_id",
    "data_dir",
    "store_url",
    "broker_url",
    "relay_url",
    "request_timeout",
    "connect_timeout",
    "sweep_interval",
    "retry_first_delay",
    "retry_max_interval",
    "retry_horizon",
    "claim_margin",
    "scheduler_lock_timeout",
    "liveness_interval",
    "liveness_failures",
    "pull_interval",
    "platform_cache_seconds",
)


def redis_server_binary() -> str:
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if found is None:
        raise RuntimeError(
            "redis-server is not installed; `make test` installs it (Debian package redis-server)"
        )
    return found


async def _wait_for_port(port: int, *, within: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"nothing listens on port {port}") from None
            await asyncio.sleep(0.05)
        else:
            writer.close()
            await writer.wait_closed()
            return


class RedisServer:
    """A throw-away Redis that keeps nothing on disk, so a restart loses every message."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self._process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        await asyncio.to_thread(self.directory.mkdir, parents=True, exist_ok=True)
        self._process = await asyncio.create_subprocess_exec(
            await asyncio.to_thread(redis_server_binary),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.directory),
            "--logfile", str(self.directory / "redis.log"),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        await _wait_for_port(self.port)

    async def stop(self) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.kill()
            await self._process.wait()
        self._process = None


def hub_environment(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment that gives a subprocess the same settings as ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    for name in SHARED_SETTINGS:
        value = getattr(settings, name)
        if value is not None:
            env[f"HUB_{name.upper()}"] = str(value)
    if settings.secret_key is not None:
        env["HUB_SECRET_KEY"] = settings.secret_key.get_secret_value()
    env["HUB_LOG_FORMAT"] = "json"
    env.update(extra)
    return env


class HubProcess:
    """``python -m hub <args>`` running in the background, its output in a log file."""

    def __init__(self, env: dict[str, str], log_path: Path, *args: str) -> None:
        self.env = env
        self.log_path = log_path
        self.args = args
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> HubProcess:
        log = await asyncio.to_thread(self.log_path.open, "ab")
        try:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "hub", *self.args,
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # its own process group: a kill reaches every child
            )  # fmt: skip
        finally:
            await asyncio.to_thread(log.close)
        return self

    async def log(self) -> str:
        return await asyncio.to_thread(self.log_path.read_text, errors="replace")

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def kill(self) -> None:
        """SIGKILL the whole process group: no goodbye, no acknowledgements."""
        if self._process is not None and self._process.returncode is None:
            os.killpg(self._process.pid, signal.SIGKILL)
            await self._process.wait()

    async def stop(self, grace: float = 15) -> None:
        """A warm shutdown (SIGTERM), then SIGKILL if it takes too long."""
        if self._process is None or self._process.returncode is not None:
            return
        os.killpg(self._process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(self._process.wait(), timeout=grace)
        except TimeoutError:
            await self.kill()
