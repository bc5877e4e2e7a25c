"""A CI job in another language reads GET /__mockgw/problems and fails as it should (issue 12, stumble 4).

examples/ci/check.sh (shell and curl) starts a strict `mockgw serve` itself; examples/ci/check.mjs (Node, the npm
`openai` package) runs against one (`MOCKGW_URL`). Each sends one request no fixture scripts: the job fails, naming
the request. With a fixture that answers it, the same job passes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.serve import mockgw_serve

CI = Path(__file__).resolve().parents[2] / "examples" / "ci"
ANSWERED = """
version: 1
fixtures:
  - name: scripted
    match: {last_user_message: nobody scripted this}
    reply: {content: "now somebody did"}
"""
MISS = "unmatched request in strict mode: POST /v1/chat/completions model='openai/gpt-4o'"


def run(command: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, timeout=120, check=False, cwd=CI
    )


@pytest.fixture
def answered(tmp_path: Path) -> Path:
    path = tmp_path / "fixtures.yaml"
    path.write_text(ANSWERED)
    return path


def test_the_shell_job_fails_on_an_unmatched_request() -> None:
    assert shutil.which("curl"), "the CI example needs curl"
    done = run(["sh", "check.sh"], MOCKGW=f"{sys.executable} -m mockgw")
    assert done.returncode == 1, done
    assert "the client got 404" in done.stdout
    assert "mockgw saw problems" in done.stderr
    assert MISS in done.stderr


def test_the_shell_job_passes_when_the_request_is_scripted(answered: Path) -> None:
    done = run(["sh", "check.sh"], MOCKGW=f"{sys.executable} -m mockgw", MOCKGW_ARGS=f"--fixtures {answered}")
    assert (done.returncode, done.stdout.splitlines()) == (0, ["the client got 200", "mockgw saw no problems"]), done


def test_the_node_job_fails_on_an_unmatched_request() -> None:
    assert (CI / "node_modules" / "openai").is_dir(), "run `make test` (it installs the npm openai package)"
    with mockgw_serve("--strict") as url:
        done = run(["node", "check.mjs"], MOCKGW_URL=url)
    assert done.returncode == 1, done
    assert "the client got 404" in done.stdout
    assert done.stderr.startswith(f"mockgw saw 1 problem(s):\n{MISS}")


def test_the_node_job_passes_when_the_request_is_scripted(answered: Path) -> None:
    with mockgw_serve("--strict", "--fixtures", str(answered)) as url:
        done = run(["node", "check.mjs"], MOCKGW_URL=url)
    assert (done.returncode, done.stdout.splitlines()) == (
        0,
        ["the client got: now somebody did", "mockgw saw no problems"],
    ), done
