"""The matrix: loaded and refused like fixtures, each cell a public fault rule, the default one covering the issue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mockgw.gateway.fault_rules import parse_rule
from mockgw.verdict.default_matrix import DEFAULT_MATRIX_DOCUMENT, default_matrix
from mockgw.verdict.matrix import MATRIX_SCHEMA, MatrixError, cell_rule, load_matrix, parse_matrix

SCHEMAS = Path(__file__).resolve().parents[2] / "mockgw" / "schemas"


def test_the_default_matrix_covers_a_bad_day() -> None:
    cells = {c.name: c for c in default_matrix().cells}
    faults = [(c.fault_type, dict(c.fault or {})) for c in cells.values()]
    assert ("error", {"type": "error", "status": 429, "retry_after": 1}) in faults
    assert any(kind == "error" and f["status"] == 500 for kind, f in faults)
    assert any(kind == "error" and f["status"] == 502 and "<html>" in f["body"] for kind, f in faults)
    twice = cells["unavailable-503-twice"]
    assert (twice.fault or {})["status"] == 503 and twice.call == "all" and twice.times == 2
    assert cells["tpm-rate-limit"].rate_limit == {"tokens_per_minute": 1}
    kinds = {kind for kind, _ in faults}
    assert {"reset", "close", "hang", "latency", "stall", "cut", "cut_mid_event", "malformed"} <= kinds
    assert {"error_event", "no_done", "no_finish_reason", "keepalive", "garbage"} <= kinds
    assert all(c.expect in ("survive", "fail_fast") for c in cells.values())


def test_every_default_cell_is_a_valid_fault_rule() -> None:
    for cell in default_matrix().cells:
        rule = cell_rule(cell)
        if rule is not None:
            assert parse_rule(rule).name == f"verdict-{cell.name}"


def test_where_a_cell_strikes_becomes_the_rule_schedule() -> None:
    matrix = parse_matrix(
        {
            "version": 1,
            "cells": [
                {"name": "a", "fault": {"type": "reset"}},
                {"name": "b", "fault": {"type": "reset"}, "call": "all", "times": 2, "match": {"model": "openai/*"}},
                {"name": "c", "fault": {"type": "reset"}, "call": 3, "expect": "fail_fast", "max_retries": 1},
            ],
        }
    )
    assert [cell_rule(c) for c in matrix.cells] == [
        {"name": "verdict-a", "fault": {"type": "reset"}, "nth": 1},
        {"name": "verdict-b", "fault": {"type": "reset"}, "match": {"model": "openai/*"}, "times": 2},
        {"name": "verdict-c", "fault": {"type": "reset"}, "nth": 3},
    ]
    assert (matrix.cells[2].expect, matrix.cells[2].max_retries, matrix.cells[0].max_retries) == ("fail_fast", 1, 5)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ({"name": "x", "fault": {"type": "cut"}}, "cell 'x', field fault: missing required key 'after_events'"),
        ({"name": "x", "fault": {"type": "error", "status": 700}}, "field fault.status: must be at most 599, got 700"),
        ({"name": "x", "fault": {"type": "reset"}, "expect": "maybe"}, 'field expect: "maybe" is not one of'),
        ({"name": "x", "fault": {"type": "reset"}, "call": "last"}, "cell 'x', field call"),
        ({"name": "x"}, "cell 'x': a cell needs either `fault:` (any fault of docs/faults.md) or `rate_limit:`"),
        ({"name": "has space", "fault": {"type": "reset"}}, "field name"),
    ],
)
def test_a_broken_cell_is_refused_naming_the_cell_and_field(cell: dict[str, object], message: str) -> None:
    with pytest.raises(MatrixError) as caught:
        parse_matrix({"version": 1, "cells": [cell]}, "m.yaml")
    assert str(caught.value).startswith("m.yaml, ")
    assert message in str(caught.value)


def test_duplicate_names_and_wrong_versions_are_refused(tmp_path: Path) -> None:
    with pytest.raises(MatrixError, match="cell 'a', field name: duplicate cell name"):
        parse_matrix({"version": 1, "cells": [{"name": "a", "fault": {"type": "reset"}}] * 2})
    bad = tmp_path / "m.yaml"
    bad.write_text("version: 2\ncells: []\n")
    with pytest.raises(MatrixError, match=r"m\.yaml, field version"):
        load_matrix(bad)
    bad.write_text("cells: [\n")
    with pytest.raises(MatrixError, match="not valid YAML"):
        load_matrix(bad)
    with pytest.raises(MatrixError, match="cannot read the matrix file"):
        load_matrix(tmp_path / "missing.yaml")


def test_the_published_matrix_schema_is_the_one_in_use() -> None:
    published = json.loads((SCHEMAS / "matrix.schema.json").read_text())
    assert published == json.loads(json.dumps(MATRIX_SCHEMA))
    import jsonschema

    jsonschema.Draft202012Validator(published).validate(DEFAULT_MATRIX_DOCUMENT)
