"""Logs carry the request's ids and the calling platform, never a token; metrics are served."""

from __future__ import annotations

import base64
import io
import json
import logging
from collections.abc import Iterator

import pytest

from hub.observability import configure_logging
from tests.conftest import Hub
from tests.support.party import Party, role


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("DEBUG", "json", stream=stream)
    yield stream
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_hub_handler", False):
            root.removeHandler(handler)
    root.setLevel(logging.WARNING)


async def test_no_token_reaches_the_logs(hub: Hub, party: Party, log_output: io.StringIO) -> None:
    token_a = await hub.invite()
    token_c = await hub.register(party, token_a, [role("CPO", "NL", "TNM")])
    party.token_b = "party-token-b-rotated"
    response = await hub.call(
        "PUT", "/ocpi/2.2.1/credentials", token_c, json=party.credentials([role("CPO", "NL", "TNM")])
    )
    new_c = (await response.json())["data"]["token"]
    await hub.call("GET", "/ocpi/versions", token_c)  # a refused, now unknown token
    await hub.call("GET", "/ocpi/versions", headers={"Authorization": f"Token {new_c}"})
    await hub.call("DELETE", "/ocpi/2.2.1/credentials", new_c)

    text = log_output.getvalue()
    assert "request_handled" in text and "platform_registered" in text
    for secret in (token_a, token_c, new_c, "party-token-b-0001", "party-token-b-rotated"):
        assert secret not in text
        assert base64.b64encode(secret.encode()).decode() not in text


async def test_request_lines_carry_request_id_correlation_id_and_platform(
    hub: Hub, party: Party, log_output: io.StringIO
) -> None:
    token_c = await hub.register(party, await hub.invite(), [role("CPO", "NL", "TNM")])
    platform = (await hub.services.store.platforms.all())[0]
    await hub.call(
        "GET", "/ocpi/versions", token_c, headers={"X-Request-ID": "r-42", "X-Correlation-ID": "c-42"}
    )
    lines = [json.loads(line) for line in log_output.getvalue().splitlines() if line.startswith("{")]
    handled = [
        line for line in lines if line["event"] == "request_handled" and line.get("request_id") == "r-42"
    ]
    assert len(handled) == 1
    assert handled[0]["correlation_id"] == "c-42"
    assert handled[0]["platform"] == platform.id
    assert handled[0]["http_status"] == 200 and handled[0]["ocpi_status"] == 1000


def test_values_that_look_like_an_authorization_header_are_masked() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    try:
        logging.getLogger("somebody.else").warning("sent Authorization: Token c2VjcmV0LXRva2VuLXZhbHVl")
        import structlog

        structlog.get_logger("x").info("event", token="plain-secret", header="Token abcdefghijkl")
    finally:
        for handler in list(logging.getLogger().handlers):
            if getattr(handler, "_hub_handler", False):
                logging.getLogger().removeHandler(handler)
    text = stream.getvalue()
    assert "c2VjcmV0LXRva2VuLXZhbHVl" not in text
    assert "plain-secret" not in text
    assert "abcdefghijkl" not in text
    assert text.count("[redacted]") == 3


async def test_metrics_count_requests_by_route_and_ocpi_status(hub: Hub, party: Party) -> None:
    token_c = await hub.register(party, await hub.invite(), [role("CPO", "NL", "TNM")])
    await hub.call("GET", "/ocpi/versions", token_c)
    await hub.call("GET", "/ocpi/versions")
    response = await hub.call("GET", "/metrics")
    assert response.status == 200
    text = await response.text()
    assert (
        'hub_requests_total{http_status="200",method="GET",ocpi_status="1000",route="/ocpi/versions"} 1.0'
        in text
    )
    assert (
        'hub_requests_total{http_status="401",method="GET",ocpi_status="2000",route="/ocpi/versions"} 1.0'
        in text
    )
    assert (
        'hub_request_duration_seconds_bucket{le="0.001",method="POST",route="/ocpi/2.2.1/credentials"}'
        in text
    )
