"""`mockgw record` and `mockgw serve --record new` as processes: files written capture by capture, SIGTERM safe."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import openai
import yaml

from mockgw import cli
from tests.record.conftest import KEY
from tests.record.foreign import ForeignGateway


def _start(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "mockgw", *args, "--port", "0"]
    environment = {**os.environ, **(env or {})}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)
    assert process.stdout is not None
    line = process.stdout.readline()
    assert " serving " in line, line
    return process, line.split(" serving ")[1].split()[0]


def _ask(base_url: str, text: str) -> str | None:
    client = openai.OpenAI(base_url=base_url, api_key=KEY, max_retries=0)
    answer = client.chat.completions.create(model="openai/gpt-4o", messages=[{"role": "user", "content": text}])
    return answer.choices[0].message.content


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(15)
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def test_each_capture_is_on_disk_as_soon_as_it_is_answered(foreign: ForeignGateway, tmp_path: Path) -> None:
    out = tmp_path / "recordings"
    process, base_url = _start(
        "record",
        *("--upstream", foreign.url, "--out", str(out), "--upstream-key-env", "UPSTREAM_KEY"),
        env={"UPSTREAM_KEY": "upstream-key-from-the-environment"},
    )
    try:
        assert _ask(base_url, "hello there") == "Bonjour from the foreign gateway"
        first = yaml.safe_load((out / "recorded.yaml").read_text())  # before the server stops
        assert [f["name"] for f in first["fixtures"]] == ["chat-hello-there"]
        assert _ask(base_url, "and again") == "Bonjour from the foreign gateway"
    finally:
        _stop(process)
    assert process.returncode == 0
    assert {seen["Authorization"] for seen in foreign.seen} == {"Bearer upstream-key-from-the-environment"}
    text = (out / "recorded.yaml").read_text()
    assert "upstream-key-from-the-environment" not in text
    names = [f["name"] for f in yaml.safe_load(text)["fixtures"]]
    assert names == ["chat-hello-there", "chat-and-again"]
    assert cli.check([str(out)]) == 0


def test_serve_record_new_answers_matches_and_records_misses(foreign: ForeignGateway, tmp_path: Path) -> None:
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    (fixtures / "local.yaml").write_text(
        "version: 1\nfixtures:\n  - name: local\n    match: {last_user_message: local}\n"
        "    reply: {content: answered locally}\n",
        encoding="utf-8",
    )
    out = tmp_path / "recordings"
    process, base_url = _start(
        "serve", "--fixtures", str(fixtures), "--record", "new", "--upstream", foreign.url, "--out", str(out)
    )
    try:
        assert _ask(base_url, "something local") == "answered locally"
        assert _ask(base_url, "something new") == "Bonjour from the foreign gateway"
    finally:
        _stop(process)
    assert len(foreign.seen) == 1
    names = [f["name"] for f in yaml.safe_load((out / "recorded.yaml").read_text())["fixtures"]]
    assert names == ["chat-something-new"]
