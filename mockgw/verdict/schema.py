"""The JSON Schema of the `--json` verdict report, as data (written to schemas/verdict.schema.json)."""

from __future__ import annotations

from typing import Any

from mockgw.verdict.decide import VERDICTS
from mockgw.verdict.matrix import EXPECTS

_IDS: dict[str, Any] = {"type": "array", "items": {"type": "string"}, "description": "Journal call ids."}

_RUN: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["verdict", "reason", "calls", "exit_code", "duration_s", "timed_out", "session", "journal", "output"],
    "properties": {
        "verdict": {
            "enum": [*VERDICTS, "ok", "broken_baseline"],
            "description": "ok or broken_baseline for the baseline.",
        },
        "reason": {"type": "string"},
        "calls": _IDS,
        "exit_code": {"type": ["integer", "null"], "description": "null when the run was killed at its budget."},
        "duration_s": {"type": "number", "minimum": 0},
        "timed_out": {"type": "boolean"},
        "session": {"type": "string", "description": "The journal session of the run."},
        "journal": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "status", "fault", "completed", "path"],
                "properties": {
                    "id": {"type": "string"},
                    "status": {"type": ["integer", "null"], "description": "null: no answer reached the client."},
                    "fault": {"type": ["string", "null"]},
                    "completed": {"type": "boolean"},
                    "path": {"type": "string"},
                },
            },
        },
        "output": {"type": "string", "description": "The tail of the command's stdout and stderr."},
    },
}

REPORT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://mockgw.dev/schemas/verdict.schema.json",
    "title": "mockgw resilience verdict report",
    "type": "object",
    "additionalProperties": False,
    "required": [
        "version",
        "mockgw",
        "command",
        "matrix",
        "seed",
        "timeout_s",
        "repeat",
        "result",
        "exit_code",
        "baseline",
        "summary",
        "cells",
    ],
    "properties": {
        "version": {"const": 1},
        "mockgw": {"type": "string"},
        "command": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "matrix": {"type": "string", "description": "The matrix file, or <default matrix>."},
        "seed": {"type": "integer"},
        "timeout_s": {"type": "number", "exclusiveMinimum": 0},
        "repeat": {"type": "integer", "minimum": 1},
        "result": {"enum": ["passed", "failed", "broken_baseline"]},
        "exit_code": {"enum": [0, 1, 2]},
        "baseline": {"$ref": "#/$defs/run"},
        "summary": {
            "type": "object",
            "additionalProperties": False,
            "required": ["cells", "passed", "failed", "flaky", "verdicts"],
            "properties": {
                "cells": {"type": "integer", "minimum": 0},
                "passed": {"type": "integer", "minimum": 0},
                "failed": {"type": "integer", "minimum": 0},
                "flaky": {"type": "integer", "minimum": 0},
                "verdicts": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {v: {"type": "integer", "minimum": 1} for v in VERDICTS},
                },
            },
        },
        "cells": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "description", "cell", "expect", "verdict", "passed", "flaky", "reason", "calls"],
                "properties": {
                    "name": {"type": "string"},
                    "description": {"type": "string"},
                    "cell": {
                        "type": "object",
                        "description": "The cell as in the matrix (schemas/matrix.schema.json).",
                    },
                    "expect": {"enum": list(EXPECTS)},
                    "verdict": {"enum": list(VERDICTS)},
                    "passed": {"type": "boolean"},
                    "flaky": {"type": "boolean", "description": "The verdict changed between repeats."},
                    "reason": {"type": "string"},
                    "calls": _IDS,
                    "runs": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/run"}},
                },
            },
        },
        "compare": {
            "type": "object",
            "additionalProperties": False,
            "required": ["previous", "regressions"],
            "properties": {
                "previous": {"type": ["string", "null"]},
                "regressions": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["name", "before", "after", "was_passing"],
                        "properties": {
                            "name": {"type": "string"},
                            "before": {"enum": list(VERDICTS)},
                            "after": {"enum": list(VERDICTS)},
                            "was_passing": {"type": "boolean"},
                        },
                    },
                },
            },
        },
    },
    "$defs": {"run": _RUN},
}
