"""Applying OCPI pushes to mirrored documents (hub.mirror.merge), case by case of the spec."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from hub.mirror.merge import (
    BadTimestamp,
    IdMismatch,
    MergeResult,
    MissingObject,
    MissingParent,
    NotPatchable,
    ObjectPath,
    merge_patch,
    merge_put,
)
from hub.ocpi.types import parse_datetime

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ocpi"

Doc = dict[str, Any]

# Times used below, oldest first.
T1 = "2024-03-01T10:00:00Z"
T2 = "2024-03-01T11:00:00Z"
T3 = "2024-03-01T12:00:00Z"
T4 = "2024-03-01T13:00:00Z"


def fixture(name: str) -> Doc:
    document: Doc = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return document


def connector(cid: str, last_updated: str, **fields: Any) -> Doc:
    return {
        "id": cid,
        "standard": "IEC_62196_T2",
        "tariff_ids": ["T1"],
        "last_updated": last_updated,
        **fields,
    }


def evse(uid: str, last_updated: str, *connectors: Doc, **fields: Any) -> Doc:
    return {
        "uid": uid,
        "status": "AVAILABLE",
        "connectors": list(connectors),
        "last_updated": last_updated,
        **fields,
    }


def location(last_updated: str, *evses: Doc, **fields: Any) -> Doc:
    return {
        "country_code": "NL",
        "party_id": "TNM",
        "id": "LOC1",
        "publish": True,
        "name": "Oudegracht",
        "evses": list(evses),
        "last_updated": last_updated,
        **fields,
    }


def stored_location() -> Doc:
    """LOC1 last updated at T2: EVSE-1 (T2, connectors 1 and 2 at T2) and EVSE-2 (T1, connector 1 at T1)."""
    return location(
        T2,
        evse("EVSE-1", T2, connector("1", T2), connector("2", T2)),
        evse("EVSE-2", T1, connector("1", T1)),
    )


LOC = ObjectPath("NL", "TNM", "LOC1")
EVSE1 = ObjectPath("NL", "TNM", "LOC1", evse_uid="EVSE-1")
EVSE3 = ObjectPath("NL", "TNM", "LOC1", evse_uid="EVSE-3")
CONN1 = ObjectPath("NL", "TNM", "LOC1", evse_uid="EVSE-1", connector_id="1")
CONN3 = ObjectPath("NL", "TNM", "LOC1", evse_uid="EVSE-1", connector_id="3")


def applied(result: MergeResult | None) -> MergeResult:
    assert result is not None, "the push was taken as stale"
    return result


def find_evse(document: Doc, uid: str) -> Doc:
    found: list[Doc] = [e for e in document["evses"] if e["uid"] == uid]
    assert len(found) == 1
    return found[0]


# Sessions (helpers)


def session(last_updated: str, *periods: str, **fields: Any) -> Doc:
    return {
        "country_code": "NL",
        "party_id": "TNM",
        "id": "S1",
        "status": "ACTIVE",
        "kwh": 1,
        "charging_periods": [{"start_date_time": start, "dimensions": []} for start in periods],
        "last_updated": last_updated,
        **fields,
    }


SESSION = ObjectPath("NL", "TNM", "S1")


# Locations: PUT


def test_a_new_location_is_stored_as_pushed() -> None:
    body = stored_location()
    result = applied(merge_put("locations", None, LOC, body))
    assert result.document == body
    assert result.last_updated == parse_datetime(T2)


def test_a_location_put_replaces_the_whole_location() -> None:
    body = location(T3, evse("EVSE-9", T3, connector("1", T3)))
    result = applied(merge_put("locations", stored_location(), LOC, body))
    assert result.document == body
    assert result.last_updated == parse_datetime(T3)


def test_an_evse_put_replaces_that_evse_and_bumps_the_location() -> None:
    body = evse("EVSE-1", T3, connector("7", T3), status="CHARGING")
    result = applied(merge_put("locations", stored_location(), EVSE1, body))
    assert find_evse(result.document, "EVSE-1") == body
    assert find_evse(result.document, "EVSE-2") == stored_location()["evses"][1]
    assert [e["uid"] for e in result.document["evses"]] == ["EVSE-1", "EVSE-2"]  # order kept
    assert result.document["last_updated"] == T3
    assert result.last_updated == parse_datetime(T3)


def test_an_evse_put_with_an_unknown_uid_adds_the_evse() -> None:
    body = evse("EVSE-3", T4, connector("1", T4))
    result = applied(merge_put("locations", stored_location(), EVSE3, body))
    assert [e["uid"] for e in result.document["evses"]] == ["EVSE-1", "EVSE-2", "EVSE-3"]
    assert result.document["last_updated"] == T4


def test_an_evse_put_to_a_location_without_evses_adds_the_first() -> None:
    stored = location(T1)
    del stored["evses"]
    result = applied(merge_put("locations", stored, EVSE3, evse("EVSE-3", T2, connector("1", T2))))
    assert [e["uid"] for e in result.document["evses"]] == ["EVSE-3"]


def test_an_evse_uid_in_the_url_matches_whatever_the_case() -> None:
    path = ObjectPath("nl", "tnm", "loc1", evse_uid="evse-1")
    body = evse("Evse-1", T3, connector("1", T3))
    result = applied(merge_put("locations", stored_location(), path, body))
    assert [e["uid"] for e in result.document["evses"]] == ["Evse-1", "EVSE-2"]


def test_an_evse_older_than_its_location_is_applied_without_moving_the_location() -> None:
    """Stale is judged at the EVSE's level: EVSE-2 is at T1, the Location at T2."""
    body = evse("EVSE-2", "2024-03-01T10:30:00Z", connector("1", T1), status="OUTOFORDER")
    result = applied(
        merge_put("locations", stored_location(), ObjectPath("NL", "TNM", "LOC1", "EVSE-2"), body)
    )
    assert find_evse(result.document, "EVSE-2")["status"] == "OUTOFORDER"
    assert result.document["last_updated"] == T2
    assert result.last_updated == parse_datetime(T2)


def test_a_connector_put_replaces_it_and_bumps_its_evse_and_location() -> None:
    body = connector("1", T4, standard="CHADEMO")
    result = applied(merge_put("locations", stored_location(), CONN1, body))
    changed = find_evse(result.document, "EVSE-1")
    assert changed["connectors"] == [body, connector("2", T2)]
    assert changed["last_updated"] == T4
    assert result.document["last_updated"] == T4
    assert find_evse(result.document, "EVSE-2") == stored_location()["evses"][1]
    assert result.last_updated == parse_datetime(T4)


def test_a_connector_put_with_an_unknown_id_adds_the_connector() -> None:
    result = applied(merge_put("locations", stored_location(), CONN3, connector("3", T3)))
    assert [c["id"] for c in find_evse(result.document, "EVSE-1")["connectors"]] == ["1", "2", "3"]
    assert find_evse(result.document, "EVSE-1")["last_updated"] == T3


def test_a_connector_bump_of_the_evse_can_stop_below_the_location() -> None:
    """EVSE-2 (T1) gets a connector at 10:30; the Location (T2) is already later."""
    path = ObjectPath("NL", "TNM", "LOC1", evse_uid="EVSE-2", connector_id="1")
    result = applied(merge_put("locations", stored_location(), path, connector("1", "2024-03-01T10:30:00Z")))
    assert find_evse(result.document, "EVSE-2")["last_updated"] == "2024-03-01T10:30:00Z"
    assert result.document["last_updated"] == T2


def test_a_bump_is_written_as_an_ocpi_datetime_and_compared_as_an_instant() -> None:
    body = evse("EVSE-1", "2024-03-01T14:00:00.5+01:00", connector("1", T3))
    result = applied(merge_put("locations", stored_location(), EVSE1, body))
    assert find_evse(result.document, "EVSE-1")["last_updated"] == "2024-03-01T14:00:00.5+01:00"  # as pushed
    assert result.document["last_updated"] == "2024-03-01T13:00:00.500Z"
    assert result.last_updated == parse_datetime("2024-03-01T13:00:00.500Z")


def test_a_bump_keeps_fractions_finer_than_milliseconds() -> None:
    body = connector("1", "2024-03-01T13:00:00.123456Z")
    result = applied(merge_put("locations", stored_location(), CONN1, body))
    assert result.document["last_updated"] == "2024-03-01T13:00:00.123456Z"
    assert parse_datetime(result.document["last_updated"]) == result.last_updated


# Locations: PATCH


def test_a_location_patch_merges_its_fields_and_keeps_the_evses() -> None:
    result = applied(merge_patch("locations", stored_location(), LOC, {"name": "New", "last_updated": T3}))
    expected = stored_location()
    expected.update(name="New", last_updated=T3)
    assert result.document == expected


def test_a_list_in_a_location_patch_replaces_the_stored_list() -> None:
    patch = {"evses": [evse("EVSE-9", T3, connector("1", T3))], "facilities": ["CAFE"], "last_updated": T3}
    result = applied(merge_patch("locations", stored_location(), LOC, patch))
    assert result.document["evses"] == patch["evses"]
    assert result.document["facilities"] == ["CAFE"]


def test_an_evse_patch_merges_its_fields_and_bumps_the_location() -> None:
    result = applied(
        merge_patch("locations", stored_location(), EVSE1, {"status": "CHARGING", "last_updated": T3})
    )
    changed = find_evse(result.document, "EVSE-1")
    assert changed["status"] == "CHARGING"
    assert changed["connectors"] == stored_location()["evses"][0]["connectors"]
    assert changed["last_updated"] == T3
    assert result.document["last_updated"] == T3
    assert result.last_updated == parse_datetime(T3)


def test_a_connector_patch_replaces_its_tariff_ids_and_bumps_both_parents() -> None:
    patch = {"tariff_ids": ["15"], "last_updated": T4}
    result = applied(merge_patch("locations", stored_location(), CONN1, patch))
    changed = find_evse(result.document, "EVSE-1")
    assert changed["connectors"][0] == connector("1", T4, tariff_ids=["15"])
    assert changed["connectors"][1] == connector("2", T2)
    assert (changed["last_updated"], result.document["last_updated"]) == (T4, T4)


# Stale pushes


@pytest.mark.parametrize(
    ("merge", "path", "body"),
    [
        (merge_put, LOC, location(T1)),
        (merge_patch, LOC, {"name": "old", "last_updated": T1}),
        (merge_put, EVSE1, evse("EVSE-1", T1, connector("1", T1))),
        (merge_patch, EVSE1, {"status": "BLOCKED", "last_updated": T1}),
        (merge_put, CONN1, connector("1", T1)),
        (merge_patch, CONN1, {"max_voltage": 400, "last_updated": T1}),
        # The same instant, written in another zone, one second earlier.
        (merge_patch, LOC, {"name": "old", "last_updated": "2024-03-01T11:59:59+01:00"}),
    ],
    ids=[
        "put-location",
        "patch-location",
        "put-evse",
        "patch-evse",
        "put-connector",
        "patch-connector",
        "offset",
    ],
)
def test_a_push_older_than_the_stored_object_at_its_level_is_ignored(
    merge: Any, path: ObjectPath, body: Doc
) -> None:
    assert merge("locations", stored_location(), path, body) is None


@pytest.mark.parametrize(
    ("merge", "path", "body"),
    [
        (merge_put, LOC, location(T2, name="again")),
        (merge_patch, EVSE1, {"status": "BLOCKED", "last_updated": "2024-03-01T11:00:00.000Z"}),
        (merge_put, CONN1, connector("1", "2024-03-01T12:00:00+01:00")),
    ],
)
def test_a_push_as_recent_as_the_stored_object_is_applied(merge: Any, path: ObjectPath, body: Doc) -> None:
    assert merge("locations", stored_location(), path, body) is not None


def test_a_location_put_older_than_a_bump_from_its_evse_is_ignored() -> None:
    """After an EVSE push at T3 the Location is at T3; a full Location from T2 would undo it."""
    bumped = applied(merge_put("locations", stored_location(), EVSE1, evse("EVSE-1", T3, connector("1", T3))))
    assert merge_put("locations", bumped.document, LOC, location(T2)) is None


# Missing parents and objects


@pytest.mark.parametrize(
    ("merge", "stored", "path", "body", "message"),
    [
        (merge_put, None, EVSE1, evse("EVSE-1", T3), "location NL/TNM/LOC1"),
        (merge_patch, None, EVSE1, {"last_updated": T3}, "location NL/TNM/LOC1"),
        (merge_put, None, CONN1, connector("1", T3), "location NL/TNM/LOC1"),
        (
            merge_put,
            stored_location(),
            ObjectPath("NL", "TNM", "LOC1", "EVSE-9", "1"),
            connector("1", T3),
            "EVSE EVSE-9",
        ),
        (
            merge_patch,
            stored_location(),
            ObjectPath("NL", "TNM", "LOC1", "EVSE-9", "1"),
            {"last_updated": T3},
            "EVSE EVSE-9",
        ),
    ],
)
def test_a_child_of_an_unknown_parent_is_refused(
    merge: Any, stored: Doc | None, path: ObjectPath, body: Doc, message: str
) -> None:
    with pytest.raises(MissingParent, match=message):
        merge("locations", stored, path, body)


@pytest.mark.parametrize(
    ("module", "stored", "path"),
    [
        ("locations", None, LOC),
        ("locations", stored_location(), EVSE3),
        ("locations", stored_location(), CONN3),
        ("sessions", None, ObjectPath("NL", "TNM", "S1")),
        ("tokens", None, ObjectPath("DE", "MSP", "0102")),
        ("tariffs", None, ObjectPath("NL", "TNM", "T1")),
    ],
)
def test_a_patch_of_an_unknown_object_is_refused(module: str, stored: Doc | None, path: ObjectPath) -> None:
    with pytest.raises(MissingObject, match="is not in the mirror"):
        merge_patch(module, stored, path, {"last_updated": T3})


# Ids


@pytest.mark.parametrize(
    ("merge", "module", "stored", "path", "body", "message"),
    [
        (
            merge_put,
            "locations",
            None,
            LOC,
            location(T3, id="LOC2"),
            "id: 'LOC2' differs from the URL's 'LOC1'",
        ),
        (merge_put, "locations", None, LOC, location(T3, country_code="DE"), "country_code: 'DE' differs"),
        (merge_put, "locations", None, LOC, location(T3, party_id="XYZ"), "party_id: 'XYZ' differs"),
        (merge_patch, "locations", stored_location(), LOC, {"id": "LOC2", "last_updated": T3}, "id: 'LOC2'"),
        (
            merge_put,
            "locations",
            stored_location(),
            EVSE1,
            evse("EVSE-2", T3),
            "uid: 'EVSE-2' differs from the URL's 'EVSE-1'",
        ),
        (
            merge_patch,
            "locations",
            stored_location(),
            EVSE1,
            {"uid": "EVSE-2", "last_updated": T3},
            "uid: 'EVSE-2'",
        ),
        (
            merge_put,
            "locations",
            stored_location(),
            CONN1,
            connector("2", T3),
            "id: '2' differs from the URL's '1'",
        ),
        (merge_patch, "locations", stored_location(), CONN1, {"id": "2", "last_updated": T3}, "id: '2'"),
        (merge_put, "sessions", None, SESSION, session(T3, id="S2"), "id: 'S2'"),
        (
            merge_patch,
            "sessions",
            session(T2),
            SESSION,
            {"party_id": "XYZ", "last_updated": T3},
            "party_id: 'XYZ'",
        ),
        (
            merge_put,
            "cdrs",
            None,
            ObjectPath("NL", "TNM", "C1"),
            {"id": "C2", "last_updated": T3},
            "id: 'C2'",
        ),
        (
            merge_put,
            "tariffs",
            None,
            ObjectPath("NL", "TNM", "T1"),
            {"id": "T2", "last_updated": T3},
            "id: 'T2'",
        ),
        (
            merge_put,
            "tokens",
            None,
            ObjectPath("DE", "MSP", "0102"),
            {"uid": "0103", "last_updated": T3},
            "uid: '0103'",
        ),
        (
            merge_put,
            "tokens",
            None,
            ObjectPath("DE", "MSP", "0102"),
            {"uid": "0102", "type": "APP_USER", "last_updated": T3},
            "type: 'APP_USER' differs from the URL's 'RFID'",
        ),
    ],
)
def test_ids_in_the_body_must_match_the_url(
    merge: Any, module: str, stored: Doc | None, path: ObjectPath, body: Doc, message: str
) -> None:
    with pytest.raises(IdMismatch, match=message):
        merge(module, stored, path, body)


def test_ids_that_differ_only_in_case_match() -> None:
    body = location(T3, country_code="nl", party_id="tnm", id="loc1")
    assert merge_put("locations", None, LOC, body) is not None
    token = {"uid": "ab01", "type": "APP_USER", "last_updated": T3}
    assert (
        merge_put("tokens", None, ObjectPath("DE", "MSP", "AB01", token_type="app_user"), token) is not None
    )


# Sessions


def test_a_session_patch_appends_its_charging_periods() -> None:
    stored = session(T2, T1, T2)
    patch = {"kwh": 5, "charging_periods": [{"start_date_time": T3, "dimensions": []}], "last_updated": T3}
    result = applied(merge_patch("sessions", stored, SESSION, patch))
    assert [p["start_date_time"] for p in result.document["charging_periods"]] == [T1, T2, T3]
    assert result.document["kwh"] == 5
    assert result.document["last_updated"] == T3


@pytest.mark.parametrize(
    "patch", [{"kwh": 5}, {"kwh": 5, "charging_periods": []}, {"kwh": 5, "charging_periods": None}]
)
def test_a_session_patch_without_periods_keeps_the_stored_ones(patch: Doc) -> None:
    result = applied(merge_patch("sessions", session(T2, T1, T2), SESSION, {**patch, "last_updated": T3}))
    assert [p["start_date_time"] for p in result.document["charging_periods"]] == [T1, T2]


def test_a_session_put_replaces_the_periods_and_an_empty_list_removes_them() -> None:
    result = applied(merge_put("sessions", session(T2, T1, T2), SESSION, session(T3)))
    assert result.document["charging_periods"] == []
    without = session(T3)
    del without["charging_periods"]
    result = applied(merge_put("sessions", session(T2, T1, T2), SESSION, without))
    assert "charging_periods" not in result.document


def test_a_stale_session_patch_appends_nothing() -> None:
    patch = {"charging_periods": [{"start_date_time": T1, "dimensions": []}], "last_updated": T1}
    assert merge_patch("sessions", session(T2, T1, T2), SESSION, patch) is None


def test_the_fixture_session_takes_a_patch() -> None:
    stored = fixture("session.json")
    patch = {
        "status": "COMPLETED",
        "charging_periods": [{"start_date_time": T4, "dimensions": []}],
        "last_updated": T4,
    }
    path = ObjectPath(stored["country_code"], stored["party_id"], stored["id"])
    result = applied(merge_patch("sessions", stored, path, patch))
    assert len(result.document["charging_periods"]) == len(stored["charging_periods"]) + 1
    assert result.document["status"] == "COMPLETED"


# Tokens and tariffs


def test_a_token_put_replaces_and_a_patch_merges() -> None:
    stored = fixture("token.json")
    path = ObjectPath("DE", "EMS", "04a1b2c3d4e5f6")
    replaced = applied(merge_put("tokens", stored, path, {**stored, "valid": False, "last_updated": T4}))
    assert replaced.document == {**stored, "valid": False, "last_updated": T4}
    patched = applied(merge_patch("tokens", stored, path, {"whitelist": "NEVER", "last_updated": T4}))
    assert patched.document == {**stored, "whitelist": "NEVER", "last_updated": T4}
    assert (
        merge_patch("tokens", stored, path, {"whitelist": "NEVER", "last_updated": "2024-01-01T00:00:00Z"})
        is None
    )


def test_a_tariff_put_replaces_unless_stale() -> None:
    stored = fixture("tariff.json")
    path = ObjectPath(stored["country_code"], stored["party_id"], stored["id"])
    newer = {**stored, "currency": "CHF", "last_updated": "2099-01-01T00:00:00Z"}
    assert applied(merge_put("tariffs", stored, path, newer)).document == newer
    older = {**stored, "currency": "CHF", "last_updated": "2000-01-01T00:00:00Z"}
    assert merge_put("tariffs", stored, path, older) is None


# CDRs


def test_a_cdr_is_stored_once_and_duplicates_are_ignored() -> None:
    cdr = fixture("cdr.json")
    path = ObjectPath(cdr["country_code"], cdr["party_id"], cdr["id"])
    first = applied(merge_put("cdrs", None, path, cdr))
    assert first.document == cdr
    newer = {**cdr, "total_energy": 99, "last_updated": "2099-01-01T00:00:00Z"}
    assert merge_put("cdrs", first.document, path, newer) is None
    assert merge_put("cdrs", first.document, path, cdr) is None


def test_a_cdr_cannot_be_patched() -> None:
    cdr = fixture("cdr.json")
    with pytest.raises(NotPatchable):
        merge_patch("cdrs", cdr, ObjectPath("NL", "HBX", cdr["id"]), {"last_updated": T4})


# Timestamps, paths and purity


@pytest.mark.parametrize("value", [None, 1709287200, "2024-03-01", "yesterday"])
def test_a_push_needs_a_readable_last_updated(value: Any) -> None:
    body = location(T3)
    body["last_updated"] = value
    with pytest.raises(BadTimestamp):
        merge_put("locations", None, LOC, body)
    with pytest.raises(BadTimestamp):
        merge_patch("locations", stored_location(), EVSE1, {"status": "BLOCKED", "last_updated": value})


def test_paths_that_name_no_object_are_refused() -> None:
    with pytest.raises(ValueError, match="evse_uid"):
        ObjectPath("NL", "TNM", "LOC1", connector_id="1")
    with pytest.raises(ValueError, match="only locations"):
        merge_put("sessions", None, ObjectPath("NL", "TNM", "S1", evse_uid="E1"), session(T1))
    with pytest.raises(ValueError, match="not a valid MirroredModule"):
        merge_put("commands", None, LOC, location(T1))


@pytest.mark.parametrize(
    ("merge", "module", "stored", "path", "body"),
    [
        (merge_put, "locations", stored_location(), CONN1, connector("1", T4)),
        (
            merge_patch,
            "locations",
            stored_location(),
            ObjectPath("NL", "TNM", "LOC1", "EVSE-1", "2"),
            {"last_updated": T4},
        ),
        (merge_patch, "locations", stored_location(), LOC, {"evses": [], "last_updated": T4}),
        (
            merge_patch,
            "sessions",
            session(T2, T1),
            SESSION,
            {"charging_periods": [{"x": 1}], "last_updated": T4},
        ),
        (merge_put, "sessions", session(T2, T1), SESSION, session(T4, T3)),
    ],
)
def test_a_merge_changes_neither_input(
    merge: Any, module: str, stored: Doc, path: ObjectPath, body: Doc
) -> None:
    """The result may share the parts it did not change with the inputs (copying whole Locations
    cost a millisecond a push); the inputs themselves are left as they were."""
    stored_before, body_before = copy.deepcopy(stored), copy.deepcopy(body)
    applied(merge(module, stored, path, body))
    assert (stored, body) == (stored_before, body_before)


def _scramble(value: Any) -> None:
    if isinstance(value, dict):
        for key in list(value):
            _scramble(value[key])
            value[key] = "scrambled"
    elif isinstance(value, list):
        for item in value:
            _scramble(item)
        value.append("scrambled")
