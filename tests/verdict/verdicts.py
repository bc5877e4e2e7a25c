"""Running `mockgw verdict` as a user would: a subprocess, with the reports read back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "resilience"
MATRICES = Path(__file__).resolve().parent / "matrices"
REPORT_SCHEMA = json.loads((ROOT / "mockgw" / "schemas" / "verdict.schema.json").read_text())


def start_verdict(*args: str | Path, cwd: Path = EXAMPLE, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`mockgw verdict ARGS` started in a subprocess; its stdout (the table) and stderr (progress) captured."""
    return subprocess.Popen(
        [sys.executable, "-m", "mockgw", "verdict", *map(str, args)],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    """The outcome of a started `mockgw verdict`, once it has exited (killed after 300 s)."""
    try:
        out, err = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def run_verdict(
    *args: str | Path, cwd: Path = EXAMPLE, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`mockgw verdict ARGS` run to its end in a subprocess."""
    return finish(start_verdict(*args, cwd=cwd, env=env))


def read_report(path: Path) -> dict[str, Any]:
    """The --json report, checked against its published schema."""
    report: dict[str, Any] = json.loads(path.read_text())
    jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(report)
    return report


def verdicts(report: dict[str, Any]) -> dict[str, str]:
    return {cell["name"]: cell["verdict"] for cell in report["cells"]}
