"""`@pytest.mark.mockgw_matrix`: one test, once per cell with the cell's fault active, named by the cell."""

from __future__ import annotations

# Imported once here: pytester's in-process runs drop the modules they import (re-importing costs seconds).
import openai  # noqa: F401
import pytest

from tests.support.lean_pytest import LEAN

pytest_plugins = ["pytester"]

MATRIX = """
version: 1
cells:
  - {name: reset-before-headers, fault: {type: reset}}
  - {name: rate-limited-429, fault: {type: error, status: 429, retry_after: 0}}
  - {name: cut-after-3-events, fault: {type: cut, after_events: 3}}
  - {name: tpm-rate-limit, rate_limit: {tokens_per_minute: 1}, expect: fail_fast}
"""

TESTS = """
import openai
import pytest


def ask(retries):
    client = openai.OpenAI(max_retries=retries)
    stream = client.chat.completions.create(
        model="openai/gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)


@pytest.mark.mockgw_matrix("matrix.yaml")
def test_bot(mockgw, mockgw_cell):
    if mockgw_cell.expect == "fail_fast":
        with pytest.raises(openai.RateLimitError):
            ask(retries=0)
        assert mockgw.last_call.error_code == "usage_limit_exceeded"
    elif mockgw_cell.name == "cut-after-3-events":
        with pytest.raises(openai.APIConnectionError):
            ask(retries=2)  # the SDK does not retry a stream cut after the headers
        assert mockgw.last_call.fault == "cut"
    else:
        assert ask(retries=1)
        assert [c.fault for c in mockgw.calls] == [mockgw_cell.fault["type"], None]


@pytest.mark.mockgw_matrix({"version": 1, "cells": [{"name": "inline", "fault": {"type": "close"}}]})
def test_inline(mockgw_cell):
    assert mockgw_cell.name == "inline"


def test_unmarked(mockgw):
    assert mockgw.calls == []
"""


def test_one_outcome_per_cell_with_readable_ids(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", matrix=MATRIX)
    pytester.makepyfile(test_bot=TESTS)
    result = pytester.runpytest_inprocess(
        "-v", "-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=function", *LEAN
    )
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(
        [
            "*test_bot.py::test_bot[[]reset-before-headers[]] PASSED*",
            "*test_bot.py::test_bot[[]rate-limited-429[]] PASSED*",
            "*test_bot.py::test_bot[[]cut-after-3-events[]] PASSED*",
            "*test_bot.py::test_bot[[]tpm-rate-limit[]] PASSED*",
            "*test_bot.py::test_inline[[]inline[]] PASSED*",
            "*test_bot.py::test_unmarked PASSED*",
        ]
    )


def test_the_default_matrix_gives_one_test_per_built_in_cell(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_default="""
import pytest

@pytest.mark.mockgw_matrix
def test_app(mockgw_cell):
    pass
"""
    )
    result = pytester.runpytest_inprocess(
        "--collect-only", "-q", "-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=function", *LEAN
    )
    ids = [line for line in result.stdout.lines if line.startswith("test_default.py::")]
    assert len(ids) == 18
    assert "test_default.py::test_app[rate-limited-429]" in ids
    assert "test_default.py::test_app[no-finish-reason]" in ids


def test_a_broken_matrix_is_reported_at_collection(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", matrix="version: 1\ncells:\n  - {name: x, fault: {type: cut}}\n")
    pytester.makepyfile(
        test_broken="""
import pytest

@pytest.mark.mockgw_matrix("matrix.yaml")
def test_app(mockgw_cell):
    pass
"""
    )
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=function", *LEAN
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*matrix.yaml, cell 'x', field fault: missing required key 'after_events'*"])
