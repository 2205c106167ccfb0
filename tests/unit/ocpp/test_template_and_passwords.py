"""The operator's Location file, station passwords, and the small parsers of the OCPP endpoint."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest

from hub.ocpp.link import message_type
from hub.ocpp.passwords import VerifiedPasswords, check_password, hash_password, new_password
from hub.ocpp.server import basic_credentials
from hub.ocpp.template import TemplateError, check_template
from tests.support.stations import TEMPLATE

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def check(template: Any, location_id: str = "CS001") -> dict[str, Any]:
    return check_template(template, country_code="NL", party_id="ABC", location_id=location_id, now=NOW)


def test_a_complete_template_passes() -> None:
    assert check(TEMPLATE) == TEMPLATE


@pytest.mark.parametrize(
    ("template", "location_id", "message"),
    [
        ([], "CS001", "one JSON object"),
        ({k: v for k, v in TEMPLATE.items() if k != "connector"}, "CS001", "connector"),
        ({k: v for k, v in TEMPLATE.items() if k != "address"}, "CS001", "address: is required"),
        ({**TEMPLATE, "id": "X"}, "CS001", "set by the hub"),
        ({**TEMPLATE, "connector": {**TEMPLATE["connector"], "standard": "PLUG"}}, "CS001", "standard"),
        ({**TEMPLATE, "evses": {"one": {}}}, "CS001", "EVSE number"),
        ({**TEMPLATE, "evses": {"2": {"physical_reference": "x" * 17}}}, "CS001", "physical_reference"),
        (TEMPLATE, "X" * 33, "location id"),
        (TEMPLATE, "CS/001", "location id"),
    ],
)
def test_a_template_that_cannot_make_a_valid_location_is_refused_with_the_reason(
    template: Any, location_id: str, message: str
) -> None:
    with pytest.raises(TemplateError, match=message):
        check(template, location_id)


def test_a_password_checks_against_its_hash_only() -> None:
    stored = hash_password("the station's secret")
    assert stored.startswith("scrypt$") and "the station" not in stored
    assert check_password("the station's secret", stored)
    assert not check_password("the station's secreT", stored)
    assert not check_password("anything", "not-a-hash")


def test_the_same_password_hashes_differently_each_time() -> None:
    assert hash_password("same") != hash_password("same")


def test_a_verified_password_is_known_for_its_hash_only_and_a_wrong_one_never() -> None:
    verified = VerifiedPasswords(size=2)
    first, second = hash_password("station-password-1"), hash_password("station-password-1")
    assert not verified.known("station-password-1", first)

    verified.remember("station-password-1", first)

    assert verified.known("station-password-1", first)
    assert not verified.known("station-password-2", first)
    assert not verified.known("station-password-1", second)  # a new hash is checked in full
    verified.remember("b", second)
    verified.remember("c", hash_password("c"))
    assert not verified.known("station-password-1", first)  # the oldest made room


def test_made_up_passwords_fit_ocpp_201() -> None:
    assert 16 <= len(new_password()) <= 40


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Basic " + base64.b64encode(b"CS001:pw:with:colons").decode(), ("CS001", "pw:with:colons")),
        ("basic " + base64.b64encode(b"CS001:").decode(), ("CS001", "")),
        ("Basic " + base64.b64encode(b"no-colon").decode(), None),
        ("Basic not base64!", None),
        ("Token abc", None),
        (None, None),
    ],
)
def test_basic_credentials_are_read_per_rfc_7617(
    header: str | None, expected: tuple[str, str] | None
) -> None:
    assert basic_credentials(header) == expected


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ('[2,"1","Heartbeat",{}]', 2),
        ('[3,"1",{}]', 3),
        ('[4,"1","NotImplemented","",{}]', 4),
        ("not json", None),
        ('{"a": 1}', None),
        ("[]", None),
    ],
)
def test_the_reader_tells_calls_from_results(frame: str, expected: int | None) -> None:
    assert message_type(frame) == expected
