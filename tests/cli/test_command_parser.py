"""The command line's parser built for one command (what `mockgw CMD ...` parses with, so that start-up builds only
that command's options) reads, helps and refuses exactly as the whole parser does."""

from __future__ import annotations

import argparse
import contextlib
import io

import pytest

from mockgw.cli import COMMANDS, _parser


def _outcome(parser: argparse.ArgumentParser, words: list[str]) -> tuple[str, str, object]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            result: object = vars(parser.parse_args(words))
        except SystemExit as exc:
            result = exc.code
    return out.getvalue(), err.getvalue(), result


@pytest.mark.parametrize("command", COMMANDS)
def test_each_commands_help_is_the_whole_parsers(command: str) -> None:
    whole = _outcome(_parser(), [command, "--help"])
    assert whole[0].startswith(f"usage: mockgw {command}")
    assert _outcome(_parser(command), [command, "--help"]) == whole


@pytest.mark.parametrize(
    "words",
    [
        ["serve", "--port", "0", "--fixtures", "a.yaml", "b.yaml", "--seed", "3", "--strict", "--record", "new"],
        ["serve", "--port", "x"],
        ["serve", "--bogus"],
        ["check", "a.yaml", "--config", "mockgw.yaml"],
        ["record", "--upstream", "https://example.test", "--out", "recorded"],
        ["export", "--all"],
        ["drift"],
        ["verdict", "--repeat", "2", "--", "python", "app.py"],
    ],
)
def test_a_command_line_reads_and_fails_the_same(words: list[str]) -> None:
    assert _outcome(_parser(words[0]), words) == _outcome(_parser(), words)


def test_the_top_level_help_lists_every_command() -> None:
    out, _, code = _outcome(_parser(), ["--help"])
    assert code == 0
    assert all(command in out for command in COMMANDS)
