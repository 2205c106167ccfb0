"""Verify the OCMF records in a CDR's signed_data, so altered meter values are caught (digest §11).

Each SignedValue's ``signed_data`` holds one OCMF record, ``OCMF|{payload}|{signature}``: as text,
hex, or Base64 of either (OCPI calls the field a Base64 blob, and CPOs send all three); when it
holds none and ``plain_data`` holds a whole record, that one is verified. The key to
verify it with is, in this order: a ``public_key`` on the SignedValue itself (an extension some
CPOs send, one key per meter), the SignedData's ``public_key``, or a key appended to the record as
a fourth section. Parsing and verification are pyocmf's (``OCMF.from_string``,
``PublicKey.from_string``, ``OCMF.verify_signature``); this module only decides what each failure
means. The outcomes:

    valid               the signature matches the payload under the key
    invalid_signature   it does not: the payload or the signature was changed, or made with
                        another key of the same curve (ECDSA cannot tell these apart)
    wrong_key           the key cannot be read, is on another curve than the record's algorithm,
                        or is not one the caller trusts for this meter
    no_key              there is no key to verify with
    unreadable          the text is not an OCMF record, or uses an algorithm OCMF does not define

pyocmf reports input it tolerates but the OCMF spec forbids as ``SpecWarning``s; they are kept
on the result as notes rather than raised or logged.
"""

from __future__ import annotations

import base64
import binascii
import warnings
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pyocmf import (
    OCMF,
    MeterReadingReason,
    PublicKey,
    PyOCMFError,
    SignatureMethod,
    SignatureVerificationError,
    SpecWarning,
)
from pyocmf.enums.reading import is_end_reason

from hub.ocpi.v2_2_1.cdrs import SignedData, SignedValue

ENCODING_METHOD = "OCMF"
_PREFIX = "OCMF|"


class SignatureOutcome(StrEnum):
    VALID = "valid"
    INVALID_SIGNATURE = "invalid_signature"
    WRONG_KEY = "wrong_key"
    NO_KEY = "no_key"
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class SignedReading:
    """One meter reading of a record (OCMF ``RD``), as far as the hub uses it."""

    time: datetime
    reason: str | None  # TX: B begin, C charging, E end, ...
    value: Decimal | None
    unit: str | None
    register: str | None  # RI, an OBIS code


@dataclass(frozen=True)
class RecordCheck:
    """What verifying one SignedValue gave."""

    index: int  # position in signed_values
    nature: str  # the SignedValue's nature: Start, End, Intermediate, ...
    outcome: SignatureOutcome
    message: str
    readings: tuple[SignedReading, ...] = ()
    spec_warnings: tuple[str, ...] = ()


def is_ocmf(signed_data: SignedData) -> bool:
    return signed_data.encoding_method.strip().upper() == ENCODING_METHOD


def check_signed_data(signed_data: SignedData, *, trusted_keys: Collection[str] = ()) -> list[RecordCheck]:
    """Verify every SignedValue of an OCMF ``signed_data``.

    ``trusted_keys`` (hex or Base64 DER) are the keys the caller knows belong to this meter;
    when given, a record signed under any other key is ``wrong_key`` even if its signature holds.
    """
    return [
        check_record(
            _text_of(value),
            _key_for(value, signed_data),
            trusted_keys=trusted_keys,
            index=index,
            nature=value.nature,
        )
        for index, value in enumerate(signed_data.signed_values)
    ]


def check_record(
    text: str,
    public_key: str | None,
    *,
    trusted_keys: Collection[str] = (),
    index: int = 0,
    nature: str = "",
) -> RecordCheck:
    """Verify one OCMF record with ``public_key`` (hex or Base64 DER; None: the appended key)."""

    def outcome(result: SignatureOutcome, message: str) -> RecordCheck:
        readings = _readings(record) if result is SignatureOutcome.VALID and record is not None else ()
        return RecordCheck(index, nature, result, message, readings, spec_notes)

    record, problem, spec_notes = _parse(_record_text(text))
    if record is None:
        return outcome(SignatureOutcome.UNREADABLE, f"not an OCMF record: {problem}")
    algorithm = record.signature.SA
    if not isinstance(algorithm, SignatureMethod):
        return outcome(
            SignatureOutcome.UNREADABLE, f"signature algorithm {algorithm!r} is not one OCMF defines"
        )

    trusted = {key for key in map(_normalised, trusted_keys) if key is not None}
    key_text = public_key if public_key and public_key.strip() else record.embedded_public_key
    if key_text is None:
        if not trusted:
            return outcome(SignatureOutcome.NO_KEY, "there is no public key to verify the signature with")
        candidates = [PublicKey.from_string(key) for key in sorted(trusted)]
    else:
        try:
            key = PublicKey.from_string(key_text)
        except PyOCMFError as error:
            return outcome(SignatureOutcome.WRONG_KEY, f"the public key cannot be read: {error}")
        if trusted and key.key.lower() not in trusted:
            return outcome(
                SignatureOutcome.WRONG_KEY, "signed under a key that is not trusted for this meter"
            )
        candidates = [key]

    matching = [key for key in candidates if key.matches_signature_algorithm(algorithm)]
    if not matching:
        curves = ", ".join(sorted({key.curve.value for key in candidates}))
        return outcome(
            SignatureOutcome.WRONG_KEY, f"the key is on {curves}, the record is signed with {algorithm}"
        )
    for key in matching:
        try:
            if record.verify_signature(key):
                return outcome(SignatureOutcome.VALID, f"signature verified ({algorithm})")
        except SignatureVerificationError as error:
            return outcome(SignatureOutcome.INVALID_SIGNATURE, f"the signature cannot be checked: {error}")
    return outcome(SignatureOutcome.INVALID_SIGNATURE, "the signature does not match the signed payload")


def signed_energy_kwh(checks: Collection[RecordCheck]) -> Decimal | None:
    """Energy between the begin and the end reading of the valid records, in kWh, if both are there.

    Readings are paired on the same register (OBIS code), so an export register is never
    subtracted from an import one.
    """
    readings = [
        reading
        for check in checks
        if check.outcome is SignatureOutcome.VALID
        for reading in check.readings
        if reading.value is not None and reading.unit in ("kWh", "Wh")
    ]
    begin = next((reading for reading in readings if reading.reason == "B"), None)
    if begin is None or begin.value is None:
        return None
    ends = [
        reading
        for reading in readings
        if reading.register == begin.register and reading.unit == begin.unit and _is_end(reading.reason)
    ]
    if not ends or ends[-1].value is None:
        return None
    energy = ends[-1].value - begin.value
    return energy / 1000 if begin.unit == "Wh" else energy


def _is_end(reason: str | None) -> bool:
    known = {member.value: member for member in MeterReadingReason}
    return reason is not None and reason in known and is_end_reason(known[reason])


def _text_of(value: SignedValue) -> str:
    # The record belongs in signed_data; some CPOs put the whole record in plain_data instead.
    if _record_text(value.signed_data).startswith(_PREFIX) or not value.plain_data.strip().startswith(
        _PREFIX
    ):
        return value.signed_data
    return value.plain_data


def _key_for(value: SignedValue, signed_data: SignedData) -> str | None:
    own = (value.model_extra or {}).get("public_key")
    if isinstance(own, str) and own.strip():
        return own
    return signed_data.public_key


def _record_text(value: str) -> str:
    text = value.strip()
    if text.startswith(_PREFIX):
        return text
    # Base64 is decoded here; hex (and anything else) is left to pyocmf.
    try:
        decoded = base64.b64decode(text, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return text
    return decoded.strip() if decoded.strip().startswith(_PREFIX) else text


def _parse(text: str) -> tuple[OCMF | None, str, tuple[str, ...]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SpecWarning)
        try:
            record: OCMF | None = OCMF.from_string(text)
            problem = ""
        except (PyOCMFError, ValueError) as error:
            record, problem = None, str(error)
    notes = []
    for warning in caught:
        if issubclass(warning.category, SpecWarning):
            notes.append(str(warning.message))
        else:  # not ours to swallow
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return record, problem, tuple(notes)


def _normalised(key: str) -> str | None:
    try:
        return PublicKey.from_string(key).key.lower()
    except PyOCMFError:
        return None


def _readings(record: OCMF) -> tuple[SignedReading, ...]:
    return tuple(
        SignedReading(
            time=reading.TM.timestamp,
            reason=None if reading.TX is None else str(reading.TX),
            value=reading.RV,
            unit=None if reading.RU is None else str(reading.RU),
            register=None if reading.RI is None else str(reading.RI),
        )
        for reading in record.payload.RD
    )
