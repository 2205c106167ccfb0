"""Helpers for benchmarks that run the hub and parties as separate processes on loopback."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import ClientSession

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start(
    args: Sequence[str], *, env: dict[str, str] | None = None, ready_url: str
) -> asyncio.subprocess.Process:
    """Start ``python args…`` and wait until ``ready_url`` answers."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    async with ClientSession() as http:
        for _ in range(400):
            try:
                async with http.get(ready_url) as response:
                    if response.status < 500:
                        return process
            except OSError:
                await asyncio.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{' '.join(args)} did not start")


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), timeout=10)
        except TimeoutError:
            process.kill()
            await process.wait()
