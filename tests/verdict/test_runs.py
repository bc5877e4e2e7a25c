"""How a run can go wrong: a hanging client (killed at the budget, nothing left behind), a tight-loop retrier, a
flaky one (--repeat), a broken baseline, --compare, a pytest suite as the command, and command-line mistakes."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from tests.support.lean_pytest import LEAN
from tests.verdict.verdicts import read_report, run_verdict, verdicts

CLIENTS = Path(__file__).resolve().parent / "clients"


def _matrix(tmp_path: Path, *cells: str) -> Path:
    path = tmp_path / "matrix.yaml"
    path.write_text("version: 1\ncells:\n" + "".join(f"  - {cell}\n" for cell in cells))
    return path


def _alive(pid: int) -> bool:
    """A process that still runs (a zombie waiting for its parent to reap it does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def test_a_hanging_client_is_hung_and_its_whole_process_tree_is_killed(tmp_path: Path) -> None:
    pids = tmp_path / "workers"
    matrix = _matrix(tmp_path, "{name: hang-before-headers, fault: {type: hang}}")
    report_file = tmp_path / "report.json"
    result = run_verdict(
        "--matrix", matrix, "--timeout", "2", "--json", report_file, "--", sys.executable, CLIENTS / "hanging.py",
        env={"WORKER_PID_FILE": str(pids)},
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    report = read_report(report_file)
    (cell,) = report["cells"]
    run = cell["runs"][0]
    assert (cell["verdict"], run["exit_code"], run["timed_out"]) == ("hung", None, True)
    assert cell["reason"].startswith("still running after 2 s: the process tree was killed; the fault hit call-1")
    assert [c["fault"] for c in run["journal"]] == ["hang"]
    workers = [int(line) for line in pids.read_text().split()]
    assert len(workers) == 2  # the baseline's and the hanging run's
    assert not [pid for pid in workers if _alive(pid)]


def test_a_tight_loop_retrier_is_retry_abuse(tmp_path: Path) -> None:
    matrix = _matrix(
        tmp_path,
        "{name: rate-limited-429, fault: {type: error, status: 429, retry_after: 1}}",
        "{name: outage, fault: {type: error, status: 500}, call: all, times: 8}",
    )
    report_file = tmp_path / "report.json"
    result = run_verdict(
        "--matrix", matrix, "--timeout", "30", "--json", report_file, "--", sys.executable, CLIENTS / "tight_loop.py"
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    report = read_report(report_file)
    assert verdicts(report) == {"rate-limited-429": "retry_abuse", "outage": "retry_abuse"}
    early, storm = report["cells"]
    assert "after call-1 answered 429 with Retry-After: 1" in early["reason"] and early["calls"] == ["call-1", "call-2"]
    assert storm["reason"] == "8 retries of one request after the fault (the cell allows 5)"
    assert len(storm["calls"]) == 9


def test_repeat_marks_a_cell_whose_verdict_changes_as_flaky(tmp_path: Path) -> None:
    matrix = _matrix(tmp_path, "{name: server-error-500, fault: {type: error, status: 500}}")
    report_file = tmp_path / "report.json"
    result = run_verdict(
        "--matrix", matrix, "--repeat", "2", "--json", report_file, "--", sys.executable, CLIENTS / "flaky.py",
        env={"FLAKY_COUNTER": str(tmp_path / "runs")},
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    (cell,) = read_report(report_file)["cells"]
    assert [r["verdict"] for r in cell["runs"]] == ["failed_clean", "survived"]
    assert [r["session"] for r in cell["runs"]] == ["verdict-server-error-500-1", "verdict-server-error-500-2"]
    assert (cell["flaky"], cell["passed"], cell["verdict"]) == (True, False, "failed_clean")
    assert "failed_clean (flaky)" in result.stdout


def test_compare_lists_the_cells_that_got_worse(tmp_path: Path) -> None:
    matrix = _matrix(
        tmp_path,
        "{name: server-error-500, fault: {type: error, status: 500}}",
        "{name: keepalive, fault: {type: keepalive, every_events: 1}}",
    )
    previous = tmp_path / "previous.json"
    previous.write_text(
        json.dumps(
            {
                "cells": [
                    {"name": "server-error-500", "verdict": "survived", "passed": True},
                    {"name": "keepalive", "verdict": "not_exercised", "passed": False},
                ]
            }
        )
    )
    report_file = tmp_path / "report.json"
    command = [sys.executable, "-c", "import openai; openai.OpenAI(max_retries=0).models.list()"]
    result = run_verdict("--matrix", matrix, "--compare", previous, "--json", report_file, "--", *command)
    report = read_report(report_file)
    assert verdicts(report) == {"server-error-500": "failed_clean", "keepalive": "not_exercised"}
    assert report["compare"]["regressions"] == [
        {"name": "server-error-500", "before": "survived", "after": "failed_clean", "was_passing": True}
    ]
    assert f"Worse than {previous}:\n  server-error-500: survived -> failed_clean" in result.stdout
    assert "stream faults only touch streamed answers" in report["cells"][1]["reason"]


def test_a_broken_baseline_stops_with_exit_2_and_shows_the_output(tmp_path: Path) -> None:
    report_file = tmp_path / "report.json"
    markdown = tmp_path / "summary.md"
    command = [sys.executable, "-c", "import os, sys; print('no key?', os.environ['OPENAI_API_KEY']); sys.exit(3)"]
    result = run_verdict("--json", report_file, "--markdown", markdown, "--", *command)
    assert result.returncode == 2
    assert "broken_baseline" in result.stdout and "no key? sk-mockgw-test" in result.stdout
    report = read_report(report_file)
    assert (report["result"], report["exit_code"], report["cells"]) == ("broken_baseline", 2, [])
    assert report["baseline"]["verdict"] == "broken_baseline" and report["baseline"]["exit_code"] == 3
    assert markdown.read_text().startswith("## mockgw verdict: broken baseline")


def test_the_command_gets_the_plugin_environment_under_its_session(tmp_path: Path) -> None:
    script = (
        "import json, os; print(json.dumps({k: v for k, v in os.environ.items() "
        "if k.split('_')[0] in ('EDGEE', 'OPENAI', 'ANTHROPIC', 'MOCKGW')}))"
    )
    report_file = tmp_path / "report.json"
    matrix = _matrix(tmp_path, "{name: reset, fault: {type: reset}}")
    run_verdict("--matrix", matrix, "--json", report_file, "--", sys.executable, "-c", script)
    report = read_report(report_file)
    env = json.loads(report["cells"][0]["runs"][0]["output"])
    root = env["MOCKGW_URL"]
    assert root.startswith("http://127.0.0.1:")
    assert env == {
        "EDGEE_BASE_URL": f"{root}/s/verdict-reset",
        "EDGEE_API_KEY": "sk-mockgw-test",
        "OPENAI_BASE_URL": f"{root}/s/verdict-reset/v1",
        "OPENAI_API_KEY": "sk-mockgw-test",
        "ANTHROPIC_BASE_URL": f"{root}/s/verdict-reset",
        "ANTHROPIC_API_KEY": "sk-mockgw-test",
        "MOCKGW_URL": root,
        "MOCKGW_VERDICT_CELL": "reset",
    }


INNER_TEST = """
import openai


def test_answer(mockgw):
    mockgw.add({"name": "hours", "reply": {"content": "9 to 5"}})
    client = openai.OpenAI(max_retries=2)  # the plugin points OPENAI_BASE_URL at its session
    reply = client.chat.completions.create(model="openai/gpt-4o", messages=[{"role": "user", "content": "open?"}])
    assert reply.choices[0].message.content == "9 to 5"
"""


def test_a_pytest_suite_using_the_plugin_can_be_the_command(tmp_path: Path) -> None:
    (tmp_path / "test_inner.py").write_text(INNER_TEST)
    matrix = _matrix(tmp_path, "{name: reset, fault: {type: reset}}")
    report_file = tmp_path / "report.json"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", *LEAN, "test_inner.py"]
    result = run_verdict("--matrix", matrix, "--json", report_file, "--", *command, cwd=tmp_path)
    report = read_report(report_file)
    assert verdicts(report) == {"reset": "survived"}, result.stdout
    # the plugin made a session per test on the run's gateway (MOCKGW_URL), and the cell's fault reached it
    journal = report["cells"][0]["runs"][0]["journal"]
    assert [(c["status"], c["fault"]) for c in journal] == [(None, "reset"), (200, None)]
    assert "1 passed" in report["cells"][0]["runs"][0]["output"]


def test_command_line_mistakes_exit_2_with_a_message(tmp_path: Path) -> None:
    assert run_verdict().returncode == 2
    assert "give the command to judge after --" in run_verdict().stderr
    bad = _matrix(tmp_path, "{name: x, fault: {type: cut}}")
    result = run_verdict("--matrix", bad, "--", "true")
    assert (
        result.returncode == 2 and f"{bad}, cell 'x', field fault: missing required key 'after_events'" in result.stderr
    )
    missing = run_verdict("--", str(tmp_path / "no-such-program"))
    assert missing.returncode == 2 and "cannot run" in missing.stderr
    assert os.path.exists(bad)
