"""Reading a party's paginated list, client side (digest §1.7)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from hub.pulls.pages import PageError, first_url, header_count, next_link, read_page, same_origin

PAGE = "https://cpo.example.com/ocpi/2.2.1/locations?offset=0&limit=10"


def body(data: Any = None, status_code: int = 1000, **extra: Any) -> bytes:
    document: dict[str, Any] = {"status_code": status_code, "timestamp": "2025-01-01T00:00:00Z", **extra}
    if data is not None:
        document["data"] = data
    return json.dumps(document).encode()


# --- the first page ---------------------------------------------------------------------------------


def test_a_full_pull_asks_for_the_limit_only() -> None:
    url = first_url(
        "https://cpo.example.com/ocpi/2.2.1/locations", module="locations", limit=100, date_from=None
    )
    assert url == "https://cpo.example.com/ocpi/2.2.1/locations?limit=100"


def test_an_incremental_pull_asks_from_the_checkpoint_in_ocpi_form() -> None:
    since = datetime(2025, 3, 1, 12, 30, 0, 123456, tzinfo=UTC)
    url = first_url("https://cpo.example.com/locations", module="tariffs", limit=50, date_from=since)
    assert url == "https://cpo.example.com/locations?date_from=2025-03-01T12%3A30%3A00.123Z&limit=50"


def test_a_full_pull_of_sessions_still_sends_the_date_from_they_require() -> None:
    url = first_url("https://cpo.example.com/sessions", module="sessions", limit=10, date_from=None)
    assert "date_from=1970-01-01T00%3A00%3A00Z" in url


def test_the_endpoints_own_query_is_kept_but_its_paging_parameters_are_not() -> None:
    url = first_url(
        "https://cpo.example.com/locations?tenant=7&offset=40&limit=5",
        module="locations",
        limit=100,
        date_from=None,
    )
    assert url == "https://cpo.example.com/locations?tenant=7&limit=100"


# --- Link, X-Total-Count, X-Limit -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            '<https://cpo.example.com/l?offset=10&limit=10>; rel="next"',
            "https://cpo.example.com/l?offset=10&limit=10",
        ),
        ("<https://cpo.example.com/l?offset=10>; rel=next", "https://cpo.example.com/l?offset=10"),
        (
            '<https://cpo.example.com/first>; rel="first", <https://cpo.example.com/n>; rel="next"',
            "https://cpo.example.com/n",
        ),
        ('<https://cpo.example.com/n>; rel="prev next"', "https://cpo.example.com/n"),
        ('<https://cpo.example.com/n>; REL="Next"', "https://cpo.example.com/n"),
        (
            '</ocpi/2.2.1/locations?offset=10>; rel="next"',
            "https://cpo.example.com/ocpi/2.2.1/locations?offset=10",
        ),
        ('<https://cpo.example.com/p>; rel="prev"', None),
        ("", None),
        (None, None),
    ],
)
def test_the_next_link_is_found_among_others_and_resolved(header: str | None, expected: str | None) -> None:
    assert next_link(header, base=PAGE) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [("25", 25), (" 7 ", 7), ("", None), ("many", None), ("-1", None), (None, None)]
)
def test_count_headers_are_read_when_they_are_numbers(value: str | None, expected: int | None) -> None:
    assert header_count(value) == expected


@pytest.mark.parametrize(
    ("other", "same"),
    [
        ("https://CPO.example.com:443/elsewhere?x=1", True),
        ("http://cpo.example.com/ocpi", False),
        ("https://cpo.example.com:8443/ocpi", False),
        ("https://evil.example.com/ocpi", False),
    ],
)
def test_the_origin_is_scheme_host_and_port(other: str, same: bool) -> None:
    assert same_origin(PAGE, other) is same


# --- one answer -----------------------------------------------------------------------------------


def test_a_page_gives_its_items_next_page_and_counts() -> None:
    headers = {
        "Link": '<https://cpo.example.com/ocpi/2.2.1/locations?offset=10&limit=10>; rel="next"',
        "X-Total-Count": "25",
        "X-Limit": "10",
    }
    page = read_page(200, headers, body([{"id": "A"}, {"id": "B"}]), url=PAGE)
    assert page.items == [{"id": "A"}, {"id": "B"}]
    assert page.next_url == "https://cpo.example.com/ocpi/2.2.1/locations?offset=10&limit=10"
    assert (page.total, page.limit) == (25, 10)


def test_the_last_page_without_counts_or_data_is_an_empty_last_page() -> None:
    page = read_page(200, {"Link": ""}, body(), url=PAGE)
    assert (page.items, page.next_url, page.total, page.limit) == ([], None, None, None)


@pytest.mark.parametrize(
    ("status", "headers", "raw", "message"),
    [
        (503, {}, b"maintenance", "^HTTP 503$"),
        (
            401,
            {},
            body(status_code=2000, status_message="unauthorized"),
            "^HTTP 401, OCPI status 2000: unauthorized$",
        ),
        (200, {}, body(status_code=3001, status_message="busy"), "^OCPI status 3001: busy$"),
        (200, {}, b"<html>", "not an OCPI envelope"),
        (200, {}, b'["a"]', "not an OCPI envelope"),
        (200, {}, body({"id": "A"}), "^data: must be a list"),
        (200, {"Link": '<https://evil.example.com/steal>; rel="next"'}, body([]), "another host"),
        (200, {"Link": f'<{PAGE}>; rel="next"'}, body([]), "names the page it came with"),
    ],
)
def test_an_unusable_answer_is_a_page_error_that_says_why(
    status: int, headers: dict[str, str], raw: bytes, message: str
) -> None:
    with pytest.raises(PageError, match=message):
        read_page(status, headers, raw, url=PAGE)
