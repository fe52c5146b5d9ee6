"""Request bodies are read within limits (invoicing.http.jsonbody): what is refused, what is not."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invoicing.batches.schemas import MAX_ITEMS
from invoicing.domain.invoices import MAX_LINES
from invoicing.errors import Unprocessable
from invoicing.http import jsonbody
from invoicing.http.jsonbody import MAX_CONTAINERS, MAX_DEPTH, MAX_INT_DIGITS


def depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    return 0


def refusal(text: str) -> dict[str, Any]:
    with pytest.raises(Unprocessable) as refused:
        jsonbody.parse(text)
    assert (refused.value.loc, refused.value.type) == (["body"], "json_invalid")
    return refused.value.ctx


# Strings full of what the depth scan must skip: brackets, quotes, backslashes, escapes.
tricky_text = st.text(alphabet=st.sampled_from(list('[]{}"\\/u0aé\n\U0001f600\ud800')), max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**19), 10**19) | st.floats(allow_nan=False, allow_infinity=False)
    | tricky_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(tricky_text, children, max_size=3),
    max_leaves=60,
)


@given(json_values, st.booleans())
@settings(max_examples=300)
def test_a_value_is_read_back_exactly_unless_it_nests_too_deep(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    if depth(value) > MAX_DEPTH:
        assert refusal(text)["max_depth"] == MAX_DEPTH
    else:
        assert jsonbody.parse(text) == value


@given(st.integers(1, 3 * MAX_DEPTH), st.sampled_from(["[%s]", '{"k": %s}', '["]", %s]', '{"[\\"{": %s, "a": 1}']))
def test_the_depth_limit_is_exact_for_any_container_and_any_neighbours(levels: int, container: str) -> None:
    text = "0"
    for _ in range(levels):
        text = container % text
    if levels > MAX_DEPTH:
        refusal(text)
    else:
        assert depth(jsonbody.parse(text)) == levels


@pytest.mark.parametrize("text", ['"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["', '"\\\\" ' + "[" * 40, "[" * 100_000,
                                  '{"a":' * 100_000, "[" * 9_000_000])
def test_brackets_in_strings_do_not_count_and_unclosed_ones_do(text: str) -> None:
    if text.startswith('"['):
        assert jsonbody.parse(text).startswith("[")
    else:
        refusal(text)


def test_the_container_limit_admits_the_largest_valid_request_and_no_more() -> None:
    # A batch: the body, its items, and per item the item, its lines and each line
    assert MAX_CONTAINERS >= 2 + MAX_ITEMS * (2 + MAX_LINES)
    assert len(jsonbody.parse(",".join(["{}"] * (MAX_CONTAINERS - 1)).join("[]"))) == MAX_CONTAINERS - 1
    assert refusal(",".join(['{"[": []}'] * (MAX_CONTAINERS // 2)).join("[]"))["max_containers"] == MAX_CONTAINERS


@pytest.mark.parametrize("literal", ["9" * MAX_INT_DIGITS, "-" + "9" * MAX_INT_DIGITS, "0", "-0"])
def test_integers_up_to_the_digit_limit_are_read(literal: str) -> None:
    assert jsonbody.parse(f"[{literal}]") == [int(literal)]


@pytest.mark.parametrize("literal", ["1" + "0" * MAX_INT_DIGITS, "-" + "9" * (MAX_INT_DIGITS + 1), "9" * 4301,
                                     "9" * 5001, "9" * 1_000_000])
def test_longer_integers_are_refused_before_conversion(literal: str) -> None:
    started = time.monotonic()
    assert refusal(f'{{"unit_price": {literal}}}')["max_digits"] == MAX_INT_DIGITS
    assert time.monotonic() - started < 1


@pytest.mark.parametrize("literal", ["1e308", "-1.7976931348623157e308", "1e-400", "0.5", "1" + "0" * 300 + ".0"])
def test_finite_numbers_are_read_as_floats(literal: str) -> None:
    assert jsonbody.parse(literal) == float(literal)


@pytest.mark.parametrize("literal", ["1e999999", "-1e309", "1" + "0" * 400 + ".0", "NaN", "Infinity", "-Infinity",
                                     "[1, NaN]"])
def test_numbers_json_cannot_carry_are_refused(literal: str) -> None:
    assert refusal(literal)["error"]


@pytest.mark.parametrize("text", ["{", "[1,]", '{"a" 1}', "nope", '"unterminated', "[" * 10 + "x", '"\\'])
def test_text_that_is_not_json_is_left_to_powertools(text: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        jsonbody.parse(text)
    assert jsonbody.read(text) is None


def test_duplicate_keys_and_lone_surrogates_are_read_as_json_reads_them() -> None:
    # (pydantic then refuses a lone surrogate in a string field, at its field, with a 422)
    assert jsonbody.parse('{"a": 1, "a": 2, "s": "\\ud800"}') == {"a": 2, "s": "\ud800"}
    assert jsonbody.read("[1]") == jsonbody.Parsed("[1]", [1])
