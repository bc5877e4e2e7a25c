"""The fault registry is the one list of fault types: the schemas, the docs table, parsing and describing follow it."""

from __future__ import annotations

import json
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from mockgw.faults import catalogue as faults
from mockgw.faults.kind import FaultKind
from mockgw.faults.registry import REGISTRY, TABLE_END, TABLE_START, discover, fault_table, kinds_of, schema_of
from mockgw.fixtures.load import fixture_problems
from mockgw.fixtures.schema import FAULT_RULE, FILE_SCHEMA
from mockgw.gateway.fault_rules import rule_issues

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "mockgw" / "schemas"


def branches(one_of: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The per-kind branches of a `oneOf`, by their `type` constant."""
    return {branch["properties"]["type"]["const"]: branch for branch in one_of if "properties" in branch}


def test_the_registry_holds_every_fault_type_once_with_its_declarations() -> None:
    assert set(REGISTRY) >= {  # the types docs/faults.md has always listed (a new file only adds to them)
        "reset", "close", "hang", "garbage", "slow_body",
        "cut", "cut_mid_event", "malformed", "error_event", "no_done", "no_finish_reason", "stall", "keepalive",
        "error", "latency", "fallback",
    }  # fmt: skip
    for kind, cls in REGISTRY.items():
        assert cls.kind == kind and cls.scope in ("connection", "stream", "answer") and cls.description
        assert cls.__module__ == f"mockgw.faults.kinds.{kind}"  # one class in one file, named like its kind


@pytest.mark.parametrize("source", ["package", "fixture.schema.json", "config.schema.json"])
def test_every_kind_has_exactly_its_schema_branch(source: str) -> None:
    if source == "package":
        fixture_one_of, rule = FILE_SCHEMA["$defs"]["fault"]["oneOf"], FAULT_RULE
    else:
        schema = json.loads((SCHEMAS / source).read_text(encoding="utf-8"))
        fixture_one_of = schema["$defs"]["fault"]["oneOf"]
        rule = schema["properties"]["faults"]["items"] if source == "config.schema.json" else FAULT_RULE
    rule_one_of = rule["properties"]["fault"]
    in_fixtures = branches(fixture_one_of)
    assert list(in_fixtures) == list(kinds_of("connection", "stream"))
    assert rule_one_of["oneOf"][0] == {"$ref": "#/$defs/fault"}
    assert list(branches(rule_one_of["oneOf"])) == list(kinds_of("answer"))
    for kind, branch in {**in_fixtures, **branches(rule_one_of["oneOf"])}.items():
        params = REGISTRY[kind].params()
        assert branch["additionalProperties"] is False
        assert set(branch["properties"]) == {"type", *(p.name for p in params)}
        assert set(branch["required"]) == {"type", *(p.name for p in params if p.required)}
        assert branch == json.loads(json.dumps(schema_of(REGISTRY[kind])))


def documented_rows() -> dict[str, set[str]]:
    """docs/faults.md's fault table as {kind: documented parameter names}, read as a user reads it."""
    doc = (REPO / "docs" / "faults.md").read_text(encoding="utf-8")
    table = doc.split(TABLE_START, 1)[1].split(TABLE_END, 1)[0]
    rows: dict[str, set[str]] = {}
    for spec in re.findall(r"^\|[^|]*\| `\{(.*?)\}` \|", table, flags=re.MULTILINE):
        words = [word.strip() for word in spec.split(",")]
        kind = words[0].removeprefix("type: ")
        assert kind not in rows, f"{kind} documented twice"
        rows[kind] = {word.split(":")[0].rstrip("?") for word in words[1:]}
    return rows


def test_docs_table_documents_every_kind_with_its_parameters_and_nothing_else() -> None:
    rows = documented_rows()
    assert set(rows) == set(REGISTRY), "docs/faults.md and the registry disagree: run `make schemas`"
    for kind, documented in rows.items():
        assert documented == {p.name for p in REGISTRY[kind].params()}, kind


def test_docs_table_is_the_generated_one() -> None:
    doc = (REPO / "docs" / "faults.md").read_text(encoding="utf-8")
    assert f"{TABLE_START}\n{fault_table()}{TABLE_END}" in doc


def minimal_spec(cls: type[FaultKind]) -> dict[str, Any]:
    values = {"integer": 3, "number": 1.5, "string": "x", "boolean": True}
    spec: dict[str, Any] = {"type": cls.kind}
    for p in cls.params():
        if p.required:
            spec[p.name] = max(values[p.schema["type"]], p.schema.get("minimum", 0))
    return spec


@pytest.mark.parametrize("kind", list(REGISTRY))
def test_each_kind_parses_from_its_spec_and_describes_back(kind: str) -> None:
    spec = minimal_spec(REGISTRY[kind])
    assert rule_issues({"fault": spec}) == []
    fault = faults.parse_fault(spec)
    assert isinstance(fault, REGISTRY[kind]) and fault.describe() == {**spec, **fault.describe()}
    in_fixture = fixture_problems({"name": "f", "reply": {"fault": spec}}, "f.yaml")
    assert (in_fixture == []) == (REGISTRY[kind].scope != "answer")


def test_an_error_rule_describes_its_own_type_under_error_type() -> None:
    fault = faults.parse_fault({"type": "error", "status": 429, "error_type": "rate_limit_error"})
    assert fault.describe() == {"type": "error", "status": 429, "error_type": "rate_limit_error"}


def test_adding_a_fault_type_is_adding_one_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "extra_kinds"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "drip.py").write_text(
        textwrap.dedent(
            """
            from __future__ import annotations
            from dataclasses import field
            from typing import ClassVar
            from mockgw.core.frozen import frozen
            from mockgw.faults.kind import FaultKind, Scope, param

            @frozen
            class Drip(FaultKind):
                kind: ClassVar[str] = "drip"
                scope: ClassVar[Scope] = "stream"
                description: ClassVar[str] = "one drop every `ms`"
                ms: float = field(metadata=param({"type": "number"}))
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        import extra_kinds

        found = discover(extra_kinds)
    finally:
        sys.modules.pop("extra_kinds", None)
        sys.modules.pop("extra_kinds.drip", None)
    assert list(found) == ["drip"]
    drip = found["drip"]
    assert schema_of(drip)["properties"] == {"type": {"const": "drip"}, "ms": {"type": "number"}}
    assert schema_of(drip)["required"] == ["type", "ms"]
    assert "| stream | `{type: drip, ms}` | one drop every `ms` |" in fault_table(found)
    assert drip.from_spec({"type": "drip", "ms": 2}).describe() == {"type": "drip", "ms": 2}
