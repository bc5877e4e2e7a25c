"""The verdict report as data: one result per cell (with each repeat's run), the baseline, and the comparison.

`Report.as_json()` is the `--json` file, described by REPORT_SCHEMA (schemas/verdict.schema.json).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mockgw.core.frozen import frozen
from mockgw.verdict.decide import RANKING, VERDICTS, Verdict, passes
from mockgw.verdict.evidence import Evidence
from mockgw.verdict.matrix import Cell

OUTPUT_TAIL = 4000  # characters of a run's output kept in the report


@frozen
class Run:
    """One run of the command: its verdict and the evidence behind it."""

    verdict: Verdict
    evidence: Evidence

    def as_json(self) -> dict[str, Any]:
        ev = self.evidence
        return {
            "verdict": self.verdict.verdict,
            "reason": self.verdict.reason,
            "calls": list(self.verdict.calls),
            "exit_code": ev.exit_code,
            "duration_s": ev.duration_s,
            "timed_out": ev.timed_out,
            "session": ev.session,
            "journal": [
                {"id": c.id, "status": c.status, "fault": c.fault, "completed": c.completed, "path": c.path}
                for c in ev.calls
            ],
            "output": ev.output[-OUTPUT_TAIL:],
        }


@frozen
class CellResult:
    """A cell and its runs (one per --repeat); its verdict is the worst of theirs."""

    cell: Cell
    runs: tuple[Run, ...]

    @property
    def verdict(self) -> Verdict:
        return max((r.verdict for r in self.runs), key=lambda v: RANKING.index(v.verdict))

    @property
    def passed(self) -> bool:
        return all(passes(self.cell.expect, r.verdict.verdict) for r in self.runs)

    @property
    def flaky(self) -> bool:
        """The verdict changed from one repeat to another."""
        return len({r.verdict.verdict for r in self.runs}) > 1

    def as_json(self) -> dict[str, Any]:
        verdict = self.verdict
        return {
            "name": self.cell.name,
            "description": self.cell.description,
            "cell": self.cell.as_json(),
            "expect": self.cell.expect,
            "verdict": verdict.verdict,
            "passed": self.passed,
            "flaky": self.flaky,
            "reason": verdict.reason,
            "calls": list(verdict.calls),
            "runs": [r.as_json() for r in self.runs],
        }


@frozen
class Regression:
    """A cell that got worse than in a previous report."""

    name: str
    before: str
    after: str
    was_passing: bool

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "before": self.before, "after": self.after, "was_passing": self.was_passing}


@frozen
class Report:
    """A whole verdict: the command, the baseline, the cells and (with --compare) what got worse."""

    command: tuple[str, ...]
    matrix: str
    seed: int
    timeout: float
    repeat: int
    baseline: Run
    cells: tuple[CellResult, ...] = ()
    regressions: tuple[Regression, ...] | None = None
    compared_with: str | None = None
    version: str = ""

    @property
    def broken_baseline(self) -> bool:
        ev = self.baseline.evidence
        return ev.timed_out or ev.exit_code != 0

    @property
    def passed(self) -> bool:
        return not self.broken_baseline and all(c.passed for c in self.cells)

    @property
    def exit_code(self) -> int:
        """0 when every cell meets its expect, 1 when one does not, 2 for a broken baseline."""
        return 2 if self.broken_baseline else (0 if self.passed else 1)

    def counts(self) -> dict[str, int]:
        found = {v: 0 for v in VERDICTS}
        for cell in self.cells:
            found[cell.verdict.verdict] += 1
        return {v: n for v, n in found.items() if n}

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "version": 1,
            "mockgw": self.version,
            "command": list(self.command),
            "matrix": self.matrix,
            "seed": self.seed,
            "timeout_s": self.timeout,
            "repeat": self.repeat,
            "result": "broken_baseline" if self.broken_baseline else ("passed" if self.passed else "failed"),
            "exit_code": self.exit_code,
            "baseline": self.baseline.as_json(),
            "summary": {
                "cells": len(self.cells),
                "passed": sum(c.passed for c in self.cells),
                "failed": sum(not c.passed for c in self.cells),
                "flaky": sum(c.flaky for c in self.cells),
                "verdicts": self.counts(),
            },
            "cells": [c.as_json() for c in self.cells],
        }
        if self.regressions is not None:
            data["compare"] = {
                "previous": self.compared_with,
                "regressions": [r.as_json() for r in self.regressions],
            }
        return data


def regressions(cells: Sequence[CellResult], previous: Mapping[str, Any]) -> tuple[Regression, ...]:
    """The cells that got worse than in a previous `--json` report: a worse verdict, or passing -> failing."""
    before = {c["name"]: c for c in previous.get("cells", []) if isinstance(c, Mapping) and "name" in c}
    worse = []
    for cell in cells:
        old = before.get(cell.cell.name)
        if old is None or old.get("verdict") not in RANKING:
            continue
        now = cell.verdict.verdict
        was_passing = bool(old.get("passed"))
        if RANKING.index(now) > RANKING.index(old["verdict"]) or (was_passing and not cell.passed):
            worse.append(Regression(cell.cell.name, old["verdict"], now, was_passing))
    return tuple(worse)
