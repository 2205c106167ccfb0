"""The pure parts of the deliverer: headers, reading an answer, keeping the attempt trace short."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from hub.outbox.deliver import ATTEMPTS_KEPT, envelope_status, request_headers, request_id, with_attempt
from hub.outbox.records import Attempt, Delivery

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def delivery(module: str, body: str | None = "{}") -> Delivery:
    return Delivery(
        target_platform_id="p-one",
        to_country_code="de",
        to_party_id="Msp",
        from_country_code="NL",
        from_party_id="HUB",
        method="PUT",
        url="http://127.0.0.1:9/x",
        body=body,
        module=module,
        correlation_id="c-1",
    )


@pytest.mark.parametrize("module", ["locations", "tariffs", "tokens", "cdrs", "sessions", "commands"])
def test_functional_modules_carry_the_routing_headers_as_recorded(module: str) -> None:
    headers = request_headers(delivery(module), authorization="Token abc", request_id="r-1")
    assert headers == {
        "Authorization": "Token abc",
        "X-Request-ID": "r-1",
        "X-Correlation-ID": "c-1",
        "Content-Type": "application/json",
        "OCPI-from-country-code": "NL",
        "OCPI-from-party-id": "HUB",
        "OCPI-to-country-code": "de",
        "OCPI-to-party-id": "Msp",
    }


@pytest.mark.parametrize("module", ["hubclientinfo", "credentials", "versions", "HubClientInfo"])
def test_configuration_modules_carry_none(module: str) -> None:
    headers = request_headers(delivery(module, body=None), authorization="Token abc", request_id="r-1")
    assert headers == {"Authorization": "Token abc", "X-Request-ID": "r-1", "X-Correlation-ID": "c-1"}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"status_code": 1000, "timestamp": "2025-03-01T12:00:00Z"}', 1000),
        (b'{"data": null, "status_code": 2001}', 2001),
        (b"", None),
        (b"  \n", None),
        (b"OK", None),
        (b"<html>busy</html>", None),
        (b"[1, 2]", None),
        (b'{"status_code": "1000"}', None),
        (b'{"status_code": true}', None),
        (b'{"data": {}}', None),
        (b"\xff\xfe", None),
    ],
)
def test_the_ocpi_status_is_read_from_an_envelope_when_there_is_one(body: bytes, status: int | None) -> None:
    assert envelope_status(body) == status


def test_a_long_trace_keeps_the_first_attempt_and_the_latest_ones() -> None:
    attempts: list[Attempt] = []
    for i in range(ATTEMPTS_KEPT + 25):
        attempts = with_attempt(attempts, Attempt(at=T0 + timedelta(minutes=i), http_status=500))
    assert len(attempts) == ATTEMPTS_KEPT
    assert attempts[0].at == T0
    assert attempts[1].at == T0 + timedelta(minutes=26)
    assert attempts[-1].at == T0 + timedelta(minutes=ATTEMPTS_KEPT + 24)


def test_request_ids_are_version_4_uuids_and_differ() -> None:
    ids = [request_id() for _ in range(2_000)]
    assert len(set(ids)) == len(ids)
    for value in ids:
        parsed = uuid.UUID(value)
        assert str(parsed) == value
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
