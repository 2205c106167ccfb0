"""OCPI 2.2.1 primitive types (digest §1.11, §1.12, §7).

Every model of the hub builds its fields from these, so the rules live in one place:

* ``CiString(n)``: printable ASCII, compared without regard to case, at most n characters;
* ``String(n)``: printable UTF-8 without control characters, at most n characters;
* ``OcpiDateTime``: read generously (``Z``, an offset, or no zone at all, which means UTC) and
  always written as ``YYYY-MM-DDThh:mm:ss[.mmm]Z``;
* ``Number``: ``Decimal`` inside the hub, a JSON number on the wire.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, StringConstraints

_PRINTABLE_ASCII = r"^[\x20-\x7e]*$"
# Printable UTF-8: anything but the C0/C1 control characters (CR, LF, TAB, DEL, ...).
_PRINTABLE_TEXT = r"^[^\x00-\x1f\x7f-\x9f]*$"
_TOKEN_CHARACTERS = r"^[\x21-\x7e]+$"  # noqa: S105 - a pattern


def ci_string(max_length: int) -> StringConstraints:
    """OCPI ``CiString(n)``: printable ASCII, compared without regard to case."""
    return StringConstraints(max_length=max_length, pattern=_PRINTABLE_ASCII)


def string(max_length: int) -> StringConstraints:
    """OCPI ``string(n)``: case-sensitive printable UTF-8, no control characters."""
    return StringConstraints(max_length=max_length, pattern=_PRINTABLE_TEXT)


CiString2 = Annotated[str, ci_string(2)]
CiString3 = Annotated[str, ci_string(3)]
CiString36 = Annotated[str, ci_string(36)]
Url = Annotated[str, StringConstraints(max_length=255, min_length=1, pattern=_PRINTABLE_TEXT)]
# A credentials token: string(64) of printable, non-whitespace ASCII (digest §4.2).
CredentialsToken = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=_TOKEN_CHARACTERS)]

# RFC 3339 as OCPI uses it. Offsets are not OCPI, but they are seen in the wild; we read them and
# normalise to UTC. Anything else (epoch numbers, dates without time, spaces) is refused.
_DATETIME_TEXT = re.compile(
    r"^(?P<base>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(?P<fraction>\d{1,9}))?(?P<zone>Z|z|[+-]\d{2}:\d{2})?$"
)


def parse_datetime(value: str) -> datetime:
    """Read an OCPI DateTime: ``Z``, an offset, or no zone (UTC); fractions of any length."""
    match = _DATETIME_TEXT.match(value)
    if match is None:
        raise ValueError("must be an RFC 3339 date-time such as 2015-06-29T20:39:09Z")
    fraction = (match["fraction"] or "").ljust(6, "0")[:6]
    zone = match["zone"]
    if zone is None or zone in ("Z", "z"):
        zone = "+00:00"
    parsed = datetime.fromisoformat(f"{match['base']}.{fraction}{zone}")
    return parsed.astimezone(UTC)


def _read_datetime(value: Any) -> Any:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        return parse_datetime(value)
    raise ValueError("must be a date-time string")


def format_datetime(value: datetime) -> str:
    """Write an OCPI DateTime: UTC, ``Z``, milliseconds only when there are any."""
    value = value.astimezone(UTC).replace(tzinfo=None)
    milliseconds = value.microsecond // 1000
    text = value.replace(microsecond=0).isoformat()
    return f"{text}.{milliseconds:03d}Z" if milliseconds else f"{text}Z"


def _must_be_aware(value: datetime) -> datetime:
    return value.astimezone(UTC)


OcpiDateTime = Annotated[
    datetime,
    BeforeValidator(_read_datetime),
    AfterValidator(_must_be_aware),
    PlainSerializer(format_datetime, return_type=str),
]


def _read_number(value: Any) -> Any:
    # JSON numbers only: a string that looks like a number is not an OCPI number, nor is a boolean.
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError("must be a number")
    return value


def _number_out(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


Number = Annotated[
    Decimal,
    BeforeValidator(_read_number),
    PlainSerializer(_number_out, return_type=int | float, when_used="json"),
]


def utc_now() -> datetime:
    return datetime.now(UTC)


def utc_now_text() -> str:
    return format_datetime(utc_now())
