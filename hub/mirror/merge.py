"""Apply OCPI pushes to the mirror's copy of an object (digest §1.8, §8.1, §9.2, §16.1, §19 items 21, 22).

Pure: documents in, document out; the caller reads and saves the record. Documents are the JSON
objects as pushed (unknown fields included). The inputs are never changed; the result shares the
parts it leaves unchanged with them, so callers must not change the inputs afterwards either.

What a push does, per module:

* Locations: PUT of a Location replaces it. PUT of an EVSE (``/loc/evse``) replaces or adds that
  EVSE, PUT of a Connector (``/loc/evse/conn``) replaces or adds that Connector. PATCH at any
  level merges the top-level fields of that object; a list in a PATCH replaces the stored list.
  A push below the Location bumps the ``last_updated`` of its parents to the child's when that is
  later (the receiver-side timestamp propagation of §8.1).
* Sessions: PUT replaces, ``charging_periods`` included; PATCH merges, and APPENDS the
  ``charging_periods`` it carries to the stored ones.
* Tokens and Tariffs: PUT replaces, PATCH merges.
* CDRs: insert-only; a second push of the same key changes nothing.

A push whose ``last_updated`` is older than the stored one at its level is stale: it changes
nothing, and the merge answers None. An equal ``last_updated`` is applied (a repeated push).
``last_updated`` values are compared as instants; the document keeps the pushed text, except for
a parent's ``last_updated`` rewritten by a bump.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.mirror.records import DEFAULT_TOKEN_TYPE, MirroredModule
from hub.ocpi.types import format_datetime, parse_datetime

Document = dict[str, Any]


class MergeError(Exception):
    """A push that cannot be applied to the mirror."""


class IdMismatch(MergeError):
    """An id in the body differs from the one in the URL (OCPI advises 2001)."""


class MissingParent(MergeError):
    """An EVSE or Connector was pushed for a Location (or EVSE) the mirror does not have."""


class MissingObject(MergeError):
    """A PATCH for an object the mirror does not have (the sender should PUT it)."""


class BadTimestamp(MergeError):
    """The pushed object has no ``last_updated``, or not an OCPI DateTime."""


class NotPatchable(MergeError):
    """CDRs never change once sent."""


@dataclass(frozen=True)
class ObjectPath:
    """Where a push is addressed: the URL's owner pair and ids.

    ``evse_uid`` and ``connector_id`` address an EVSE or a Connector of a Location; ``token_type``
    is the Tokens ``type`` query parameter (None: RFID).
    """

    country_code: str
    party_id: str
    object_id: str
    evse_uid: str | None = None
    connector_id: str | None = None
    token_type: str | None = None

    def __post_init__(self) -> None:
        if self.connector_id is not None and self.evse_uid is None:
            raise ValueError("a connector_id needs the evse_uid of its EVSE")


@dataclass(frozen=True)
class MergeResult:
    """The whole document to store, and its (possibly bumped) ``last_updated``."""

    document: Document
    last_updated: datetime


def merge_put(
    module: str, stored: Mapping[str, Any] | None, path: ObjectPath, body: Mapping[str, Any]
) -> MergeResult | None:
    """The document after a PUT (or, for CDRs, a POST) of ``body`` at ``path``; None if stale.

    ``stored`` is the mirror's current document for the object's key (for an EVSE or Connector:
    the Location's), or None. Raises ``IdMismatch``, ``MissingParent`` or ``BadTimestamp``.
    """
    return _merge(MirroredModule(module), stored, path, body, patch=False)


def merge_patch(
    module: str, stored: Mapping[str, Any] | None, path: ObjectPath, body: Mapping[str, Any]
) -> MergeResult | None:
    """The document after a PATCH with ``body`` at ``path``; None if stale.

    Raises ``MissingObject`` when the object is not stored, and as ``merge_put`` otherwise;
    ``NotPatchable`` for CDRs.
    """
    return _merge(MirroredModule(module), stored, path, body, patch=True)


_ID_FIELD = {
    MirroredModule.LOCATIONS: "id",
    MirroredModule.SESSIONS: "id",
    MirroredModule.TARIFFS: "id",
    MirroredModule.CDRS: "id",
    MirroredModule.TOKENS: "uid",
}


def check_ids(module: str, path: ObjectPath, body: Mapping[str, Any]) -> None:
    """The ids a body carries must be the ones its URL names (digest §1.9); ``IdMismatch`` if not.

    Pure and storage-free, so the hub can refuse a push before it forwards anything.
    """
    if path.connector_id is not None:
        _check_id(body, "id", path.connector_id)
    elif path.evse_uid is not None:
        _check_id(body, "uid", path.evse_uid)
    else:
        kind = MirroredModule(module)
        _check_id(body, "country_code", path.country_code)
        _check_id(body, "party_id", path.party_id)
        _check_id(body, _ID_FIELD[kind], path.object_id)
        if kind is MirroredModule.TOKENS:
            _check_id(body, "type", path.token_type or DEFAULT_TOKEN_TYPE)


def _merge(
    module: MirroredModule,
    stored: Mapping[str, Any] | None,
    path: ObjectPath,
    body: Mapping[str, Any],
    *,
    patch: bool,
) -> MergeResult | None:
    if path.evse_uid is not None:
        if module is not MirroredModule.LOCATIONS:
            raise ValueError(f"only locations have EVSEs, not {module}")
        return _merge_into_location(stored, path, body, patch=patch)
    if module is MirroredModule.CDRS and patch:
        raise NotPatchable("CDRs cannot be patched")
    check_ids(module, path, body)
    pushed = _last_updated(body)
    if stored is None:
        if patch:
            raise MissingObject(f"{module} {_name(path)} is not in the mirror")
        return MergeResult(dict(body), pushed)
    if module is MirroredModule.CDRS or pushed < _last_updated(stored):
        return None
    if patch:
        return MergeResult(_patched(stored, body, append_periods=module is MirroredModule.SESSIONS), pushed)
    return MergeResult(dict(body), pushed)


def _merge_into_location(
    stored: Mapping[str, Any] | None, path: ObjectPath, body: Mapping[str, Any], *, patch: bool
) -> MergeResult | None:
    assert path.evse_uid is not None
    if stored is None:
        raise MissingParent(f"location {_name(path)} is not in the mirror")
    # Copy only along the path that changes: the inputs stay as they were, and a push costs no
    # more than the objects it touches (a deep copy of a large Location cost a millisecond).
    location = dict(stored)
    evses: list[Document] = list(location.get("evses") or [])
    evse_at = _position(evses, "uid", path.evse_uid)

    if path.connector_id is None:
        _check_id(body, "uid", path.evse_uid)
        evse_updated = _replace_or_add(
            evses, evse_at, body, patch=patch, what=f"EVSE {path.evse_uid} of location {_name(path)}"
        )
        if evse_updated is None:
            return None
        location["evses"] = evses
        return MergeResult(location, _bump(location, evse_updated))

    if evse_at is None:
        raise MissingParent(f"EVSE {path.evse_uid} of location {_name(path)} is not in the mirror")
    evse = dict(evses[evse_at])
    evses[evse_at] = evse
    location["evses"] = evses
    connectors: list[Document] = list(evse.get("connectors") or [])
    _check_id(body, "id", path.connector_id)
    connector_updated = _replace_or_add(
        connectors,
        _position(connectors, "id", path.connector_id),
        body,
        patch=patch,
        what=f"connector {path.connector_id} of EVSE {path.evse_uid} of location {_name(path)}",
    )
    if connector_updated is None:
        return None
    evse["connectors"] = connectors
    return MergeResult(location, _bump(location, _bump(evse, connector_updated)))


def _replace_or_add(
    items: list[Document], at: int | None, body: Mapping[str, Any], *, patch: bool, what: str
) -> datetime | None:
    """Put ``body`` into ``items`` (in place); its ``last_updated``, or None when stale."""
    pushed = _last_updated(body)
    if at is None:
        if patch:
            raise MissingObject(f"{what} is not in the mirror")
        items.append(dict(body))
    elif pushed < _last_updated(items[at]):
        return None
    else:
        items[at] = _patched(items[at], body) if patch else dict(body)
    return pushed


def _patched(stored: Mapping[str, Any], body: Mapping[str, Any], *, append_periods: bool = False) -> Document:
    """The top-level fields of ``body`` over those of ``stored``; lists are replaced, not merged."""
    merged = dict(stored)
    for field, value in body.items():
        if append_periods and field == "charging_periods":
            # §9.2: a PATCH's periods are appended; absent or empty changes nothing.
            if value:
                merged[field] = [*(merged.get(field) or []), *value]
            continue
        merged[field] = value
    return merged


def _bump(parent: Document, child_updated: datetime) -> datetime:
    """Make ``parent``'s ``last_updated`` at least ``child_updated``; its new value."""
    current = _last_updated(parent)
    if child_updated <= current:
        return current
    parent["last_updated"] = _datetime_text(child_updated)
    return child_updated


def _datetime_text(value: datetime) -> str:
    # format_datetime writes milliseconds; keep finer pushed fractions, so the bumped parent is
    # not a few microseconds older than its child.
    text = format_datetime(value)
    if value.microsecond % 1000:
        text = f"{text.removesuffix('Z').split('.')[0]}.{value.microsecond:06d}Z"
    return text


def _position(items: Sequence[Mapping[str, Any]], field: str, wanted: str) -> int | None:
    # EVSE uids and connector ids are CiStrings.
    for index, item in enumerate(items):
        if str(item.get(field, "")).upper() == wanted.upper():
            return index
    return None


def _check_id(body: Mapping[str, Any], field: str, expected: str) -> None:
    if field in body and str(body[field]).upper() != expected.upper():
        raise IdMismatch(f"{field}: {body[field]!r} differs from the URL's {expected!r}")


def _last_updated(document: Mapping[str, Any]) -> datetime:
    value = document.get("last_updated")
    if not isinstance(value, str):
        raise BadTimestamp(f"last_updated is missing or not a string: {value!r}")
    try:
        return parse_datetime(value)
    except ValueError:
        raise BadTimestamp(f"last_updated: {value!r} is not an OCPI DateTime") from None


def _name(path: ObjectPath) -> str:
    return f"{path.country_code}/{path.party_id}/{path.object_id}"
