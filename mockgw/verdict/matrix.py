"""The resilience matrix: cells of (fault, where it strikes, what the user expects), loaded and checked like fixtures.

A cell's fault is written in the public fault-rule format (docs/faults.md); `cell_rule` turns a cell into that rule,
and `parse_rule` checks it, so every fault mockgw has can go in a matrix and is refused with the same messages.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

from mockgw.core.errors import FixtureError, MockgwError
from mockgw.core.frozen import frozen
from mockgw.fixtures.schema import FAULT_RULE, FILE_SCHEMA
from mockgw.gateway.fault_rules import parse_rule

EXPECTS = ("survive", "fail_fast", "any")
DEFAULT_MAX_RETRIES = 5
RULE_PREFIX = "verdict-"  # the name of a cell's fault rule, as the journal reports it

_CELL_NAME = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"}

CELL: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "oneOf": [{"required": ["fault"]}, {"required": ["rate_limit"]}],
    "description": "One cell: a fault, where it strikes, and what the user expects of the client.",
    "properties": {
        "name": {**_CELL_NAME, "description": "Letters, digits and ._- (it names the test case and the session)."},
        "description": {"type": "string"},
        "fault": {**FAULT_RULE["properties"]["fault"], "description": "Any fault of docs/faults.md."},
        "rate_limit": {
            "$ref": "#/$defs/rate_limit",
            "description": "Instead of a fault: the run's server enforces this rate limit (per key, per minute).",
        },
        "call": {
            "description": "Where the fault strikes: the first matching call, all of them, or the N-th (from 1).",
            "oneOf": [{"enum": ["first", "all"]}, {"type": "integer", "minimum": 1}],
        },
        "times": {"type": "integer", "minimum": 1, "description": "Fire at most this many times (e.g. 503 twice)."},
        "match": {**FAULT_RULE["properties"]["match"], "description": "Only calls these fixture match keys accept."},
        "expect": {"enum": list(EXPECTS), "description": "survive (default) | fail_fast | any."},
        "max_retries": {
            "type": "integer",
            "minimum": 0,
            "description": f"More retries of one request than this is retry abuse (default {DEFAULT_MAX_RETRIES}).",
        },
    },
}

MATRIX_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://mockgw.dev/schemas/matrix.schema.json",
    "title": "mockgw resilience matrix",
    "type": "object",
    "additionalProperties": False,
    "required": ["version", "cells"],
    "properties": {
        "version": {"const": 1},
        "cells": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/cell"}},
    },
    "$defs": {
        "cell": CELL,
        **FILE_SCHEMA["$defs"],
        "rate_limit": {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {
                "requests_per_minute": {"type": "integer", "minimum": 1},
                "tokens_per_minute": {"type": "integer", "minimum": 1},
            },
        },
    },
}


class MatrixError(MockgwError):
    """A matrix file or cell that cannot be used: says where and how to fix it."""

    def __init__(self, source: str, cell: str | None, field_path: str, problem: str) -> None:
        self.source, self.cell, self.field_path, self.problem = source, cell, field_path, problem
        where = (
            source + (f", cell {cell!r}" if cell is not None else "") + (f", field {field_path}" if field_path else "")
        )
        super().__init__(f"{where}: {problem}")


@frozen
class Cell:
    """One cell of the matrix (see CELL for the meaning of each field)."""

    name: str
    fault: Mapping[str, Any] | None = None
    rate_limit: Mapping[str, int] | None = None
    call: str | int = "first"
    times: int | None = None
    match: Mapping[str, Any] | None = None
    expect: str = "survive"
    max_retries: int = DEFAULT_MAX_RETRIES
    description: str = ""

    @property
    def fault_type(self) -> str:
        """The fault's kind (`error`, `cut`, ...) or `rate_limit`."""
        return str(self.fault["type"]) if self.fault is not None else "rate_limit"

    @property
    def retry_after(self) -> float | None:
        """The `Retry-After` the fault sends, in seconds, when it sends one."""
        value = self.fault.get("retry_after") if self.fault is not None else None
        return float(value) if isinstance(value, (int, float)) else None

    def describe(self) -> str:
        """A short summary: the fault and where it strikes."""
        what = ", ".join(f"{k}: {v}" for k, v in (self.fault or self.rate_limit or {}).items())
        where = {"first": "first call", "all": "every call"}.get(str(self.call), f"call {self.call}")
        times = f", at most {self.times}x" if self.times else ""
        return f"{{{what}}} on the {where}{times}" if self.fault else f"rate limit {{{what}}}"

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name}
        for key in ("description", "fault", "rate_limit", "call", "times", "match", "expect", "max_retries"):
            value = getattr(self, key)
            if value is not None and value != "":
                data[key] = dict(value) if isinstance(value, Mapping) else value
        return data


@frozen
class Matrix:
    """The cells, in the order they run."""

    cells: tuple[Cell, ...]
    source: str = "<default matrix>"


def cell_rule(cell: Cell) -> dict[str, Any] | None:
    """The cell's fault as a fault rule (the JSON of `POST /__mockgw/faults`); None for a rate-limit cell."""
    if cell.fault is None:
        return None
    rule: dict[str, Any] = {"name": RULE_PREFIX + cell.name, "fault": dict(cell.fault)}
    if cell.match:
        rule["match"] = dict(cell.match)
    if cell.call == "first":
        rule["nth"] = 1
    elif isinstance(cell.call, int):
        rule["nth"] = cell.call
    if cell.times is not None:
        rule["times"] = cell.times
    return rule


@functools.cache
def _validator() -> Any:
    """Compiled on first use, so that importing mockgw stays fast."""
    return jsonschema_rs.validator_for(MATRIX_SCHEMA)


def _path(parts: list[str | int]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def parse_matrix(document: Any, source: str = "<matrix>") -> Matrix:
    """A matrix document (`version: 1`, `cells: [...]`), checked; raises MatrixError naming the cell and field."""
    if not isinstance(document, Mapping):
        raise MatrixError(source, None, "", "a matrix is a mapping with `version: 1` and `cells:`")
    cells_raw = document.get("cells")
    if isinstance(cells_raw, list):
        for index, raw in enumerate(cells_raw):
            _check_cell_fault(raw, source, index)
    errors = sorted(_validator().iter_errors(document), key=lambda e: (-len(e.instance_path), e.message))
    if errors:
        where = list(errors[0].instance_path)
        label = None
        if len(where) >= 2 and where[0] == "cells" and isinstance(where[1], int):
            raw = cells_raw[where[1]] if isinstance(cells_raw, list) else None
            label = raw.get("name") if isinstance(raw, Mapping) and isinstance(raw.get("name"), str) else f"#{where[1]}"
            where = where[2:]
        raise MatrixError(source, label, _path(where), errors[0].message)
    cells = tuple(_cell(raw) for raw in document["cells"])
    seen: set[str] = set()
    for cell in cells:
        if cell.name in seen:
            raise MatrixError(source, cell.name, "name", "duplicate cell name; names must be unique")
        seen.add(cell.name)
    return Matrix(cells, source)


def _check_cell_fault(raw: Any, source: str, index: int) -> None:
    """A cell's fault checked as the fault rule it becomes: the fault catalogue's precise messages."""
    if not isinstance(raw, Mapping):
        return
    label = raw["name"] if isinstance(raw.get("name"), str) else f"#{index}"
    if ("fault" in raw) == ("rate_limit" in raw):
        problem = "a cell needs either `fault:` (any fault of docs/faults.md) or `rate_limit:`, not both"
        raise MatrixError(source, label, "", problem if "fault" in raw else problem.replace(", not both", ""))
    if not isinstance(raw.get("fault"), Mapping):
        return
    try:
        parse_rule({"name": "cell", "fault": raw["fault"]}, source)
    except FixtureError as exc:
        raise MatrixError(source, label, exc.field_path, exc.problem) from None


def _cell(raw: Mapping[str, Any]) -> Cell:
    return Cell(
        name=raw["name"],
        fault=dict(raw["fault"]) if "fault" in raw else None,
        rate_limit=dict(raw["rate_limit"]) if "rate_limit" in raw else None,
        call=raw.get("call", "first"),
        times=raw.get("times"),
        match=dict(raw["match"]) if "match" in raw else None,
        expect=raw.get("expect", "survive"),
        max_retries=raw.get("max_retries", DEFAULT_MAX_RETRIES),
        description=raw.get("description", ""),
    )


def load_matrix(path: str | Path) -> Matrix:
    """A matrix file (YAML or JSON); raises MatrixError for a missing, unreadable or invalid file."""
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MatrixError(str(path), None, "", f"cannot read the matrix file: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise MatrixError(str(path), None, "", f"not valid YAML: {exc}") from None
    return parse_matrix(document, str(path))
