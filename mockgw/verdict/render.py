"""The report as text: a terminal table, JUnit XML (one test case per cell), JSON and Markdown."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from mockgw.verdict.report import CellResult, Report, Run

MARK = {True: "ok", False: "FAIL"}


def progress_line(index: int, total: int, result: CellResult) -> str:
    """One line printed as a cell finishes."""
    flaky = " (flaky)" if result.flaky else ""
    return (
        f"[{index}/{total}] {result.cell.name:<28} {result.verdict.verdict:<17} "
        f"expect {result.cell.expect:<9} {MARK[result.passed]}{flaky}"
    )


def _output_tail(run: Run, lines: int = 20) -> str:
    return "\n".join(run.evidence.output.rstrip().splitlines()[-lines:])


def table(report: Report) -> str:
    """The terminal report: one row per cell, then the totals and what got worse."""
    command = " ".join(report.command)
    if report.broken_baseline:
        ev = report.baseline.evidence
        how = f"was killed after {report.timeout:g} s" if ev.timed_out else f"exited {ev.exit_code}"
        return (
            f"broken_baseline: `{command}` {how} with no fault injected; fix it before judging its resilience.\n"
            f"--- output ---\n{_output_tail(report.baseline, 40)}\n"
        )
    rows = [("cell", "verdict", "expect", "", "calls", "why")]
    for cell in report.cells:
        verdict = cell.verdict
        rows.append(
            (
                cell.cell.name,
                verdict.verdict + (" (flaky)" if cell.flaky else ""),
                cell.cell.expect,
                MARK[cell.passed],
                ",".join(verdict.calls),
                verdict.reason,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(value.ljust(widths[i]) for i, value in enumerate(row[:5])) + "  " + row[5] for row in rows]
    failed = [c for c in report.cells if not c.passed]
    counts = ", ".join(f"{n} {v}" for v, n in report.counts().items())
    lines.append("")
    lines.append(
        f"{len(report.cells) - len(failed)}/{len(report.cells)} cells meet their expect ({counts}); command: {command}"
    )
    if report.regressions:
        lines.append(f"Worse than {report.compared_with}:")
        lines.extend(f"  {r.name}: {r.before} -> {r.after}" for r in report.regressions)
    elif report.regressions is not None:
        lines.append(f"No cell got worse than in {report.compared_with}.")
    return "\n".join(lines) + "\n"


def junit(report: Report) -> str:
    """JUnit XML: one test case per cell (failure text with the evidence), the baseline first."""
    seconds = sum(r.evidence.duration_s for c in report.cells for r in c.runs) + report.baseline.evidence.duration_s
    suite = ET.Element(
        "testsuite",
        name="mockgw verdict",
        tests=str(len(report.cells) + 1),
        failures=str(sum(not c.passed for c in report.cells) + report.broken_baseline),
        errors="0",
        skipped="0",
        time=f"{seconds:.3f}",
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (("command", " ".join(report.command)), ("matrix", report.matrix), ("seed", str(report.seed))):
        ET.SubElement(properties, "property", name=name, value=value)
    base = ET.SubElement(
        suite,
        "testcase",
        classname="mockgw.verdict",
        name="baseline",
        time=f"{report.baseline.evidence.duration_s:.3f}",
    )
    if report.broken_baseline:
        failure = ET.SubElement(base, "failure", message=report.baseline.verdict.reason, type="broken_baseline")
        failure.text = _output_tail(report.baseline, 40)
    for cell in report.cells:
        verdict = cell.verdict
        case = ET.SubElement(
            suite,
            "testcase",
            classname="mockgw.verdict",
            name=cell.cell.name,
            time=f"{sum(r.evidence.duration_s for r in cell.runs):.3f}",
        )
        evidence = _evidence_text(cell)
        if cell.passed:
            ET.SubElement(case, "system-out").text = evidence
        else:
            message = f"{verdict.verdict} (expected {cell.cell.expect}): {verdict.reason}"
            failure = ET.SubElement(case, "failure", message=message, type=verdict.verdict)
            failure.text = evidence
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def _evidence_text(cell: CellResult) -> str:
    lines = [f"fault: {cell.cell.describe()}", f"expect: {cell.cell.expect}"]
    for number, run in enumerate(cell.runs, 1):
        ev = run.evidence
        exit_text = "killed (timed out)" if ev.timed_out else f"exit {ev.exit_code}"
        label = f"run {number}: " if len(cell.runs) > 1 else ""
        lines.append(f"{label}{run.verdict.verdict}: {run.verdict.reason}")
        lines.append(f"  {exit_text} in {ev.duration_s:.2f} s, session {ev.session}")
        for call in ev.calls:
            fault = f" fault={call.fault}" if call.fault else ""
            done = "" if call.completed else " (incomplete)"
            status = call.status if call.status is not None else "no answer"
            lines.append(f"  {call.id}: {call.path} -> {status}{fault}{done}")
        tail = _output_tail(run, 10)
        if tail:
            lines.append("  output:")
            lines.extend(f"    {line}" for line in tail.splitlines())
    return "\n".join(lines)


def as_json(report: Report) -> str:
    return json.dumps(report.as_json(), indent=2) + "\n"


def markdown(report: Report) -> str:
    """A CI job summary: the verdict per cell, with the reasons."""
    command = " ".join(report.command)
    if report.broken_baseline:
        return (
            f"## mockgw verdict: broken baseline\n\n`{command}` fails with no fault injected "
            f"({report.baseline.verdict.reason}).\n\n```text\n{_output_tail(report.baseline, 40)}\n```\n"
        )
    passed = sum(c.passed for c in report.cells)
    title = "passed" if report.passed else "failed"
    lines = [
        f"## mockgw verdict: {title} ({passed}/{len(report.cells)} cells meet their expect)",
        "",
        f"Command: `{command}`, matrix {report.matrix}, seed {report.seed}, {report.timeout:g} s per run"
        + (f", {report.repeat} runs per cell" if report.repeat > 1 else "")
        + ".",
        "",
        "| cell | verdict | expect | | why | calls |",
        "|---|---|---|---|---|---|",
    ]
    for cell in report.cells:
        verdict = cell.verdict
        flaky = " (flaky)" if cell.flaky else ""
        mark = "✅" if cell.passed else "❌"
        reason = verdict.reason.replace("|", "\\|")
        lines.append(
            f"| {cell.cell.name} | `{verdict.verdict}`{flaky} | {cell.cell.expect} | {mark} | {reason} | "
            f"{', '.join(verdict.calls)} |"
        )
    if report.regressions:
        lines += ["", f"**Worse than {report.compared_with}:**", ""]
        lines += [f"- {r.name}: `{r.before}` → `{r.after}`" for r in report.regressions]
    return "\n".join(lines) + "\n"
