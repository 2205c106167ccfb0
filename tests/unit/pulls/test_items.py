"""One object of a pulled page: checked like a push, placed by its own ids."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hub.pulls.items import Rejected, object_id, read_object
from hub.routing.table import PartyRef
from tests.support import objects


def test_a_valid_location_is_placed_by_its_own_ids_and_kept_as_written() -> None:
    item = objects.location("NL", "CPO", "LOC 1/A", x_vendor={"kept": True})
    pulled = read_object("locations", item, {"NL*CPO"})
    assert pulled.url.owner == PartyRef("NL", "CPO")
    assert pulled.url.ids == ("LOC 1/A",)
    assert pulled.tail == "/NL/CPO/LOC%201%2FA"
    assert pulled.query_string == ""
    assert pulled.token_type is None
    assert pulled.document is item
    assert json.loads(pulled.body) == item  # unknown fields included


def test_a_token_is_keyed_by_uid_and_type() -> None:
    pulled = read_object("tokens", objects.token("DE", "MSP", "0102", token_type="APP_USER"), {"DE*MSP"})
    assert pulled.url.ids == ("0102",)
    assert pulled.token_type == "APP_USER"
    assert pulled.query_string == "type=APP_USER"


def test_owners_are_compared_without_regard_to_case() -> None:
    assert read_object("locations", objects.location("nl", "cpo"), {"NL*CPO"}).url.owner == PartyRef(
        "nl", "cpo"
    )


@pytest.mark.parametrize(
    ("module", "item", "owners", "message"),
    [
        ("locations", "LOC1", {"NL*CPO"}, "^must be an object$"),
        (
            "locations",
            objects.location(evses=1)
            | {"evses": [{**objects.evse("E1", "2025-01-01T10:00:00Z"), "status": "BROKEN"}]},
            {"NL*CPO"},
            r"^evses\[0\]\.status: must be one of",
        ),
        (
            "locations",
            {k: v for k, v in objects.location().items() if k != "last_updated"},
            {"NL*CPO"},
            "^last_updated: is required",
        ),
        ("locations", objects.location("DE", "XXX"), {"NL*CPO"}, "DE\\*XXX is not a party of this platform"),
        ("tokens", objects.token(), {"NL*CPO"}, "DE\\*MSP is not a party of this platform"),
    ],
)
def test_an_object_that_is_not_valid_or_not_the_platforms_is_rejected_saying_where(
    module: str, item: Any, owners: set[str], message: str
) -> None:
    with pytest.raises(Rejected, match=message):
        read_object(module, item, owners)


def test_the_id_of_a_broken_object_is_still_named_for_the_log() -> None:
    assert object_id("locations", {"id": "LOC9", "evses": "no"}) == "LOC9"
    assert object_id("tokens", {"uid": 42}) == "42"
    assert object_id("locations", ["not", "an", "object"]) is None
