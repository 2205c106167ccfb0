"""Detached JWS over canonical JSON: what is signed, and what verifies."""

from __future__ import annotations

import base64
import json
import warnings
from datetime import UTC, datetime
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st
from joserfc import jws
from joserfc.errors import SecurityWarning
from joserfc.jwk import OKPKey

from hub.secrets import TokenCipher, generate_key
from hub.signing.jws import (
    canonical_json,
    parse_body,
    sign_detached,
    sign_detached_bytes,
    verify_detached,
)
from hub.signing.keys import generate, jwks, unseal
from tests.support.json_values import json_values

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CIPHER = TokenCipher(generate_key())
STORED = generate(now=T0, cipher=CIPHER).model_copy(update={"generation": 1})
KEY = unseal(STORED, CIPHER)
JWKS = jwks([STORED])

CDR = {
    "id": "CDR-1",
    "country_code": "NL",
    "party_id": "CPO",
    "total_cost": {"excl_vat": 12.5, "incl_vat": 15.125},
    "total_energy": 20,
    "auth_method": "WHITELIST",
    "cdr_location": {"name": "Parking café ☕"},
    "last_updated": "2025-03-01T12:00:00Z",
}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_the_signature_is_compact_and_detached_with_an_eddsa_header_naming_the_key() -> None:
    protected, payload, signature = sign_detached(CDR, KEY).split(".")
    assert payload == ""
    assert json.loads(b64url_decode(protected)) == {"alg": "EdDSA", "kid": STORED.kid}
    assert len(b64url_decode(signature)) == 64  # an Ed25519 signature


def test_the_signed_input_is_the_header_and_the_canonical_json_of_the_document() -> None:
    """Checked with the raw Ed25519 primitive, as a receiver without a JOSE library would."""
    protected, _, signature = sign_detached(
        {"b": [1, 2.50], "a": "é", "c": {"z": None, "y": True}}, KEY
    ).split(".")
    canonical = b'{"a":"\xc3\xa9","b":[1,2.5],"c":{"y":true,"z":null}}'
    public = Ed25519PublicKey.from_public_bytes(b64url_decode(STORED.public_jwk["x"]))
    public.verify(b64url_decode(signature), f"{protected}.{b64url(canonical)}".encode("ascii"))


def test_a_body_signs_as_its_parsed_document_does() -> None:
    """Ed25519 is deterministic: the same canonical form gives the very same signature."""
    sent = json.dumps(CDR, indent=2).encode()
    assert sign_detached_bytes(sent, KEY) == sign_detached(CDR, KEY)


def test_a_body_verifies_however_it_is_spaced_or_ordered() -> None:
    signature = sign_detached(CDR, KEY)
    reordered = dict(reversed(list(CDR.items())))
    for body in (json.dumps(CDR), json.dumps(reordered, indent=4), json.dumps(CDR, ensure_ascii=False)):
        assert verify_detached(signature, body.encode(), JWKS)


@pytest.mark.parametrize(
    "change",
    [
        {"total_cost": {"excl_vat": 12.51, "incl_vat": 15.125}},
        {"id": "CDR-2"},
        {"extra": None},
    ],
)
def test_a_changed_body_does_not_verify(change: dict[str, Any]) -> None:
    signature = sign_detached(CDR, KEY)
    assert not verify_detached(signature, json.dumps(CDR | change).encode(), JWKS)


def test_a_signature_by_another_key_under_the_same_kid_does_not_verify() -> None:
    other = OKPKey.generate_key("Ed25519", parameters={"kid": STORED.kid})
    assert not verify_detached(sign_detached(CDR, other), json.dumps(CDR).encode(), JWKS)


def test_an_unknown_kid_does_not_verify() -> None:
    later = generate(now=T0, cipher=CIPHER)
    signature = sign_detached(CDR, unseal(later, CIPHER))
    assert not verify_detached(signature, json.dumps(CDR).encode(), JWKS)
    assert verify_detached(signature, json.dumps(CDR).encode(), jwks([STORED, later]))


def test_a_signature_carrying_its_own_payload_vouches_for_nothing_else() -> None:
    """A valid JWS over another document, payload attached, must not pass for this body."""
    protected, _, signature = sign_detached({"id": "other"}, KEY).split(".")
    with_payload = f"{protected}.{b64url(canonical_json({'id': 'other'}))}.{signature}"
    assert not verify_detached(with_payload, json.dumps(CDR).encode(), JWKS)


@pytest.mark.parametrize(
    "signature",
    ["", "..", "not-a-jws", "a..b", "eyJhbGciOiJub25lIn0..", "eyJhbGciOiJIUzI1NiIsImtpZCI6IngifQ..c2ln"],
)
def test_malformed_signatures_do_not_verify(signature: str) -> None:
    assert not verify_detached(signature, json.dumps(CDR).encode(), JWKS)


def test_a_body_that_is_not_json_does_not_verify() -> None:
    assert not verify_detached(sign_detached(CDR, KEY), b"<cdr/>", JWKS)


def test_a_key_without_kid_cannot_sign() -> None:
    with pytest.raises(ValueError, match="kid"):
        sign_detached(CDR, OKPKey.generate_key("Ed25519"))


@pytest.mark.parametrize("value", [float("nan"), 2**60])
def test_values_json_cannot_carry_are_refused(value: float) -> None:
    with pytest.raises(ValueError, match=r"."):
        sign_detached({"x": value}, KEY)


def test_a_body_reads_numbers_as_doubles_as_any_rfc_8785_verifier_does() -> None:
    body = b'{"big": 9007199254740993, "small": 42, "float": 1.50}'
    assert parse_body(body) == {"big": 9007199254740992.0, "small": 42, "float": 1.5}
    assert canonical_json(parse_body(body)) == b'{"big":9007199254740992,"float":1.5,"small":42}'
    assert verify_detached(sign_detached_bytes(body, KEY), body, JWKS)


def test_a_large_cdr_signs_and_verifies() -> None:
    large = CDR | {
        "charging_periods": [{"start_date_time": "2025-03-01T12:00:00Z", "n": n} for n in range(8000)]
    }
    body = json.dumps(large).encode()
    assert len(body) > 128_000
    assert verify_detached(sign_detached_bytes(body, KEY), body, JWKS)


_values = json_values()


@settings(max_examples=60, deadline=None)
@given(document=st.dictionaries(st.text(max_size=8), _values, min_size=1, max_size=5))
def test_any_json_document_verifies_after_a_round_trip_and_canonicalising_is_stable(
    document: dict[str, Any],
) -> None:
    assert canonical_json(parse_body(canonical_json(document))) == canonical_json(document)
    signature = sign_detached(document, KEY)
    assert verify_detached(signature, json.dumps(document, indent=1).encode(), JWKS)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_flipped_byte_of_the_signature_fails(data: st.DataObject) -> None:
    signature = sign_detached(CDR, KEY)
    protected, _, sig = signature.split(".")
    raw = bytearray(b64url_decode(sig))
    index = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
    raw[index] ^= data.draw(st.integers(min_value=1, max_value=255))
    assert not verify_detached(f"{protected}..{b64url(bytes(raw))}", json.dumps(CDR).encode(), JWKS)


@settings(max_examples=400, deadline=None)
@given(document=_values)
def test_the_fast_canonical_form_is_exactly_rfc8785(document: Any) -> None:
    """``canonical_json`` writes most documents with the standard library; byte for byte the same."""
    assert canonical_json(document) == rfc8785.dumps(document)


@pytest.mark.parametrize(
    "document",
    [
        {"a": 1.0, "b": -0.0, "c": 1e20, "d": 1e21, "e": 0.35, "f": 1e-4, "g": 9.99e-5, "h": 123456789.125},
        {"\U0001f600": 1, "\ufb01": 2, "z": [1.5, "\u2028\x7f\x00\n"]},
        {"big": 2**53 - 1, "neg": -(2**53) + 1, "nested": [[{"b": 1, "a": 2}], []]},
    ],
)
def test_the_fast_canonical_form_matches_rfc8785_on_the_edges(document: Any) -> None:
    assert canonical_json(document) == rfc8785.dumps(document)


@settings(max_examples=60, deadline=None)
@given(document=st.dictionaries(st.text(max_size=8), _values, min_size=1, max_size=5))
def test_the_signature_is_the_one_joserfc_makes(document: dict[str, Any]) -> None:
    """Signed without joserfc's header and registry machinery, yet byte for byte its compact value
    (Ed25519 signatures are deterministic), and it verifies with the published key alone."""
    with warnings.catch_warnings():  # joserfc's warning about the name EdDSA (see hub.signing.jws)
        warnings.simplefilter("ignore", SecurityWarning)
        made = jws.serialize_compact(
            {"alg": "EdDSA", "kid": STORED.kid}, canonical_json(document), KEY, algorithms=["EdDSA"]
        )
    assert sign_detached(document, KEY) == jws.detach_content(made)
    protected, _, signature = sign_detached(document, KEY).split(".")
    public = Ed25519PublicKey.from_public_bytes(b64url_decode(STORED.public_jwk["x"]))
    public.verify(
        b64url_decode(signature), f"{protected}.".encode() + b64url(canonical_json(document)).encode()
    )
