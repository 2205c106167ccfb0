"""Who may see a mirrored object (hub.mirror.visibility): publish rules and token owners."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hub.mirror.visibility import audience, token_matches

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ocpi"

Doc = dict[str, Any]


def fixture(name: str) -> Doc:
    document: Doc = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return document


def token(cc: str, pid: str, uid: str, token_type: str = "RFID", **fields: Any) -> Doc:
    return {"country_code": cc, "party_id": pid, "uid": uid, "type": token_type, **fields}


TOKENS = [
    token("DE", "EMS", "04A1B2C3", visual_number="DE-EMS-1", issuer="Emsy Drive", group_id="FLEET-1"),
    token("FR", "ABC", "0F0F", "APP_USER", visual_number="FR-ABC-9", issuer="Abc Mobilité"),
    token("BE", "XYZ", "BEBE", group_id="FLEET-2"),
    token("NL", "TNM", "OWN1"),  # the CPO's own eMSP role
]


def private_location(*entries: Doc, cc: str = "NL", pid: str = "TNM") -> Doc:
    return {
        "country_code": cc,
        "party_id": pid,
        "id": "LOC1",
        "publish": False,
        "publish_allowed_to": list(entries),
    }


def test_a_published_location_is_seen_by_everyone() -> None:
    location = {"country_code": "NL", "party_id": "TNM", "id": "LOC1", "publish": True}
    assert audience("locations", location, tokens=TOKENS) is None


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ([], ["NL*TNM"]),
        ([{"uid": "04A1B2C3", "type": "RFID"}], ["NL*TNM", "DE*EMS"]),
        ([{"uid": "04a1b2c3", "type": "rfid"}], ["NL*TNM", "DE*EMS"]),  # CiString and enum: any case
        ([{"uid": "04A1B2C3", "type": "APP_USER"}], ["NL*TNM"]),  # type must match too
        ([{"uid": "0F0F"}], ["NL*TNM", "FR*ABC"]),  # no type set: any type
        ([{"visual_number": "FR-ABC-9", "issuer": "Abc Mobilité"}], ["NL*TNM", "FR*ABC"]),
        ([{"visual_number": "FR-ABC-9", "issuer": "ABC MOBILITÉ"}], ["NL*TNM"]),  # string: exact
        ([{"visual_number": "FR-ABC-9", "issuer": "Emsy Drive"}], ["NL*TNM"]),  # all set fields must match
        ([{"group_id": "fleet-1"}], ["NL*TNM", "DE*EMS"]),
        ([{"group_id": "FLEET-2"}, {"uid": "0F0F", "type": "APP_USER"}], ["NL*TNM", "BE*XYZ", "FR*ABC"]),
        ([{"uid": "OWN1", "type": "RFID"}], ["NL*TNM"]),  # the owner is listed once
        ([{"group_id": "NOBODY"}], ["NL*TNM"]),
        ([{}], ["NL*TNM"]),  # an entry without fields matches no token
    ],
)
def test_an_unpublished_location_is_seen_by_its_owner_and_the_owners_of_allowed_tokens(
    entries: list[Doc], expected: list[str]
) -> None:
    assert audience("locations", private_location(*entries), tokens=TOKENS) == expected


def test_an_unpublished_location_without_tokens_to_match_is_seen_by_its_owner_only() -> None:
    assert audience("locations", private_location({"group_id": "FLEET-1"})) == ["NL*TNM"]


def test_party_keys_are_upper_cased() -> None:
    location = private_location({"uid": "x1"}, cc="nl", pid="tnm")
    assert audience("locations", location, tokens=[token("de", "ems", "X1")]) == ["NL*TNM", "DE*EMS"]


@pytest.mark.parametrize("publish", [None, "true", 1])
def test_a_location_not_explicitly_published_stays_private(publish: Any) -> None:
    location = {"country_code": "NL", "party_id": "TNM", "id": "LOC1"}
    if publish is not None:
        location["publish"] = publish
    assert audience("locations", location, tokens=TOKENS) == ["NL*TNM"]


def test_the_fixture_location_is_seen_by_the_fixture_tokens_owner() -> None:
    assert audience("locations", fixture("location.json"), tokens=[fixture("token.json")]) == [
        "NL*HBX",
        "DE*EMS",
    ]


@pytest.mark.parametrize("module", ["sessions", "cdrs"])
def test_sessions_and_cdrs_are_seen_by_the_cpo_and_the_token_owner(module: str) -> None:
    document = fixture("session.json" if module == "sessions" else "cdr.json")
    assert audience(module, document, tokens=TOKENS) == ["NL*HBX", "DE*EMS"]


def test_a_session_of_the_cpos_own_token_is_seen_by_the_cpo_alone() -> None:
    session = {
        "country_code": "NL",
        "party_id": "TNM",
        "id": "S1",
        "cdr_token": {"country_code": "nl", "party_id": "tnm"},
    }
    assert audience("sessions", session) == ["NL*TNM"]
    del session["cdr_token"]
    assert audience("sessions", session) == ["NL*TNM"]


@pytest.mark.parametrize("name", ["tariff.json", "token.json"])
def test_tariffs_and_tokens_are_seen_by_everyone(name: str) -> None:
    document = fixture(name)
    assert audience("tariffs" if name == "tariff.json" else "tokens", document) is None


def test_token_matching_needs_the_token_to_carry_every_set_field() -> None:
    assert token_matches({"group_id": "G"}, token("DE", "EMS", "1", group_id="g"))
    assert not token_matches({"group_id": "G"}, token("DE", "EMS", "1"))
    assert not token_matches(
        {"visual_number": "V", "issuer": "I"}, token("DE", "EMS", "1", visual_number="V")
    )


def test_an_unknown_module_is_refused() -> None:
    with pytest.raises(ValueError, match="not a valid MirroredModule"):
        audience("commands", {"country_code": "NL", "party_id": "TNM"})
