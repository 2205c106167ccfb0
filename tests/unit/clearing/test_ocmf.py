"""Verifying OCMF records: each outcome from a record a test meter really signed."""

from __future__ import annotations

import base64
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from hub.clearing.ocmf import SignatureOutcome, check_record, check_signed_data, signed_energy_kwh
from hub.ocpi.v2_2_1.cdrs import SignedData
from tests.unit.clearing.meters import Meter, signed_data


@pytest.fixture(scope="module")
def meter() -> Meter:
    return Meter()


@pytest.fixture(scope="module")
def other_meter() -> Meter:
    return Meter(serial="MTR-0002")


def test_a_record_signed_by_the_meter_verifies_with_its_key(meter: Meter) -> None:
    check = check_record(meter.record(kwh="1021.18"), meter.public_key_hex)
    assert check.outcome is SignatureOutcome.VALID, check.message
    assert [(r.reason, r.value, r.unit) for r in check.readings] == [("B", Decimal("1021.18"), "kWh")]
    assert check.spec_warnings == ()


@pytest.mark.parametrize("wrapping", ["text", "base64", "hex"])
@pytest.mark.parametrize("key_encoding", ["hex", "base64"])
def test_records_and_keys_are_read_in_every_encoding_cpos_send(
    meter: Meter, wrapping: str, key_encoding: str
) -> None:
    record = meter.record()
    wrapped = {
        "text": record,
        "base64": base64.b64encode(record.encode()).decode(),
        "hex": record.encode().hex(),
    }[wrapping]
    key = meter.public_key_hex if key_encoding == "hex" else meter.public_key_base64
    assert check_record(wrapped, key).outcome is SignatureOutcome.VALID


def test_a_changed_reading_no_longer_matches_the_signature(meter: Meter) -> None:
    record = meter.record(kwh="1021.18")
    tampered = record.replace('"RV":1021.18', '"RV":1031.18')
    assert tampered != record
    check = check_record(tampered, meter.public_key_hex)
    assert check.outcome is SignatureOutcome.INVALID_SIGNATURE
    assert check.readings == ()  # nothing from an unproven record is used


def test_another_meters_key_does_not_verify_the_signature(meter: Meter, other_meter: Meter) -> None:
    check = check_record(meter.record(), other_meter.public_key_hex)
    assert check.outcome is SignatureOutcome.INVALID_SIGNATURE


def test_a_key_the_caller_does_not_trust_for_this_meter_is_the_wrong_key(
    meter: Meter, other_meter: Meter
) -> None:
    # The record verifies under the key it came with, but that key is not the meter's.
    forged = other_meter.record()
    check = check_record(forged, other_meter.public_key_hex, trusted_keys=[meter.public_key_base64])
    assert check.outcome is SignatureOutcome.WRONG_KEY
    genuine = check_record(meter.record(), meter.public_key_hex, trusted_keys=[meter.public_key_base64])
    assert genuine.outcome is SignatureOutcome.VALID


def test_a_key_on_another_curve_than_the_signature_algorithm_is_the_wrong_key(meter: Meter) -> None:
    p384 = Meter(curve=ec.SECP384R1())
    check = check_record(meter.record(), p384.public_key_hex)
    assert check.outcome is SignatureOutcome.WRONG_KEY
    assert "secp384r1" in check.message


def test_a_key_that_is_not_a_key_is_the_wrong_key(meter: Meter) -> None:
    check = check_record(meter.record(), "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEexample")
    assert check.outcome is SignatureOutcome.WRONG_KEY


@pytest.mark.parametrize(
    "text",
    [
        "MEUCIQDexamplesignature0123456789abcdef==",
        "OCMF|this is not json|{}",
        "OCMF|{}",
        "",
    ],
)
def test_garbage_is_unreadable(meter: Meter, text: str) -> None:
    check = check_record(text, meter.public_key_hex)
    assert check.outcome is SignatureOutcome.UNREADABLE
    assert check.message.startswith("not an OCMF record")


def test_an_algorithm_ocmf_does_not_define_is_unreadable(meter: Meter) -> None:
    record = meter.record().replace("ECDSA-secp256r1-SHA256", "RSA-SHA256")
    check = check_record(record, meter.public_key_hex)
    assert check.outcome is SignatureOutcome.UNREADABLE
    assert check.spec_warnings  # pyocmf's SpecWarning is kept, not raised


def test_signature_data_that_is_not_hex_is_an_invalid_signature(meter: Meter) -> None:
    payload = meter.payload("B", "1021.18", "2025-01-15T09:00:00")
    record = f'OCMF|{payload}|{{"SA":"ECDSA-secp256r1-SHA256","SD":"zz-not-a-signature"}}'
    check = check_record(record, meter.public_key_hex)
    assert check.outcome is SignatureOutcome.INVALID_SIGNATURE


def test_without_a_key_nothing_can_be_verified_unless_the_caller_knows_the_meters_key(meter: Meter) -> None:
    assert check_record(meter.record(), None).outcome is SignatureOutcome.NO_KEY
    trusted = check_record(meter.record(), None, trusted_keys=[meter.public_key_hex])
    assert trusted.outcome is SignatureOutcome.VALID


def test_a_key_appended_to_the_record_is_used_and_noted(meter: Meter) -> None:
    check = check_record(f"{meter.record()}|{meter.public_key_hex}", None)
    assert check.outcome is SignatureOutcome.VALID
    assert any("fourth" in warning for warning in check.spec_warnings)


def test_signed_data_is_checked_value_by_value_with_its_key(meter: Meter) -> None:
    document = signed_data(
        meter.record("B", "1021.18", "2025-01-15T09:00:00"),
        meter.record("E", "1039.60", "2025-01-15T10:00:00"),
        public_key=meter.public_key_base64,
    )
    checks = check_signed_data(SignedData.model_validate(document))
    assert [(c.index, c.nature, c.outcome) for c in checks] == [
        (0, "Start", SignatureOutcome.VALID),
        (1, "End", SignatureOutcome.VALID),
    ]
    assert signed_energy_kwh(checks) == Decimal("1039.60") - Decimal("1021.18")


def test_a_key_on_the_signed_value_comes_before_the_signed_datas_key(
    meter: Meter, other_meter: Meter
) -> None:
    document = signed_data(meter.record(), other_meter.record("E"), public_key=meter.public_key_hex)
    document["signed_values"][1]["public_key"] = other_meter.public_key_hex
    checks = check_signed_data(SignedData.model_validate(document))
    assert [c.outcome for c in checks] == [SignatureOutcome.VALID, SignatureOutcome.VALID]


def test_a_whole_record_in_plain_data_is_verified_when_signed_data_holds_none(meter: Meter) -> None:
    document = signed_data("MEUCIQDexample==", "MEUCIQDexample==", public_key=meter.public_key_hex)
    document["signed_values"][0]["plain_data"] = meter.record()
    checks = check_signed_data(SignedData.model_validate(document))
    assert [c.outcome for c in checks] == [SignatureOutcome.VALID, SignatureOutcome.UNREADABLE]


def test_signed_energy_needs_a_valid_begin_and_end_on_the_same_register(meter: Meter) -> None:
    begin = check_record(meter.record("B", "1021.18"), meter.public_key_hex)
    end = check_record(meter.record("E", "1039.60"), meter.public_key_hex)
    tampered_end = check_record(
        meter.record("E", "1039.60").replace("1039.60", "1049.60"), meter.public_key_hex
    )
    assert signed_energy_kwh([begin, end]) == Decimal("18.42")
    assert signed_energy_kwh([begin]) is None
    assert signed_energy_kwh([begin, tampered_end]) is None
