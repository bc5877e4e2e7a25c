"""The fault registry: every fault type, found in `faults/kinds/` (one class in one file), and what derives from it.

Derived here: the registry itself (kind -> class, in the order of `SCOPES`, then by name), each type's JSON Schema
(`schema_of`, the pieces of `faults.schema`) and the fault table of docs/faults.md (`fault_table`, written by
`make schemas` and checked by the tests). Adding a fault type means adding one file to `faults/kinds/`.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from mockgw.faults import kinds
from mockgw.faults.kind import SCOPES, FaultKind, Scope


def discover(package: ModuleType) -> dict[str, type[FaultKind]]:
    """Import every module of `package` (`faults/kinds/`); each holds exactly one fault type, named like the module."""
    found: list[type[FaultKind]] = []
    for module_info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        classes = [
            value
            for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, FaultKind) and value.__module__ == module.__name__
        ]
        if len(classes) != 1 or classes[0].kind != module_info.name:
            raise TypeError(f"{module.__name__} must define one fault type whose kind is {module_info.name!r}")
        found.append(classes[0])
    found.sort(key=lambda cls: (SCOPES.index(cls.scope), cls.kind))
    return {cls.kind: cls for cls in found}


REGISTRY: Mapping[str, type[FaultKind]] = discover(kinds)


def kinds_of(*scopes: Scope) -> tuple[str, ...]:
    """The registered kinds of these scopes, in registry order."""
    return tuple(kind for kind, cls in REGISTRY.items() if cls.scope in scopes)


def schema_of(cls: type[FaultKind]) -> dict[str, Any]:
    """One fault type's JSON Schema: a closed object, `type` the kind's constant, its parameters' schemas."""
    params = cls.params()
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["type", *(p.name for p in params if p.required)],
        "description": cls.description,
        "properties": {"type": {"const": cls.kind}, **{p.name: dict(p.schema) for p in params}},
    }


FAMILIES: Mapping[Scope, str] = {"connection": "connection", "stream": "stream", "answer": "rules only"}


def spec_example(cls: type[FaultKind]) -> str:
    """How the docs table writes a fault: required parameters bare, defaults shown, other optional ones with `?`."""
    words = [f"type: {cls.kind}"]
    for p in cls.params():
        if p.required:
            words.append(p.name)
        elif isinstance(p.default, bool):
            words.append(f"{p.name}: {str(p.default).lower()}")
        elif isinstance(p.default, int | float):
            words.append(f"{p.name}: {p.default:g}")
        else:
            words.append(f"{p.name}?")
    return "{" + ", ".join(words) + "}"


TABLE_START = "<!-- fault table: generated from mockgw/faults/kinds/ by `make schemas`; do not edit by hand -->"
TABLE_END = "<!-- end of the fault table -->"


def fault_table(registry: Mapping[str, type[FaultKind]] = REGISTRY) -> str:
    """The markdown table of every fault type, one row each, grouped by scope (docs/faults.md)."""
    lines = ["| family | `fault:` | what the client sees |", "|---|---|---|"]
    shown: set[Scope] = set()
    for cls in registry.values():
        family = "" if cls.scope in shown else FAMILIES[cls.scope]
        shown.add(cls.scope)
        lines.append(f"| {family} | `{spec_example(cls)}` | {cls.description} |")
    return "\n".join(lines) + "\n"


def with_fault_table(doc: str) -> str:
    """`doc` (the text of docs/faults.md) with the generated table between its markers."""
    head, start, rest = doc.partition(TABLE_START)
    _, end, tail = rest.partition(TABLE_END)
    if not start or not end:
        raise ValueError("docs/faults.md lost the fault table's markers")
    return f"{head}{TABLE_START}\n{fault_table()}{TABLE_END}{tail}"
