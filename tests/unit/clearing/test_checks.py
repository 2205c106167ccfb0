"""Checking a CDR: what makes a verdict ok, warnings or failed, and what it says about why."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from hub.clearing.checks import Severity, Status, Verdict, check_cdr
from hub.ocpi.v2_2_1.cdrs import CDR
from tests.unit.clearing.builders import D, period, price, session, tariff
from tests.unit.clearing.meters import Meter, signed_data

# The COMBINED tariff (0.75 start, 0.31/kWh, 1.20/h charging, 3.60/h parking, all at 20 % VAT)
# for 15.5 kWh and 1.25 h charging from 09:00, then 0.5 h parking until 10:45.
ENERGY = D("15.5") * D("0.31")
TIME = D("1.25") * D("1.20")
PARKING = D("0.5") * D("3.60")
FIXED = D("0.75")
TOTAL = FIXED + ENERGY + TIME + PARKING  # 8.855
VAT = D("1.20")


def consistent(**changes: Any) -> dict[str, Any]:
    document = session(
        period("2025-01-15T09:00:00Z", energy="15.5", time="1.25"),
        period("2025-01-15T10:15:00Z", parking="0.5"),
        end="2025-01-15T10:45:00Z",
        tariffs=[tariff("combined")],
        total_cost=price("8.86", "10.63"),  # 8.855 and 10.626, rounded
        total_fixed_cost=price("0.75", "0.90"),
        total_energy=D("15.5"),
        total_energy_cost=price("4.81", "5.77"),  # 4.805 and 5.766
        total_time=D("1.75"),
        total_time_cost=price("1.50", "1.80"),
        total_parking_time=D("0.5"),
        total_parking_cost=price("1.80", "2.16"),
    )
    document.update(changes)
    return document


def test_a_consistent_cdr_is_ok() -> None:
    verdict = check_cdr(consistent(), known_token=True, known_location=True)
    assert verdict.status is Status.OK, verdict.describe()
    assert verdict.findings == []
    assert verdict.cost is not None
    assert verdict.cost["total"] == {"excl_vat": float(TOTAL), "incl_vat": float(TOTAL * VAT)}
    assert verdict.describe() == "CDR NL*CPO*CDR1: ok"


def test_a_wrong_total_cost_fails_and_says_by_how_much() -> None:
    verdict = check_cdr(consistent(total_cost=price("8.96", "10.63")))
    assert verdict.status is Status.FAILED
    assert verdict.codes() == ["total_cost_mismatch"]
    message = verdict.findings[0].message
    assert "total_cost.excl_vat is 8.96 EUR" in message
    assert "the tariff gives 8.86 EUR" in message
    assert "+0.10 EUR" in message


@pytest.mark.parametrize(
    ("excl_vat", "status"),
    [
        ("8.86", Status.OK),
        ("8.855", Status.OK),  # rounds half up to 8.86
        ("8.87", Status.OK),  # one cent off: within the tolerance
        ("8.85", Status.OK),
        ("8.88", Status.FAILED),  # two cents off
        ("8.84", Status.FAILED),
    ],
)
def test_total_cost_is_compared_to_the_cent_with_one_cent_tolerance(excl_vat: str, status: Status) -> None:
    assert check_cdr(consistent(total_cost=price(excl_vat, "10.63"))).status is status


def test_a_wrong_total_cost_incl_vat_fails_too() -> None:
    verdict = check_cdr(consistent(total_cost=price("8.86", "10.86")))
    assert verdict.codes() == ["total_cost_mismatch"]
    assert "total_cost.incl_vat" in verdict.findings[0].message


def test_total_energy_that_is_not_the_sum_of_the_periods_fails() -> None:
    verdict = check_cdr(consistent(total_energy=D("16.5")))
    assert verdict.status is Status.FAILED
    assert verdict.codes() == ["total_energy_mismatch"]
    assert "the periods add up to 15.5 kWh" in verdict.findings[0].message


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"total_time": D("2")}, "total_time_mismatch"),
        ({"total_parking_time": D("0.75")}, "total_parking_time_mismatch"),
        ({"total_energy_cost": price("5.81")}, "total_energy_cost_mismatch"),
        ({"total_time_cost": price("1.50", "1.50")}, "total_time_cost_mismatch"),
        ({"total_parking_cost": price("2.80")}, "total_parking_cost_mismatch"),
        ({"total_fixed_cost": price("0")}, "total_fixed_cost_mismatch"),
        ({"total_reservation_cost": price("1")}, "total_reservation_cost_mismatch"),
    ],
)
def test_period_totals_that_disagree_are_warnings(changes: dict[str, Any], code: str) -> None:
    verdict = check_cdr(consistent(**changes))
    assert verdict.status is Status.WARNINGS, verdict.describe()
    assert verdict.codes() == [code]


def test_quantities_are_compared_within_rounding_of_the_periods() -> None:
    # Each period's volume travels with four decimals; a total 0.0004 off is still the same.
    assert check_cdr(consistent(total_energy=D("15.5004"))).status is Status.OK
    assert check_cdr(consistent(total_energy=D("15.502"))).status is Status.FAILED


def test_an_end_before_the_start_fails() -> None:
    verdict = check_cdr(consistent(end_date_time="2025-01-15T08:00:00Z"))
    assert verdict.status is Status.FAILED
    assert "end_before_start" in verdict.codes(Severity.ERROR)
    assert "is before start_date_time 2025-01-15T09:00:00Z" in verdict.describe()


def test_a_period_outside_the_session_fails() -> None:
    verdict = check_cdr(consistent(start_date_time="2025-01-15T09:30:00Z"))
    assert verdict.status is Status.FAILED
    assert "period_outside_session" in verdict.codes(Severity.ERROR)
    assert "charging_periods[0] starts at 2025-01-15T09:00:00Z" in verdict.describe()


def test_periods_out_of_order_are_a_warning_and_still_priced_in_time_order() -> None:
    document = consistent()
    document["charging_periods"].reverse()
    verdict = check_cdr(document)
    assert verdict.status is Status.WARNINGS
    assert verdict.codes() == ["periods_out_of_order"]


def test_unknown_times_are_a_warning() -> None:
    verdict = check_cdr(consistent(start_date_time="1970-1-1T00:00:00Z"))
    assert "times_unknown" in verdict.codes(Severity.WARNING)
    assert "end_before_start" not in verdict.codes()


@pytest.mark.parametrize(
    ("known_token", "known_location", "codes"),
    [
        (False, True, ["unknown_token"]),
        (True, False, ["unknown_location"]),
        (False, False, ["unknown_token", "unknown_location"]),
        (None, None, []),  # not looked up
    ],
)
def test_an_unknown_token_or_location_is_a_warning(
    known_token: bool | None, known_location: bool | None, codes: list[str]
) -> None:
    verdict = check_cdr(consistent(), known_token=known_token, known_location=known_location)
    assert verdict.codes(Severity.WARNING) == codes
    assert verdict.status is (Status.WARNINGS if codes else Status.OK)


def test_an_unknown_token_is_named() -> None:
    verdict = check_cdr(consistent(), known_token=False)
    assert verdict.findings[0].message == "token DE*MSP TOKEN1 (RFID) is not known"


def credit(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": "CDR1-C",
        "credit": True,
        "credit_reference_id": "CDR1",
        "total_cost": price("-8.86", "-10.63"),
    }
    return consistent(**{**fields, **changes})


def test_a_credit_cdr_negates_the_total_and_names_the_cdr_it_credits() -> None:
    verdict = check_cdr(credit())
    assert verdict.status is Status.OK, verdict.describe()


def test_a_credit_cdr_without_a_reference_fails() -> None:
    document = credit()
    del document["credit_reference_id"]
    verdict = check_cdr(document)
    assert verdict.status is Status.FAILED
    assert verdict.codes() == ["credit_without_reference"]
    assert verdict.cdr == "NL*CPO*CDR1-C"
    # A model built without validation is caught the same way.
    model = CDR.model_validate(credit()).model_copy(update={"credit_reference_id": None})
    assert check_cdr(model).codes() == ["credit_without_reference"]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"credit_reference_id": "cdr1-c"}, "credit_references_itself"),
        ({"total_cost": price("8.86", "10.63")}, "credit_not_negative"),
    ],
)
def test_other_credit_mistakes_fail(changes: dict[str, Any], code: str) -> None:
    verdict = check_cdr(credit(**changes))
    assert verdict.status is Status.FAILED
    assert code in verdict.codes(Severity.ERROR)


def test_a_reference_without_credit_is_a_warning() -> None:
    verdict = check_cdr(consistent(credit_reference_id="CDR0"))
    assert verdict.codes() == ["credit_reference_without_credit"]


def test_without_a_tariff_the_cost_is_not_recomputed_and_that_is_a_warning() -> None:
    document = consistent()
    del document["tariffs"]
    verdict = check_cdr(document)
    assert verdict.status is Status.WARNINGS
    assert verdict.codes() == ["tariff_missing"]
    assert verdict.cost is None
    # Passing the tariff in makes the check complete again.
    assert check_cdr(document, tariffs=[tariff("combined")]).status is Status.OK


def test_a_cdr_in_another_currency_than_its_tariff_fails() -> None:
    verdict = check_cdr(consistent(currency="CHF"))
    assert verdict.status is Status.FAILED
    assert verdict.codes() == ["currency_mismatch"]


def test_a_document_that_is_not_a_cdr_fails_with_the_field_named() -> None:
    document = consistent()
    del document["cdr_token"]
    verdict = check_cdr(document)
    assert verdict.status is Status.FAILED
    assert verdict.findings[0].code == "cdr_invalid"
    assert verdict.findings[0].message.startswith("cdr_token:")


def test_a_verdict_is_json_that_reads_back_the_same() -> None:
    verdict = check_cdr(consistent(total_cost=price("9.86", "10.63")), known_token=False)
    stored = json.dumps(verdict.to_json())
    assert Verdict.model_validate(json.loads(stored)) == verdict
    document = json.loads(stored)
    assert document["status"] == "failed"
    assert document["findings"][0] == {
        "code": "unknown_token",
        "severity": "warning",
        "message": "token DE*MSP TOKEN1 (RFID) is not known",
    }
    assert document["cost"]["periods"][1]["lines"][0]["dimension"] == "PARKING_TIME"


def test_a_verdict_reads_as_a_list_of_reasons() -> None:
    verdict = check_cdr(consistent(total_cost=price("9.86", "10.63")), known_token=False)
    lines = verdict.describe().splitlines()
    assert lines[0] == "CDR NL*CPO*CDR1: failed"
    assert lines[1].startswith("  warning unknown_token: ")
    assert lines[2].startswith("  error   total_cost_mismatch: total_cost.excl_vat is 9.86 EUR")


@pytest.fixture(scope="module")
def meter() -> Meter:
    return Meter()


def signed(meter: Meter, *, end_kwh: str = "1036.68", key: str | None = None) -> dict[str, Any]:
    # 1036.68 - 1021.18 = 15.5 kWh, the CDR's total_energy.
    return signed_data(
        meter.record("B", "1021.18", "2025-01-15T09:00:00"),
        meter.record("E", end_kwh, "2025-01-15T10:15:00"),
        public_key=meter.public_key_hex if key is None else key,
    )


def test_valid_signed_meter_values_are_noted_and_keep_the_cdr_ok(meter: Meter) -> None:
    verdict = check_cdr(consistent(signed_data=signed(meter)))
    assert verdict.status is Status.OK, verdict.describe()
    assert verdict.codes(Severity.INFO) == ["signature_valid", "signature_valid"]


def test_a_tampered_signed_value_fails(meter: Meter) -> None:
    document = signed(meter)
    value = document["signed_values"][1]
    value["signed_data"] = value["signed_data"].replace('"RV":1036.68', '"RV":1046.68')
    verdict = check_cdr(consistent(signed_data=document))
    assert verdict.status is Status.FAILED
    assert verdict.codes(Severity.ERROR) == ["signature_invalid"]
    assert "signed value 2 (End)" in verdict.findings[-1].message


def test_a_key_that_is_not_the_meters_fails(meter: Meter) -> None:
    other = Meter(serial="MTR-0002")
    verdict = check_cdr(consistent(signed_data=signed(other)), trusted_keys=[meter.public_key_hex])
    assert verdict.status is Status.FAILED
    assert verdict.codes(Severity.ERROR) == ["signature_wrong_key", "signature_wrong_key"]


def test_unreadable_signed_data_is_a_warning(meter: Meter) -> None:
    document = signed(meter)
    document["signed_values"][0]["signed_data"] = "not a record"
    verdict = check_cdr(consistent(signed_data=document))
    assert verdict.status is Status.WARNINGS
    assert verdict.codes(Severity.WARNING) == ["signature_unreadable"]


def test_signed_readings_that_disagree_with_total_energy_are_a_warning(meter: Meter) -> None:
    verdict = check_cdr(consistent(signed_data=signed(meter, end_kwh="1037.68")))
    assert verdict.codes(Severity.WARNING) == ["signed_energy_mismatch"]
    assert "give 16.50 kWh, total_energy is 15.5 kWh" in verdict.findings[-1].message


def test_signatures_are_not_verified_when_the_caller_says_so_or_the_encoding_is_not_ocmf(
    meter: Meter,
) -> None:
    document = signed(meter)
    document["signed_values"][0]["signed_data"] = "not a record"
    assert check_cdr(consistent(signed_data=document), ocmf=False).findings == []
    other = check_cdr(consistent(signed_data={**document, "encoding_method": "Alfen Eichrecht"}))
    assert other.status is Status.OK
    assert other.codes(Severity.INFO) == ["signed_data_not_verified"]


def test_a_cdr_priced_in_local_time_is_checked_in_local_time() -> None:
    # 21:00Z is 22:00 in Amsterdam: the night rate.
    document = session(
        period("2025-01-15T21:00:00Z", energy="10"),
        end="2025-01-15T22:00:00Z",
        tariffs=[tariff("night")],
        total_energy=Decimal(10),
        total_cost=price(10 * D("0.22"), 10 * D("0.22") * D("1.21")),
    )
    assert check_cdr(document, time_zone="Europe/Amsterdam").status is Status.OK
    assert check_cdr(document).codes() == ["total_cost_mismatch", "total_cost_mismatch"]
