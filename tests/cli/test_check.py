"""`mockgw check` as users run it (a subprocess): fixture files and config files, every mistake of every file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FIXTURES = "version: 1\nfixtures:\n  - name: ping\n    match: {last_user_message: ping}\n    reply: {content: pong}\n"
CONFIG = "seed: 7\nstrict: true\nfixtures: [fx]\nfaults:\n  - {name: flaky, fault: {type: error, status: 503}}\n"


def check(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockgw", "check", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_config_file_is_told_by_its_keys_and_checked_with_its_fixtures(tmp_path: Path) -> None:
    """Issue 12's stumble: `mockgw check mockgw.yaml` read a config file as a fixture file."""
    write(tmp_path / "fx" / "ping.yaml", FIXTURES)
    write(tmp_path / "mockgw.yaml", CONFIG)
    result = check("mockgw.yaml", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "1 files (1 config), 1 fixtures, 0 with errors\n"
    assert "is not of type" not in result.stdout


def test_every_mistake_of_every_file_is_reported(tmp_path: Path) -> None:
    write(tmp_path / "mockgw.yaml", "sede: 7\nfaults:\n  - {fault: {type: cut, after_event: 3}}\n")
    write(
        tmp_path / "fx.yaml",
        "version: 1\nfixtures:\n  - {name: slow, reply: {fault: {type: cut, after_event: 3}}}\n"
        "  - {name: hi, reply: {contnt: hello}}\n",
    )
    write(tmp_path / "good.yaml", FIXTURES)
    result = check("mockgw.yaml", "fx.yaml", "good.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "error: mockgw.yaml: unknown key 'sede'; did you mean 'seed'?",
        "error: mockgw.yaml: faults[0].fault: unknown key 'after_event'; did you mean 'after_events'?",
        "error: fx.yaml, fixture 'slow': fixtures[0].reply.fault: unknown key 'after_event'; "
        "did you mean 'after_events'?",
        "error: fx.yaml, fixture 'hi': fixtures[1].reply: unknown key 'contnt'; did you mean 'content'?",
        "3 files (1 config), 1 fixtures, 2 with errors",
    ]


def test_a_config_names_the_broken_fixture_file_it_loads(tmp_path: Path) -> None:
    write(tmp_path / "fx" / "broken.yaml", "version: 1\nfixtures:\n  - {name: x, reply: {delay_ms: -1}}\n")
    write(tmp_path / "mockgw.yaml", "fixtures: [fx, missing.yaml]\n")
    result = check("mockgw.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"error: {Path('fx') / 'broken.yaml'}, fixture 'x': fixtures[0].reply.delay_ms: must be at least 0, got -1",
        "error: missing.yaml: no such file or folder",
        "1 files (1 config), 0 fixtures, 1 with errors",
    ]


def test_config_flag_checks_a_file_as_a_config(tmp_path: Path) -> None:
    write(tmp_path / "empty.yaml", "")
    write(tmp_path / "settings.yaml", "strict: maybe\n")
    assert check("--config", "empty.yaml", cwd=tmp_path).stdout == "1 files (1 config), 0 fixtures, 0 with errors\n"
    as_fixtures = check("empty.yaml", cwd=tmp_path)
    assert as_fixtures.returncode == 1
    assert as_fixtures.stdout.splitlines()[0] == (
        "error: empty.yaml: a fixture file is a mapping with `version: 1` and `fixtures:`"
    )
    flagged = check("--config", "settings.yaml", "--config", "empty.yaml", cwd=tmp_path)
    assert flagged.returncode == 1
    assert flagged.stdout.splitlines() == [
        "error: settings.yaml: strict: expected true or false, got the string 'maybe'",
        "2 files (2 config), 0 fixtures, 1 with errors",
    ]


def test_a_file_that_is_not_yaml_says_where(tmp_path: Path) -> None:
    write(tmp_path / "mockgw.yaml", "seed: [1\n")
    result = check("mockgw.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].startswith("error: mockgw.yaml: not valid YAML: line 2, column 1: ")


def test_check_without_files_is_a_usage_error(tmp_path: Path) -> None:
    result = check(cwd=tmp_path)
    assert result.returncode == 2
    assert "give fixture or config files" in result.stderr
