"""Properties of the OCPI primitives as the models use them: DateTime and CiString(n)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from hub.ocpi.types import OcpiDateTime, ci_string, format_datetime

DATETIME = TypeAdapter(OcpiDateTime)

# Offsets as RFC 3339 writes them: whole minutes, at most ±23:59.
offsets = st.builds(
    lambda minutes: timezone(timedelta(minutes=minutes)),
    st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59),
)
# Hypothesis takes naive bounds and attaches the drawn zone itself.
EARLIEST = datetime(1971, 1, 1)  # noqa: DTZ001
LATEST = datetime(9998, 12, 31)  # noqa: DTZ001
aware_datetimes = st.datetimes(EARLIEST, LATEST, timezones=st.one_of(st.just(UTC), offsets))
naive_datetimes = st.datetimes(EARLIEST, LATEST)


def _read(text: str) -> datetime:
    # Through the JSON path, as a request body would be read.
    return DATETIME.validate_json(json.dumps(text))


def _to_milliseconds(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


@settings(database=None)
@given(aware_datetimes)
def test_any_aware_datetime_written_then_read_is_the_same_instant_at_ms_precision(value: datetime) -> None:
    text = format_datetime(value)
    assert text.endswith("Z")
    read = _read(text)
    assert read.tzinfo is not None
    assert read == _to_milliseconds(value.astimezone(UTC))
    # Written again it is stable (``.000Z`` for a sub-millisecond value the first time becomes ``Z``).
    rewritten = DATETIME.dump_python(read, mode="json")
    assert rewritten == format_datetime(_to_milliseconds(value))
    assert _read(rewritten) == read


@settings(database=None)
@given(aware_datetimes)
def test_an_offset_datetime_is_read_as_the_same_instant(value: datetime) -> None:
    text = value.isoformat(timespec="milliseconds")
    assert _read(text) == _to_milliseconds(value)


@settings(database=None)
@given(naive_datetimes, st.sampled_from(["seconds", "milliseconds", "microseconds"]))
def test_zoneless_and_utc_offset_mean_the_same_as_z(value: datetime, timespec: str) -> None:
    text = value.isoformat(timespec=timespec)
    with_z = _read(text + "Z")
    assert _read(text) == with_z
    assert _read(text + "+00:00") == with_z
    assert with_z == datetime.fromisoformat(text).replace(tzinfo=UTC)


printable_ascii = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
lengths = st.sampled_from([2, 3, 4, 16, 32, 36, 39, 48])


@settings(database=None)
@given(lengths, st.data())
def test_cistring_accepts_any_printable_ascii_up_to_its_length(length: int, data: st.DataObject) -> None:
    text = data.draw(st.text(printable_ascii, max_size=length))
    adapter = TypeAdapter(Annotated[str, ci_string(length)])
    assert adapter.validate_json(json.dumps(text)) == text


@settings(database=None)
@given(lengths, st.data())
def test_cistring_refuses_anything_longer(length: int, data: st.DataObject) -> None:
    text = data.draw(st.text(printable_ascii, min_size=length + 1, max_size=length + 40))
    with pytest.raises(ValidationError, match="at most"):
        TypeAdapter(Annotated[str, ci_string(length)]).validate_python(text)


@settings(database=None)
@given(
    st.text(printable_ascii, max_size=10),
    st.characters(codec="utf-8").filter(lambda c: not 0x20 <= ord(c) <= 0x7E),
    st.text(printable_ascii, max_size=10),
)
def test_cistring_refuses_non_ascii_and_control_characters(before: str, odd: str, after: str) -> None:
    text = before + odd + after
    with pytest.raises(ValidationError):
        TypeAdapter(Annotated[str, ci_string(36)]).validate_python(text)
