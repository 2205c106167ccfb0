from __future__ import annotations

import base64

import pytest

from hub.secrets import (
    TokenCipher,
    authorization_header,
    generate_key,
    header_candidates,
    new_token,
    token_digest,
)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Token ZXhhbXBsZS10b2tlbg==", ["example-token", "ZXhhbXBsZS10b2tlbg=="]),
        ("Token example-token", ["example-token"]),
        ("token   example-token ", ["example-token"]),  # scheme is case-insensitive, spaces tolerated
        ("Bearer example-token", []),
        ("Token ", []),
        ("", []),
        (None, []),
    ],
)
def test_a_token_is_read_base64_decoded_first_then_raw(header: str | None, expected: list[str]) -> None:
    assert header_candidates(header) == expected


def test_a_raw_token_that_happens_to_be_valid_base64_of_garbage_is_only_tried_raw() -> None:
    # "abcd" is valid Base64 of bytes that are not printable UTF-8.
    assert header_candidates("Token abcd") == ["abcd"]


def test_the_authorization_header_is_base64_by_default_and_raw_on_request() -> None:
    assert authorization_header("example-token") == "Token " + base64.b64encode(b"example-token").decode()
    assert authorization_header("example-token", encoding="raw") == "Token example-token"


def test_new_tokens_are_unique_and_fit_the_credentials_token_rules() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(1 <= len(t) <= 64 and all(0x21 <= ord(c) <= 0x7E for c in t) for t in tokens)
    # Sent raw, they are looked up once: they never pass for Base64.
    assert all(header_candidates(f"Token {t}") == [t] for t in tokens)


def test_a_digest_is_stable_and_does_not_contain_the_token() -> None:
    assert token_digest("abc") == token_digest("abc") != token_digest("abd")
    assert "abc" not in token_digest("abc")


def test_sealed_tokens_open_with_the_same_key_only() -> None:
    cipher = TokenCipher(generate_key())
    sealed = cipher.encrypt("party-token-b")
    assert "party-token-b" not in sealed
    assert cipher.decrypt(sealed) == "party-token-b"
    with pytest.raises(ValueError, match="cannot be decrypted"):
        TokenCipher(generate_key()).decrypt(sealed)
