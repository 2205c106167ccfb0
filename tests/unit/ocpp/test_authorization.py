"""OCPP Authorize in OCPI terms: token types, the token cache's decision, eMSP answers, statuses."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hub.ocpi.envelope import envelope
from hub.ocpp import authorization
from hub.ocpp.authorization import Decision, Outcome
from hub.ocpp.records import OCPP16, OCPP201
from tests.support import objects


def token(*, valid: bool = True, whitelist: str = "ALLOWED", **extra: Any) -> dict[str, Any]:
    return objects.token(uid="UID1", valid=valid) | {"whitelist": whitelist} | extra


@pytest.mark.parametrize(
    ("protocol", "ocpp_type", "ocpi_type"),
    [
        (OCPP16, None, "RFID"),
        (OCPP201, "ISO14443", "RFID"),
        (OCPP201, "ISO15693", "RFID"),
        (OCPP201, "Central", "APP_USER"),
        (OCPP201, "Local", "AD_HOC_USER"),
        (OCPP201, "eMAID", "OTHER"),
        (OCPP201, "KeyCode", "OTHER"),
        (OCPP201, "MacAddress", "OTHER"),
        (OCPP201, "NoAuthorization", "OTHER"),
        (OCPP201, "SomethingNew", "OTHER"),
    ],
)
def test_token_types(protocol: str, ocpp_type: str | None, ocpi_type: str) -> None:
    assert authorization.token_type(protocol, ocpp_type) == ocpi_type


@pytest.mark.parametrize(
    ("outcome", "v16", "v201"),
    [
        (Outcome.ALLOWED, "Accepted", "Accepted"),
        (Outcome.BLOCKED, "Blocked", "Blocked"),
        (Outcome.EXPIRED, "Expired", "Expired"),
        (Outcome.NO_CREDIT, "Blocked", "NoCredit"),
        (Outcome.NOT_ALLOWED, "Invalid", "NotAtThisLocation"),
        (Outcome.UNKNOWN, "Invalid", "Unknown"),
        (Outcome.UNREACHABLE, "Invalid", "Invalid"),
    ],
)
def test_statuses(outcome: Outcome, v16: str, v201: str) -> None:
    assert authorization.id_tag_info(Decision(outcome)) == {"status": v16}
    assert authorization.id_token_info(Decision(outcome), "ISO14443") == {"status": v201}


@pytest.mark.parametrize(
    ("cached", "expected"),
    [
        (None, Decision(Outcome.UNKNOWN)),
        (token(), Decision(Outcome.ALLOWED)),
        (token(whitelist="ALWAYS"), Decision(Outcome.ALLOWED)),
        (token(valid=False), Decision(Outcome.BLOCKED)),
        (token(valid=False, whitelist="NEVER"), Decision(Outcome.BLOCKED)),
        (token(whitelist="NEVER"), None),
        (token(whitelist="ALLOWED_OFFLINE"), None),
    ],
)
def test_what_the_cache_decides(cached: dict[str, Any] | None, expected: Decision | None) -> None:
    assert authorization.from_cache(cached) == expected


def test_only_a_valid_allowed_offline_token_survives_an_emsp_that_does_not_answer() -> None:
    assert authorization.unreachable(token(whitelist="ALLOWED_OFFLINE")).outcome is Outcome.ALLOWED
    assert authorization.unreachable(token(whitelist="NEVER")).outcome is Outcome.UNREACHABLE
    assert authorization.unreachable(token(valid=False, whitelist="ALLOWED_OFFLINE")).outcome is (
        Outcome.UNREACHABLE
    )
    assert authorization.unreachable(None).outcome is Outcome.UNREACHABLE


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (200, envelope({"allowed": "ALLOWED", "token": token()}), Outcome.ALLOWED),
        (200, envelope({"allowed": "NOT_ALLOWED", "token": token()}), Outcome.NOT_ALLOWED),
        (200, envelope({"allowed": "EXPIRED"}), Outcome.EXPIRED),
        (404, envelope(status_code=2004, status_message="unknown token"), Outcome.UNKNOWN),
        (200, envelope(status_code=2004, status_message="unknown token"), Outcome.UNKNOWN),
        (404, "not found", Outcome.UNKNOWN),
        (200, envelope({"allowed": "MAYBE"}), Outcome.UNREACHABLE),
        (200, envelope(status_code=3000, status_message="broken"), Outcome.UNREACHABLE),
        (502, "<html>bad gateway</html>", Outcome.UNREACHABLE),
    ],
)
def test_emsp_answers(status: int, body: Any, outcome: Outcome) -> None:
    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    assert authorization.answered(status, raw, token(whitelist="NEVER")).outcome is outcome


def test_the_group_id_becomes_the_parent_or_group_token() -> None:
    answer = json.dumps(envelope({"allowed": "ALLOWED", "token": token(group_id="FLEET7")})).encode()
    decision = authorization.answered(200, answer, None)
    assert authorization.id_tag_info(decision) == {"status": "Accepted", "parent_id_tag": "FLEET7"}
    assert authorization.id_token_info(decision, "ISO14443") == {
        "status": "Accepted",
        "group_id_token": {"id_token": "FLEET7", "type": "ISO14443"},
    }
    too_long = authorization.from_cache(token(whitelist="ALWAYS", group_id="G" * 21))
    assert too_long is not None
    assert authorization.id_tag_info(too_long) == {"status": "Accepted"}
