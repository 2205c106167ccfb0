"""A hypothesis strategy for any JSON value within RFC 8785's number range, for property tests."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st


def json_values(*, width: int = 4, key_size: int = 8, max_leaves: int = 12) -> st.SearchStrategy[Any]:
    """null, booleans, safe integers, finite floats, text, and lists and objects of them."""
    return st.recursive(
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(),
        lambda children: (
            st.lists(children, max_size=width)
            | st.dictionaries(st.text(max_size=key_size), children, max_size=width)
        ),
        max_leaves=max_leaves,
    )
