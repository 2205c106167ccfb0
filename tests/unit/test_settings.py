from __future__ import annotations

from pathlib import Path

import pytest

from settings import SettingsError, load_settings


def test_defaults_run_an_embedded_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HUB_PUBLIC_URL", "HUB_DATA_DIR", "HUB_STORE_URL", "HUB_BROKER_URL", "HUB_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.public_url == "http://127.0.0.1:8080"
    assert settings.sqlite_path == Path("var/hub.sqlite3")
    assert settings.embedded_jobs
    assert settings.versions_url == "http://127.0.0.1:8080/ocpi/versions"


def test_settings_are_read_from_hub_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_PUBLIC_URL", "https://hub.example.com/")
    monkeypatch.setenv("HUB_COUNTRY_CODE", "de")
    monkeypatch.setenv("HUB_PARTY_ID", "hbx")
    monkeypatch.setenv("HUB_STORE_URL", "mongodb://db1,db2/hub?replicaSet=rs0")
    monkeypatch.setenv("HUB_BROKER_URL", "redis://127.0.0.1:6379/0")
    settings = load_settings()
    assert settings.public_url == "https://hub.example.com"
    assert (settings.country_code, settings.party_id) == ("DE", "HBX")
    assert settings.sqlite_path is None
    assert not settings.embedded_jobs


def test_an_sqlite_store_url_names_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_STORE_URL", "sqlite:////srv/hub/hub.db")
    assert load_settings().sqlite_path == Path("/srv/hub/hub.db")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HUB_PUBLIC_URL", "hub.example.com"),
        ("HUB_COUNTRY_CODE", "NLD"),
        ("HUB_PARTY_ID", "H!"),
        ("HUB_STORE_URL", "postgres://x"),
        ("HUB_BROKER_URL", "amqp://x"),
        ("HUB_REQUEST_TIMEOUT", "soon"),
        ("HUB_PAGE_LIMIT_MAX", "0"),
        ("HUB_LOG_LEVEL", "LOUD"),
        ("HUB_SECRET_KEY", "not-a-key"),
    ],
)
def test_a_bad_setting_fails_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings()


def test_a_bad_secret_key_is_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_SECRET_KEY", "my-very-secret-wrong-key")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert "my-very-secret-wrong-key" not in str(raised.value)


def test_retries_must_stay_below_the_brokers_visibility_timeout() -> None:
    """A retry is a due time in the store, not a broker countdown; still, no backoff may outlast the
    time Redis keeps an unacknowledged job, or a lost job and a retry could meet."""
    with pytest.raises(SettingsError) as raised:
        load_settings(retry_max_interval=3_600, broker_visibility_timeout=3_600)
    assert str(raised.value).startswith("invalid settings: HUB_RETRY_MAX_INTERVAL: must stay below")
    with pytest.raises(SettingsError, match="HUB_RETRY_FIRST_DELAY: must not exceed HUB_RETRY_MAX_INTERVAL"):
        load_settings(retry_first_delay=90, retry_max_interval=60)
    assert (
        load_settings(retry_max_interval=3_599, broker_visibility_timeout=3_600).retry_max_interval == 3_599
    )
