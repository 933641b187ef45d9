"""JSON from outside read with limits, JSON from the stub always JSON (``pactstub.jsontext``)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pactstub import jsontext
from pactstub.errors import JsonLimitError

#: how an infinite number and a lone surrogate are refused
BEYOND = "not a finite number ({} or beyond a 64-bit float's range)"
LONE = "a string with a lone surrogate (not Unicode text)"


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


class TestReading:
    def test_a_document_at_the_depth_limit_is_read(self) -> None:
        assert jsontext.loads(nested(jsontext.MAX_DEPTH)) is not None

    @pytest.mark.parametrize("depth", [jsontext.MAX_DEPTH + 1, 100_000])
    def test_a_deeper_one_is_refused_without_parsing(self, depth: int) -> None:
        with pytest.raises(JsonLimitError) as refused:
            jsontext.loads('{"a": ' + nested(depth) + "}")
        assert (refused.value.location, refused.value.message) == ("$", "nested deeper than 256 levels")

    def test_brackets_inside_strings_do_not_count(self) -> None:
        text = json.dumps({"text": "[{" * 10_000})
        assert jsontext.loads(text) == {"text": "[{" * 10_000}

    def test_escaped_quotes_do_not_end_a_string_early(self) -> None:
        text = json.dumps(['\\"' + "[" * 300])
        assert jsontext.loads(text) == ['\\"' + "[" * 300]

    @pytest.mark.parametrize(
        ("text", "location", "message"),
        [
            ('{"tags": [1, NaN]}', "$.tags[1]", "NaN is not a JSON number"),
            (
                '{"a": {"b": Infinity}}',
                "$.a.b",
                "not a finite number (Infinity or beyond a 64-bit float's range)",
            ),
            ('{"x": -Infinity}', "$.x", "not a finite number (-Infinity or beyond a 64-bit float's range)"),
            (
                '{"x": [0, 1e999]}',
                "$.x[1]",
                "not a finite number (Infinity or beyond a 64-bit float's range)",
            ),
            (
                '{"odd key": ["\\ud800"]}',
                "$['odd key'][0]",
                "a string with a lone surrogate (not Unicode text)",
            ),
            ('{"a": {"\\udc00": 1}}', "$.a", "a key with a lone surrogate (not Unicode text)"),
        ],
    )
    def test_values_json_cannot_carry_are_refused_where_they_are(
        self, text: str, location: str, message: str
    ) -> None:
        with pytest.raises(JsonLimitError) as refused:
            jsontext.loads(text)
        assert (refused.value.location, refused.value.message) == (location, message)

    def test_a_surrogate_pair_and_an_escaped_backslash_are_fine(self) -> None:
        assert jsontext.loads('["\\ud83d\\ude00", "\\\\ud800"]') == ["\U0001f600", "\\ud800"]

    def test_refusals_are_value_errors_like_invalid_json(self) -> None:
        for text in ("{", "[NaN]"):
            with pytest.raises(ValueError):  # noqa: PT011 (both kinds are meant)
                jsontext.loads(text)


class TestWriting:
    def test_numbers_that_are_not_finite_are_written_as_their_names(self) -> None:
        text = jsontext.dumps({"a": [math.inf, -math.inf, math.nan, 1.5]})
        assert json.loads(text) == {"a": ["Infinity", "-Infinity", "NaN", 1.5]}

    def test_lone_surrogates_become_the_replacement_character(self) -> None:
        data = jsontext.dumps_bytes({"\udc00": "a\ud800b"})
        assert json.loads(data.decode("utf-8")) == {"\ufffd": "a\ufffdb"}
        assert jsontext.encode_text("x\ud800") == "x\ufffd".encode()

    def test_what_json_has_no_type_for_is_written_as_text(self) -> None:
        assert json.loads(jsontext.dumps({"when": object})) == {"when": str(object)}


#: strings with lone surrogates among them (hypothesis leaves them out of text by default)
strings = st.text(max_size=6) | st.sampled_from(["\ud800", "a\udfffb"])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | strings,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(strings, inner, max_size=4),
    max_leaves=12,
)


@given(json_values)
def test_whatever_is_written_is_json_in_utf_8_that_reads_back(value: Any) -> None:
    text = jsontext.dumps_bytes(value).decode("utf-8")  # strict: no lone surrogate got through
    assert jsontext.loads(text) == json.loads(text, parse_constant=_refuse)


def _refuse(name: str) -> Any:
    raise AssertionError(f"{name} was written")
