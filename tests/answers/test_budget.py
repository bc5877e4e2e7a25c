"""The generation budget: what a client's schema can make mockgw build, and the 400 past it."""

from __future__ import annotations

import random
from typing import Any

import pytest

from mockgw.answers import generate, patterns
from mockgw.answers.budget import Budget, BudgetExceeded, Limits
from mockgw.core import tokens


def _refused(schema: Any, limits: Limits | None = None) -> BudgetExceeded:
    with pytest.raises(BudgetExceeded) as caught:
        generate.satisfying(schema, random.Random(1), budget=Budget(limits))
    return caught.value


def test_a_huge_minimum_is_refused_before_anything_is_built() -> None:
    refused = _refused(
        {"type": "object", "properties": {"xs": {"type": "array", "minItems": 10**9}}, "required": ["xs"]}
    )
    assert refused.path == ("properties", "xs", "minItems")
    error = refused.error()
    assert (error.status, error.code, error.param) == (400, "answer_too_large", "properties.xs.minItems")
    assert "1048576 bytes" in error.message


def test_the_byte_cap_is_configurable() -> None:
    schema = {"type": "string", "minLength": 5000}
    assert len(generate.satisfying(schema, random.Random(1)).value) >= 5000
    assert _refused(schema, Limits(max_bytes=4096)).path == ("minLength",)


def test_a_huge_repeat_count_is_not_expanded_draw_by_draw() -> None:
    value = patterns.sample("^(ab){100000}c$", random.Random(1), max_length=10**6)
    assert value == "ab" * 100000 + "c"
    with pytest.raises(patterns.TooLong):
        patterns.sample("(a{1000}){1000}", random.Random(1), max_length=10**5)


def test_an_upper_bound_gets_a_smaller_valid_value() -> None:
    made = generate.satisfying({"type": "string", "pattern": "^z{0,1000000000}$"}, random.Random(1))
    assert made.warnings == () and len(made.value) <= 3


def test_the_work_cap_ends_few_unique_values_and_recursion() -> None:
    few = _refused({"type": "array", "items": {"enum": [1, 2]}, "uniqueItems": True, "minItems": 100000})
    assert few.path == ("items",)
    assert "values built per answer" in few.error().message
    endless = _refused({"type": "object", "properties": {"next": {"$ref": "#"}}, "required": ["next"]})
    assert endless.error().param.startswith("properties.next")


def test_a_cycle_with_a_way_out_still_generates() -> None:
    tree = {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#"}}}}
    assert isinstance(generate.satisfying(tree, random.Random(1)).value, dict)


def test_long_texts_are_tokenized_in_slices_exactly() -> None:
    rng = random.Random(5)
    text = "".join(rng.choice("ab .,\n\t\u00e9!_9") for _ in range(200_000)) + " " * 70_000 + "end"
    assert tokens.split(text) == tokens._PIECE.findall(text)
    assert tokens.count(text) == len(tokens._PIECE.findall(text))
