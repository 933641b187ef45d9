"""Index keys: equal JSON values have equal keys, unequal ones never; keys sort like values."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pactstub.state.keys import MAX_KEY_TEXT, field_key, value_key

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=300)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


def json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(json_equal, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def respelt(value: Any) -> Any:
    """An equal value written otherwise: ints as floats where exact, keys in another order."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and abs(value) <= 2**53:
        return float(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [respelt(item) for item in value]
    if isinstance(value, dict):
        return {key: respelt(value[key]) for key in reversed(list(value))}
    return value


@given(json_values)
def test_an_equal_value_written_otherwise_has_the_same_key(value: Any) -> None:
    assert value_key(respelt(value)) == value_key(value)


@given(json_values, json_values)
def test_keys_are_equal_exactly_when_the_values_are(a: Any, b: Any) -> None:
    assert (value_key(a) == value_key(b)) == json_equal(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [(1, "1"), (1, True), (0, False), (None, False), ([], {}), (2**53 + 1, float(2**53)), ("a", "a\u0000")],
)
def test_values_that_look_alike_are_told_apart(a: Any, b: Any) -> None:
    assert value_key(a) != value_key(b)


@given(
    st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**53), 2**53),
)
def test_numbers_sort_by_value(a: float, b: float) -> None:
    if a < b:
        assert value_key(a) < value_key(b)
    elif a == b:
        assert value_key(a) == value_key(b)


@given(
    st.text(max_size=MAX_KEY_TEXT).filter(lambda t: "\x00" not in t),
    st.text(max_size=MAX_KEY_TEXT).filter(lambda t: "\x00" not in t),
)
def test_short_strings_sort_by_code_point(a: str, b: str) -> None:
    try:
        a.encode(), b.encode()
    except UnicodeEncodeError:
        return
    assert (value_key(a) < value_key(b)) == (a.encode() < b.encode())


def test_types_sort_null_booleans_numbers_strings_collections() -> None:
    ordered = [None, False, True, -1e308, -1, 0, 2.5, 10**20, "", "a", [1], {"a": 1}]
    keys = [value_key(value) for value in ordered]
    assert keys == sorted(keys)


@given(json_values)
def test_keys_are_short_text_a_database_stores(value: Any) -> None:
    key = value_key(value)
    assert len(key) <= 2 * MAX_KEY_TEXT
    assert "\x00" not in key
    key.encode("utf-8")  # no lone surrogates


@pytest.mark.parametrize("name", ["id", "", "é", "a\u0000", "\ud800", "#", "x" * 500])
def test_field_keys_are_storable_and_distinct(name: str) -> None:
    key = field_key(name)
    assert "\x00" not in key
    assert len(key) <= 2 * MAX_KEY_TEXT
    key.encode("utf-8")
    assert field_key(name) == key
    assert field_key(name + "x") != key
