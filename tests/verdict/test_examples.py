"""The proof of `mockgw verdict`: the naive and the robust support bots of examples/resilience/ (openai SDK), and
the Node one (npm `openai`), judged as subprocesses; the JUnit XML checked against a JUnit XSD and read back by
junitparser; the JSON checked against its published schema."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import junitparser
import xmlschema

from tests.verdict.verdicts import EXAMPLE, MATRICES, finish, read_report, start_verdict, verdicts

JUNIT_XSD = Path(__file__).resolve().parent / "junit.xsd"

NAIVE = {
    "rate-limited-429": "failed_clean",
    "reset-before-headers": "failed_clean",
    "cut-after-3-events": "failed_clean",
    "no-finish-reason": "accepted_partial",
    "no-done": "accepted_partial",
    "keepalive-comments": "survived",
}
ROBUST = dict.fromkeys(NAIVE, "survived")
CLIENTS = {"naive": (NAIVE, 1), "robust": (ROBUST, 0)}


def test_the_two_bots_part_ways_where_the_issue_says() -> None:
    differ = {cell for cell in NAIVE if NAIVE[cell] != ROBUST[cell]}
    assert {"rate-limited-429", "reset-before-headers", "cut-after-3-events", "no-finish-reason"} <= differ


def start_python_bot(client: str, reports: dict[str, Path]) -> subprocess.Popen[str]:
    """`mockgw verdict` of the naive or the robust bot under clients.yaml, with the three reports."""
    return start_verdict(
        "--matrix", MATRICES / "clients.yaml", "--fixtures", "fixtures.yaml", "--timeout", "20",
        "--json", reports["json"], "--junit", reports["xml"], "--markdown", reports["md"],
        "--", sys.executable, f"{client}.py",
        env={"ROBUST_TIMEOUT": "5"},
    )  # fmt: skip


def check_python_bot(client: str, result: subprocess.CompletedProcess[str], reports: dict[str, Path]) -> None:
    """The verdicts, reports and table of the naive or the robust bot's run."""
    expected, exit_code = CLIENTS[client]
    assert result.returncode == exit_code, result.stdout + result.stderr
    report = read_report(reports["json"])
    assert verdicts(report) == expected, client
    assert report["baseline"]["verdict"] == "ok" and "bot: We are open from 9am" in report["baseline"]["output"]

    # every verdict names the journal calls behind it; a retry shows as a second call of the run's session
    for cell in report["cells"]:
        run = cell["runs"][0]
        assert cell["calls"] and set(cell["calls"]) <= {c["id"] for c in run["journal"]}
        assert run["session"] == f"verdict-{cell['name']}"
    survived = [c for c in report["cells"] if c["verdict"] == "survived" and c["name"] != "keepalive-comments"]
    assert all(len(c["calls"]) == 2 for c in survived)

    # the terminal table: one row per cell, with progress on stderr as the cells ran
    for name, verdict in expected.items():
        assert any(line.startswith(name) and verdict in line for line in result.stdout.splitlines())
    assert f"[{len(expected)}/{len(expected)}] keepalive-comments" in result.stderr

    # JUnit: valid against the XSD, one test case per cell (and the baseline), failures carry the evidence
    xmlschema.XMLSchema(JUNIT_XSD).validate(reports["xml"])
    suite = next(iter(junitparser.JUnitXml.fromfile(str(reports["xml"]))))
    cases = {case.name: case for case in suite}
    assert set(cases) == {"baseline", *expected}
    for name, verdict in expected.items():
        failures = [r for r in cases[name].result if isinstance(r, junitparser.Failure)]
        if verdict == "survived":
            assert not failures
        else:
            (failure,) = failures
            assert failure.type == verdict and failure.message.startswith(f"{verdict} (expected survive)")
            assert "call-1" in failure.text and "session verdict-" in failure.text
    assert suite.failures == sum(v != "survived" for v in expected.values())

    # Markdown for a CI job summary
    markdown = reports["md"].read_text()
    assert markdown.startswith(f"## mockgw verdict: {'passed' if exit_code == 0 else 'failed'}")
    assert f"| no-finish-reason | `{expected['no-finish-reason']}` | survive |" in markdown


NODE = EXAMPLE / "node"
NODE_VERDICTS = {
    "rate-limited-429": "survived",
    "server-error-500": "survived",
    "bad-gateway-html-502": "survived",
    "unavailable-503-twice": "survived",
    "tpm-rate-limit": "hung",  # the SDK waits the minute Retry-After asks for
    "reset-before-headers": "survived",
    "close-before-headers": "survived",
    "hang-before-headers": "survived",  # its timeout covers the wait for headers...
    "slow-first-token": "hung",  # ...but not the stream after them
    "stall-mid-stream": "hung",
    "cut-after-3-events": "failed_clean",
    "cut-mid-event": "failed_clean",
    "malformed-event": "failed_clean",
    "error-event": "failed_clean",
    "no-done": "accepted_partial",
    "no-finish-reason": "accepted_partial",
    "keepalive-comments": "survived",
    "garbage-bytes": "survived",
}


def check_node_bot(result: subprocess.CompletedProcess[str], report_file: Path) -> None:
    """The Node bot's verdicts under the whole default matrix."""
    assert result.returncode == 1, result.stdout + result.stderr
    report = read_report(report_file)
    assert verdicts(report) == NODE_VERDICTS
    assert report["summary"] == {
        "cells": 18,
        "passed": 9,
        "failed": 9,
        "flaky": 0,
        "verdicts": {"hung": 3, "accepted_partial": 2, "failed_clean": 4, "survived": 9},
    }


def test_each_bot_gets_the_verdict_its_code_deserves(tmp_path: Path) -> None:
    """The naive and the robust bots under clients.yaml, and the Node bot under the whole default matrix.

    The three `mockgw verdict` runs go at once: the Node bot's run is mostly waiting (its three hung cells each
    wait out the 5 s timeout), and the Python bots' runs fill that wait."""
    assert (NODE / "node_modules" / "openai").is_dir(), "run `make test` (it installs the npm openai package)"
    reports = {client: {kind: tmp_path / f"{client}.{kind}" for kind in ("json", "xml", "md")} for client in CLIENTS}
    node_report = tmp_path / "node.json"
    runs = {client: start_python_bot(client, reports[client]) for client in sorted(CLIENTS)}
    node = start_verdict(
        "--fixtures", "fixtures.yaml", "--timeout", "5", "--json", node_report, "--", "node", "node/app.mjs",
        env={"NODE_APP_TIMEOUT_MS": "1000"},
    )  # fmt: skip
    try:
        for client, process in runs.items():
            check_python_bot(client, finish(process), reports[client])
        check_node_bot(finish(node), node_report)
    finally:
        for process in [*runs.values(), node]:
            if process.poll() is None:
                process.kill()
                process.wait()
