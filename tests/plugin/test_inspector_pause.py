"""`pytest --mockgw-ui`: a failing test prints the inspector's URL and its server stays up until Enter."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.support.lean_pytest import LEAN

FAILING = """
import openai

def test_agent(mockgw):
    mockgw.add({"name": "greet", "match": {"last_user_message": "hello"}, "reply": {"content": "Hi"}})
    answer = openai.OpenAI(max_retries=0).chat.completions.create(
        model="openai/gpt-4o", messages=[{"role": "user", "content": "hello"}]
    )
    assert answer.choices[0].message.content == "Bye"
"""


def test_a_failing_test_prints_the_inspector_url_and_waits_for_enter(tmp_path: Path) -> None:
    (tmp_path / "test_agent.py").write_text(FAILING)
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", *LEAN, "--mockgw-ui", "-q"]
    run = subprocess.Popen(
        command, cwd=tmp_path, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert run.stdout is not None and run.stdin is not None
    try:
        seen = []
        for line in run.stdout:
            seen.append(line)
            if "mockgw inspector:" in line:
                break
        url = seen[-1].rsplit("mockgw inspector: ", 1)[1].strip()
        assert url.endswith("/__mockgw/ui/"), seen
        # the test has failed, and its server still answers: the page and the failing call are there
        with urllib.request.urlopen(url, timeout=60) as page:
            assert "mockgw inspector" in page.read().decode()
        with urllib.request.urlopen(url + "api/calls", timeout=60) as listed:
            assert b'"fixture": "greet"' in listed.read()
        run.stdin.write("\n")
        run.stdin.flush()
        rest = run.stdout.read()
        assert run.wait(timeout=60) == 1
        assert "1 failed" in rest
    finally:
        if run.poll() is None:
            run.kill()
