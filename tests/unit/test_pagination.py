from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub.errors import InvalidParameters
from hub.ocpi.pagination import PageRequest, page_headers, read_page_request


def test_defaults_are_the_first_page_of_the_largest_size() -> None:
    assert read_page_request({}, max_limit=100) == PageRequest(0, 100, None, None)


def test_a_limit_above_the_cap_is_capped() -> None:
    assert read_page_request({"limit": "2000"}, max_limit=100).limit == 100
    assert read_page_request({"limit": "0"}, max_limit=100).limit == 100


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"offset": "-1"}, "offset"),
        ({"limit": "ten"}, "limit"),
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_to": "2020-01-01"}, "date_to"),
    ],
)
def test_bad_parameters_are_2001_naming_the_parameter(query: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidParameters, match=f"^{field}:"):
        read_page_request(query, max_limit=100)


def test_date_from_is_inclusive_and_date_to_exclusive() -> None:
    page = read_page_request(
        {"date_from": "2020-01-01T00:00:00Z", "date_to": "2020-01-02T00:00:00"}, max_limit=10
    )
    assert page.admits(datetime(2020, 1, 1, tzinfo=UTC))
    assert page.admits(datetime(2020, 1, 1, 23, 59, 59, tzinfo=UTC))
    assert not page.admits(datetime(2020, 1, 2, tzinfo=UTC))
    assert not page.admits(datetime(2019, 12, 31, 23, 59, 59, tzinfo=UTC))


def test_the_next_link_repeats_the_filters_with_the_capped_limit() -> None:
    page = read_page_request(
        {"limit": "500", "offset": "100", "date_from": "2020-01-01T00:00:00+00:00"}, max_limit=100
    )
    headers = page_headers("https://hub.example.com/ocpi/2.2.1/hubclientinfo", page, total=250, max_limit=100)
    assert headers["X-Total-Count"] == "250"
    assert headers["X-Limit"] == "100"
    assert headers["Link"] == (
        "<https://hub.example.com/ocpi/2.2.1/hubclientinfo?offset=200&limit=100"
        '&date_from=2020-01-01T00%3A00%3A00Z>; rel="next"'
    )


def test_the_last_page_has_no_link() -> None:
    page = read_page_request({"offset": "200"}, max_limit=100)
    assert "Link" not in page_headers("https://hub/x", page, total=250, max_limit=100)
    assert "Link" not in page_headers(
        "https://hub/x", PageRequest(0, 100, None, None), total=100, max_limit=100
    )
