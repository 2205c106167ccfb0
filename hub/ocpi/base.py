"""The base of every OCPI object model, and the one place that turns a pydantic error into words.

Unknown fields are kept (``extra="allow"``) and written back unchanged, so an object the hub stores
or relays loses nothing it did not understand. Dumping excludes what was never set: optional
fields that were absent stay absent.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from hub.errors import InvalidParameters

M = TypeVar("M", bound="OcpiModel")


class OcpiModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, use_enum_values=False)

    def to_json(self) -> dict[str, Any]:
        """The object as OCPI JSON: snake_case, ``…Z`` times, numbers as numbers."""
        return self.model_dump(mode="json", exclude_unset=True, by_alias=True)


def error_path(location: tuple[int | str, ...]) -> str:
    """``('evses', 0, 'connectors', 1, 'max_voltage')`` → ``evses[0].connectors[1].max_voltage``."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "body"


_MESSAGES = {
    "missing": "is required",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "bool_type": "must be a boolean",
    "bool_parsing": "must be a boolean",
    "string_type": "must be a string",
    "list_type": "must be a list",
    "model_type": "must be an object",
    "dict_type": "must be an object",
    "model_attributes_type": "must be an object",
    "too_short": "must not be empty",
}


def describe(error: ValidationError) -> str:
    """One message naming the JSON path and the broken rule of each problem (the first few)."""
    problems = []
    for item in error.errors(include_url=False)[:5]:
        path = error_path(tuple(item["loc"]))
        kind = item["type"]
        ctx = item.get("ctx") or {}
        if kind == "string_too_long":
            rule = f"must be at most {ctx.get('max_length')} characters"
        elif kind == "string_pattern_mismatch":
            rule = "contains characters that are not allowed here"
        elif kind == "enum":
            rule = f"must be one of {ctx.get('expected')}"
        elif kind == "literal_error":
            rule = f"must be {ctx.get('expected')}"
        elif kind == "too_short" and ctx.get("min_length", 1) > 1:
            rule = f"must have at least {ctx.get('min_length')} items"
        elif kind in _MESSAGES:
            rule = _MESSAGES[kind]
        else:
            rule = str(item["msg"]).removeprefix("Value error, ")
        problems.append(f"{path}: {rule}" if item["loc"] else rule)
    more = error.error_count() - len(problems)
    if more > 0:
        problems.append(f"and {more} more")
    return "; ".join(problems)


def parse(model: type[M], data: Any) -> M:
    """Validate ``data`` as ``model``; a failure becomes OCPI 2001 with a message naming the field."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidParameters(describe(error)) from None


def parse_json(model: type[M], raw: bytes | str) -> M:
    """Validate straight from JSON bytes, in one step."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        raise InvalidParameters(describe(error)) from None
