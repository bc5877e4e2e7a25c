"""`mockgw verdict` with a control token in its config: the command it judges gets MOCKGW_CONTROL_TOKEN, so a
pytest suite using the plugin (remote mode, through MOCKGW_URL) still drives the verdict's gateway."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.support.lean_pytest import LEAN
from tests.verdict.test_runs import INNER_TEST, _matrix
from tests.verdict.verdicts import read_report, run_verdict, verdicts


def test_the_command_gets_the_control_token(tmp_path: Path) -> None:
    (tmp_path / "test_inner.py").write_text(INNER_TEST)
    (tmp_path / "mockgw.yaml").write_text("control_token: ctl-verdict-3\n")
    matrix = _matrix(tmp_path, "{name: reset, fault: {type: reset}}")
    report_file = tmp_path / "report.json"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", *LEAN, "test_inner.py"]
    result = run_verdict(
        "--config", "mockgw.yaml", "--matrix", matrix, "--json", report_file, "--", *command, cwd=tmp_path
    )
    report = read_report(report_file)
    assert verdicts(report) == {"reset": "survived"}, result.stdout  # the plugin's control calls were let in
    assert "1 passed" in report["cells"][0]["runs"][0]["output"]
