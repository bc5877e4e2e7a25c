"""The command line as users run it: `python -m mockgw serve|check` in a subprocess, and the `mockgw` script."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import openai
import pytest

from mockgw import cli
from mockgw.gateway.config import Settings
from mockgw.server.runner import MockGateway
from tests.support.rawhttp import chat, request
from tests.support.serve import served

REPO = Path(__file__).resolve().parents[2]
URL_LINE = re.compile(r"^mockgw 0\.1\.0 serving (http://127\.0\.0\.1:(\d+)/v1) \((\d+) fixtures, seed (-?\d+)\)$")
HELLO = {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hello"}]}


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockgw", *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


@contextmanager
def serving(*args: str) -> Iterator[tuple[int, re.Match[str]]]:
    """`python -m mockgw serve --port 0 ARGS` until the block ends; yields the port and the URL line."""
    with served(*args, cwd=REPO) as server:
        found = URL_LINE.match(server.line)
        assert found, server.line
        yield server.port, found


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


GOOD = """\
version: 1
fixtures:
  - name: ping
    match: {last_user_message: ping}
    reply: {content: pong}
"""

# (id, file content, fixture named, field path, problem fragment)
BROKEN: list[tuple[str, str, str | None, str, str]] = [
    (
        "unknown-key",
        "version: 1\nfixtures:\n  - name: typo\n    reply: {contnt: hi}\n",
        "typo",
        "fixtures[0].reply",
        "unknown key 'contnt'; did you mean 'content'?",
    ),
    (
        "second-fixture",
        GOOD + "  - name: slow\n    reply: {delay_ms: -5}\n",
        "slow",
        "fixtures[1].reply.delay_ms",
        "must be at least 0, got -5",
    ),
    (
        "arguments-not-json",
        "version: 1\nfixtures:\n  - name: call\n    reply:\n      tool_calls: [{name: f, arguments: '{x'}]\n",
        "call",
        "fixtures[0].reply.tool_calls[0].arguments",
        "not valid JSON",
    ),
    (
        "bad-regex",
        "version: 1\nfixtures:\n  - name: re\n    match: {last_user_message: {regex: '(('}}\n    reply: {content: x}\n",
        "re",
        "fixtures[0].match.last_user_message.regex",
        "invalid regular expression",
    ),
    (
        "no-reply",
        "version: 1\nfixtures:\n  - name: empty\n    match: {model: openai/*}\n",
        "empty",
        "fixtures[0]",
        "needs 'reply' or 'replies'",
    ),
    ("wrong-version", "version: 2\nfixtures: []\n", None, "version", "must be 1, got 2"),
    ("not-yaml", "version: 1\nfixtures: [\n", None, "", "not valid YAML"),
    ("not-a-mapping", "- just a list\n", None, "", "a fixture file is a mapping"),
]


@pytest.mark.parametrize(("text", "fixture", "field", "problem"), [r[1:] for r in BROKEN], ids=[r[0] for r in BROKEN])
def test_check_reports_file_fixture_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, fixture: str | None, field: str, problem: str
) -> None:
    bad = write(tmp_path / "bad.yaml", text)
    good = write(tmp_path / "good.yaml", GOOD)
    assert cli.main(["check", str(good), str(bad)]) == 1
    out = capsys.readouterr().out.splitlines()
    (error,) = [line for line in out if line.startswith("error: ")]
    assert error.startswith(f"error: {bad}")
    if fixture is not None:
        assert error.startswith(f"error: {bad}, fixture '{fixture}': ")
    if field:
        assert f": {field}: {problem}" in error
    assert problem in error
    assert out[-1] == "2 files, 1 fixtures, 1 with errors"


def test_check_duplicate_names_across_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "a.yaml", GOOD)
    write(tmp_path / "nested" / "b.yml", GOOD.replace("pong", "other"))
    write(tmp_path / "notes.txt", "not a fixture file")
    # each file is fine on its own; check lints files one by one, serve refuses the pair
    assert cli.main(["check", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == "2 files, 2 fixtures, 0 with errors"


def test_check_in_a_subprocess() -> None:
    good = run("check", "fixtures")
    assert good.returncode == 0
    assert good.stdout.strip() == "1 files, 3 fixtures, 0 with errors"
    missing = run("check", "no/such/place.yaml")
    assert missing.returncode == 1
    assert missing.stdout.splitlines() == [
        "error: no/such/place.yaml: no such file or folder",
        "0 files, 0 fixtures, 1 with errors",
    ]


def test_serve_answers_with_fixtures() -> None:
    with serving("--fixtures", "fixtures", "--seed", "5") as (port, line):
        assert line.group(3) == "3" and line.group(4) == "5"
        client = openai.OpenAI(base_url=line.group(1), api_key="sk-test", max_retries=0)
        completion = client.chat.completions.create(
            model="openai/gpt-4o", messages=[{"role": "user", "content": "hello"}]
        )
        assert completion.choices[0].message.content == "Hello! How can I assist you today?"
        assert request(port, "GET", "/__mockgw/health", key=None).json()["fixtures"] == 3
        generated = chat(port, {**HELLO, "messages": [{"role": "user", "content": "tell me more"}]}).json()
    # --seed reaches the generator: the same seed in process gives the same text
    with MockGateway(Settings(port=0, seed=5)) as same, MockGateway(Settings(port=0, seed=6)) as other:
        body = {**HELLO, "messages": [{"role": "user", "content": "tell me more"}]}
        assert chat(same.port, body).json()["choices"] == generated["choices"]
        assert chat(other.port, body).json()["choices"] != generated["choices"]


def test_serve_on_an_ipv6_address_prints_urls_a_client_can_use() -> None:
    with served("--host", "::1", "--fixtures", "fixtures", cwd=REPO) as server:
        found = re.search(r"serving (http://\[::1\]:\d+/v1) ", server.line)
        assert found, server.line  # was http://::1:PORT/v1, which no client can parse
        client = openai.OpenAI(base_url=found.group(1), api_key="sk-test", max_retries=0)
        completion = client.chat.completions.create(
            model="openai/gpt-4o", messages=[{"role": "user", "content": "hello"}]
        )
        assert completion.choices[0].message.content == "Hello! How can I assist you today?"
        assert server.process.stdout is not None
        assert server.process.stdout.readline().startswith(
            f"inspector: {found.group(1).removesuffix('/v1')}/__mockgw/ui/"
        )


def test_serve_with_a_config_file(tmp_path: Path) -> None:
    write(tmp_path / "fx" / "ping.yaml", GOOD)
    config = write(
        tmp_path / "mockgw.yaml",
        "seed: 42\nstrict: true\nfixtures: [fx]\n"
        "keys:\n  - {key: sk-ok, models: ['openai/*']}\n  - {key: sk-off, state: inactive}\n",
    )
    with serving("--config", str(config)) as (port, line):
        assert line.group(3) == "1" and line.group(4) == "42"
        ping = {**HELLO, "messages": [{"role": "user", "content": "ping"}]}
        assert chat(port, ping, key="sk-ok").json()["choices"][0]["message"]["content"] == "pong"
        strict = chat(port, HELLO, key="sk-ok")
        assert strict.status == 404 and strict.error["code"] == "no_matching_fixture"
        assert "'ping'" in strict.error["message"]
        assert chat(port, ping, key="sk-off").error["message"] == "API key is inactive"
        refused = chat(port, {**ping, "model": "anthropic/claude-haiku-4-5"}, key="sk-ok")
        assert refused.status == 403
    # flags win over the file
    with serving("--config", str(config), "--seed", "3") as (_, line):
        assert line.group(4) == "3"


SERVE_BROKEN = [(r[0], r[1], r[3], r[4]) for r in BROKEN if r[0] in ("unknown-key", "arguments-not-json")]


@pytest.mark.parametrize(("name", "text", "field", "problem"), SERVE_BROKEN, ids=[r[0] for r in SERVE_BROKEN])
def test_serve_refuses_a_broken_fixture_file(tmp_path: Path, name: str, text: str, field: str, problem: str) -> None:
    bad = write(tmp_path / f"{name}.yaml", text)
    result = run("serve", "--port", "0", "--fixtures", str(bad))
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"mockgw: {bad}, fixture ")
    assert f": {field}: " in line and problem in line
    # the same words as `mockgw check`
    assert line.removeprefix("mockgw: ") in run("check", str(bad)).stdout


def test_serve_refuses_duplicate_names_across_files(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", GOOD)
    write(tmp_path / "b.yaml", GOOD)
    result = run("serve", "--port", "0", "--fixtures", str(tmp_path))
    assert result.returncode == 2
    assert f"{tmp_path / 'b.yaml'}, fixture 'ping': duplicate fixture name 'ping' (also in {tmp_path / 'a.yaml'})" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("strict: maybe\n", ": strict: expected true or false, got the string 'maybe'"),
        ("keys:\n  - {key: k, state: paused}\n", ": keys[0].state: must be one of 'active', 'inactive', 'expired'"),
        ("max_body_bytes: 0\n", ": max_body_bytes: must be at least 1, got 0"),
        ("unknown_option: 1\n", ": unknown key 'unknown_option'; the keys are seed, strict"),
        ("seed: [\n", ": not valid YAML: line 2, column 1: "),
    ],
    ids=["strict-not-boolean", "unknown-key-state", "zero-body-limit", "unknown-option", "not-yaml"],
)
def test_serve_refuses_a_broken_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], config: str, message: str
) -> None:
    path = write(tmp_path / "mockgw.yaml", config)
    assert cli.main(["serve", "--port", "0", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mockgw: {path}")
    assert message in err


def test_serve_refuses_a_broken_config_in_a_subprocess(tmp_path: Path) -> None:
    path = write(tmp_path / "mockgw.yaml", "strict: maybe\n")
    result = run("serve", "--port", "0", "--config", str(path))
    assert result.returncode == 2
    assert result.stderr.startswith(f"mockgw: {path}: strict: expected true or false")
    assert "Traceback" not in result.stderr


def test_serve_on_a_busy_port_exits_2() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("serve", "--port", str(port))
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_mockgw_script_is_installed() -> None:
    script = Path(sys.executable).parent / "mockgw"
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0
    assert result.stdout.strip() == "mockgw 0.1.0"


@pytest.mark.parametrize("args", [[], ["serve", "--port", "eighty"], ["launch"]], ids=["none", "bad-port", "unknown"])
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(args)
    assert exited.value.code == 2
    assert capsys.readouterr().err.startswith("usage: mockgw")
