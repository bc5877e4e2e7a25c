"""The near-miss diff of a request no fixture answered: the closest fixtures, key by key, expected against actual."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def near_misses(call: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The closest fixtures first, each with its failed keys (`key`, `expected`, `actual`) and how many failed."""
    found = []
    for miss in call.get("near_misses") or ():
        if not isinstance(miss, Mapping):
            continue
        rows = [
            {"key": str(m.get("key")), "expected": str(m.get("expected")), "actual": str(m.get("actual"))}
            for m in miss.get("mismatches") or ()
            if isinstance(m, Mapping)
        ]
        found.append({"fixture": miss.get("fixture"), "source": miss.get("source"), "failed": len(rows), "rows": rows})
    return found
