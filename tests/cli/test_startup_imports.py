"""What `mockgw serve` loads before its first answer (issue 17): only what serving needs, so that it starts fast.

Python's import log (PYTHONPROFILEIMPORTTIME) of a real `mockgw serve`, read after an openai client got its answer.
"""

from __future__ import annotations

import re
from pathlib import Path

import openai

from tests.conftest import API_KEY
from tests.support.serve import served

IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)\s*$", re.MULTILINE)

# Test and client libraries, and mockgw's parts that only other commands, recording or the pytest plugin use.
NEVER = (
    "hypothesis",
    "pytest",
    "openai",
    "anthropic",
    "edgee",
    "httpx",
    "langchain_openai",
    "pydantic_ai",
    "mockgw.plugin",
    "mockgw.handle",
    "mockgw.fixtures.lint",
    "mockgw.record.review",
    "mockgw.record.drift",
    "mockgw.server.proxy",
    "mockgw.server.drift_probe",
    "mockgw.record.cassette",  # the export's and recording's (server/proxy.py)
    "mockgw.record.capture",
    "mockgw.record.derive",
    "mockgw.ui",  # the inspector's pure parts, imported by its handlers
)
# Standard modules only a rarer path needs, imported there (each cost start-up time when imported up front): time
# zones (the current-time edge tool), ctypes (giving memory back after a reset), difflib ("did you mean" in
# errors), importlib.resources' readers and zipfile (package data is read with its loader), the idna codec (the
# loop resolving the listen address: an IP literal is bound directly).
LAZY = (
    "zoneinfo",
    "ctypes",
    "difflib",
    "importlib.resources",
    "zipfile",
    "encodings.idna",
)
VERDICT_PARSER = {"mockgw.verdict", "mockgw.verdict.command"}  # `mockgw verdict`'s arguments, for the CLI's parser


def test_serving_imports_no_test_library_client_library_or_other_command(tmp_path: Path) -> None:
    fixtures = tmp_path / "fixtures.yaml"
    fixtures.write_text(
        "version: 1\nfixtures:\n  - name: hello\n    match: {last_user_message: hello}\n"
        "    reply: {content: hello back}\n",
        encoding="utf-8",
    )
    with served("--fixtures", str(fixtures), env={"PYTHONPROFILEIMPORTTIME": "1"}) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=0)
        answer = client.chat.completions.create(model="openai/gpt-4o", messages=[{"role": "user", "content": "hello"}])
        log = server.stop()
    assert answer.choices[0].message.content == "hello back"
    modules = set(IMPORTED.findall(log))
    assert "mockgw.server.runner" in modules  # the log is the server's
    unwanted = sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in (*NEVER, *LAZY)))
    assert unwanted == []
    assert {m for m in modules if m.startswith("mockgw.verdict")} == VERDICT_PARSER
