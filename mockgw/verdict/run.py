"""The runner: a baseline run of the command, then one run per cell (and repeat), each against its own gateway.

Each run gets a fresh in-process gateway on a free port, with the same settings and seed, whose config carries the
cell's fault as a fault rule (docs/faults.md format). A config rule counts per session and survives session resets,
so a command that is itself a pytest suite using the mockgw plugin (which sees MOCKGW_URL and makes a session per
test) gets the fault too. The command's environment is the one the pytest plugin sets (`MockgwHandle.env()`), under
the journal session `verdict-<cell>-<n>` (URL prefix), plus MOCKGW_URL. A run that outlives `timeout` has its whole
process group killed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from mockgw.core.version import VERSION
from mockgw.gateway.config import CONTROL_TOKEN_ENV, Settings
from mockgw.handle import LocalServer, MockgwHandle
from mockgw.journal.calls import Call, Journal
from mockgw.verdict.decide import Verdict, decide
from mockgw.verdict.evidence import Evidence
from mockgw.verdict.matrix import Cell, Matrix, cell_rule
from mockgw.verdict.report import OUTPUT_TAIL, CellResult, Report, Run, regressions

Progress = Callable[[int, int, CellResult], None]


class KeepingJournal(Journal):
    """The run gateway's journal, which also keeps every call ever appended: the command may clear its sessions
    (the pytest plugin resets a test's session on a shared server after the test), and the verdict needs them all."""

    def __init__(self, limit: int, max_bytes: int) -> None:
        super().__init__(limit, max_bytes)
        self.kept: list[Call | Callable[[], Call]] = []

    def append(self, call: Call | Callable[[], Call], size: int = 0, session: str | None = None) -> None:
        self.kept.append(call)
        super().append(call, size, session)

    def every_call(self) -> list[Call]:
        return [call if isinstance(call, Call) else call() for call in self.kept]


def cell_settings(settings: Settings, cell: Cell | None) -> Settings:
    """The settings of a run's gateway: the user's, plus the cell's fault rule or rate limit."""
    if cell is None:
        return settings
    rule = cell_rule(cell)
    if rule is not None:
        return replace(settings, faults=(*settings.faults, rule))
    return replace(settings, rate_limit={**settings.rate_limit, **(cell.rate_limit or {})})


def _kill_tree(process: subprocess.Popen[bytes]) -> None:
    """Kill the command's process group (it leads its own session), whatever is left of it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def run_command(
    command: Sequence[str], env: Mapping[str, str], timeout: float, cwd: str | None = None
) -> tuple[int | None, float, bool, str]:
    """Run the command with `env` added: (exit code or None, seconds, timed out, output tail)."""
    with tempfile.TemporaryFile() as output:
        started = time.monotonic()
        process = subprocess.Popen(
            list(command),
            env={**os.environ, **env},
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # one process group to kill, grandchildren included
        )
        try:
            code: int | None = process.wait(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            code, timed_out = None, True
        finally:  # also what a finished command left running, and everything when the verdict is interrupted
            duration = time.monotonic() - started
            _kill_tree(process)
        output.seek(0)
        text = output.read().decode("utf-8", "replace")[-OUTPUT_TAIL:]
    return code, duration, timed_out, text


def run_once(
    command: Sequence[str],
    settings: Settings,
    session: str,
    timeout: float,
    cell: Cell | None = None,
    cwd: str | None = None,
) -> Evidence:
    """One run of the command against a gateway of its own, and what its journal saw."""
    server = LocalServer.start(cell_settings(settings, cell))
    journal = KeepingJournal(settings.journal_limit, settings.journal_max_bytes)
    server.gateway.state.journal = journal  # before the command runs: no request has been journaled yet
    try:
        handle = MockgwHandle(server, session)
        env = {**handle.env(), "MOCKGW_URL": server.url, "MOCKGW_VERDICT_CELL": cell.name if cell else "baseline"}
        if server.settings.control_token:  # the command's own mockgw clients (the plugin, export) need it
            env[CONTROL_TOKEN_ENV] = server.settings.control_token
        code, duration, timed_out, output = run_command(command, env, timeout, cwd)
    finally:
        server.close()  # ends what the killed command left open (held, stalled), so that it is journaled too
    return Evidence.of(code, duration, timed_out, [call.as_json() for call in journal.every_call()], output, session)


def baseline_verdict(evidence: Evidence, timeout: float) -> Verdict:
    if evidence.timed_out:
        return Verdict("broken_baseline", f"with no fault, still running after {timeout:g} s (killed)")
    if evidence.exit_code != 0:
        return Verdict("broken_baseline", f"with no fault, exit {evidence.exit_code}")
    made = len(evidence.calls)
    return Verdict("ok", f"exit 0 in {evidence.duration_s:.2f} s, {made} call{'s' * (made != 1)}")


def run_verdict(
    command: Sequence[str],
    matrix: Matrix,
    settings: Settings,
    *,
    timeout: float = 30.0,
    repeat: int = 1,
    previous: Mapping[str, Any] | None = None,
    compared_with: str | None = None,
    progress: Progress | None = None,
    cwd: str | None = None,
) -> Report:
    """The whole verdict: the baseline, then every cell `repeat` times (stops after a broken baseline)."""
    evidence = run_once(command, settings, "verdict-baseline", timeout, cwd=cwd)
    baseline = Run(baseline_verdict(evidence, timeout), evidence)
    report = Report(
        command=tuple(command),
        matrix=matrix.source,
        seed=settings.seed,
        timeout=timeout,
        repeat=repeat,
        baseline=baseline,
        version=VERSION,
    )
    if report.broken_baseline:
        return report
    results = []
    for index, cell in enumerate(matrix.cells, 1):
        runs = []
        for number in range(1, repeat + 1):
            session = f"verdict-{cell.name}" + (f"-{number}" if repeat > 1 else "")
            evidence = run_once(command, settings, session, timeout, cell, cwd)
            runs.append(Run(decide(cell, evidence, timeout), evidence))
        result = CellResult(cell, tuple(runs))
        results.append(result)
        if progress is not None:
            progress(index, len(matrix.cells), result)
    found = regressions(results, previous) if previous is not None else None
    return replace(report, cells=tuple(results), regressions=found, compared_with=compared_with)
