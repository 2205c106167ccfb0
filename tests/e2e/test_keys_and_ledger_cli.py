"""``python -m hub keys …`` and ``python -m hub ledger …`` as an operator runs them: real processes
on an SQLite store that the test also opens, to append evidence and to tamper with it."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hub.secrets import TokenCipher
from hub.signing.keys import unseal
from hub.store.sqlite import SqliteStore
from tests.conftest import free_port
from tests.e2e.test_cli_and_serve import environment, hub_cli

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def tamper(database: Path, seq: int, data: str) -> None:
    with sqlite3.connect(database) as db:
        db.execute("UPDATE ledger SET data = ? WHERE seq = ?", (data, seq))


async def test_keys_rotate_and_list(tmp_path: Path) -> None:
    env = environment(tmp_path / "var", free_port())
    code, stdout, _ = await hub_cli(env, "keys", "list", "--json")
    assert (code, json.loads(stdout)) == (0, [])

    code, stdout, _ = await hub_cli(env, "keys", "rotate", "--json")
    assert code == 0
    first = json.loads(stdout)
    code, stdout, _ = await hub_cli(env, "keys", "rotate")
    assert code == 0
    assert "is current" in stdout

    code, stdout, _ = await hub_cli(env, "keys", "list", "--json")
    assert code == 0
    listed = json.loads(stdout)
    assert [row["current"] for row in listed] == [False, True]
    assert listed[0]["kid"] == first["kid"]
    assert listed[1]["kid"] != first["kid"]
    assert set(listed[0]) == {"kid", "created_at", "generation", "current"}

    env["COLUMNS"] = "200"
    code, stdout, _ = await hub_cli(env, "keys", "list")
    assert code == 0
    for row in listed:
        assert row["kid"] in stdout
    assert "yes" in stdout

    # The private keys are in the store only sealed: their raw form is in no file of the store.
    data_dir = tmp_path / "var"
    cipher = TokenCipher((await asyncio.to_thread((data_dir / "secret.key").read_text)).strip())
    store = await SqliteStore.open(data_dir / "hub.sqlite3")
    try:
        private_parts = [
            str(unseal(key, cipher).as_dict(private=True)["d"]) for key in await store.keys.all()
        ]
    finally:
        await store.close()
    files = await asyncio.to_thread(lambda: sorted(data_dir.glob("hub.sqlite3*")))
    stored = b"".join([await asyncio.to_thread(path.read_bytes) for path in files])
    for private in private_parts:
        assert private.encode() not in stored


async def test_ledger_verify_finds_the_tampered_entry(tmp_path: Path) -> None:
    env = environment(tmp_path / "var", free_port())
    database = tmp_path / "var" / "hub.sqlite3"
    code, stdout, _ = await hub_cli(env, "ledger", "verify")
    assert code == 0
    assert "empty" in stdout

    store = await SqliteStore.open(database)
    try:
        appended = [
            await store.ledger.append(
                "CDR_ACCEPTED", f"NL*CPO*CDR-{n}", {"n": n, "name": "caf\u00e9"}, T0 + timedelta(minutes=n)
            )
            for n in range(5)
        ]
    finally:
        await store.close()

    code, stdout, _ = await hub_cli(env, "ledger", "verify", "--json", "--page-size", "2")
    assert code == 0
    assert json.loads(stdout) == {
        "intact": True,
        "checked": 5,
        "head": {"seq": 5, "hash": appended[-1].hash},
        "broken_seq": None,
        "reason": None,
    }
    code, stdout, _ = await hub_cli(env, "ledger", "verify")
    assert code == 0
    assert f"head seq 5, hash {appended[-1].hash}" in stdout

    code, stdout, _ = await hub_cli(env, "ledger", "show", "3")
    assert code == 0
    shown = json.loads(stdout)
    assert shown["seq"] == 3
    assert shown["data"] == {"n": 2, "name": "caf\u00e9"}
    assert shown["hash"] == appended[2].hash
    assert shown["prev_hash"] == appended[1].hash
    assert shown["at"] == "2025-03-01T12:02:00.000000Z"
    code, _, stderr = await hub_cli(env, "ledger", "show", "99")
    assert code == 1
    assert "no ledger entry 99" in stderr

    await asyncio.to_thread(tamper, database, 3, json.dumps({"n": 2, "name": "cafe"}))

    code, _, stderr = await hub_cli(env, "ledger", "verify", "--page-size", "2")
    assert code == 1
    assert "Ledger broken at entry 3: hash mismatch" in stderr
    code, stdout, _ = await hub_cli(env, "ledger", "verify", "--json")
    assert code == 1
    result = json.loads(stdout)
    assert (result["intact"], result["checked"], result["broken_seq"]) == (False, 2, 3)
    assert result["head"] == {"seq": 2, "hash": appended[1].hash}
