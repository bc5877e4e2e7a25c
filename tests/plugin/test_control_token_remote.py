"""The plugin against a `mockgw serve --control-token`: MOCKGW_CONTROL_TOKEN or `--mockgw-control-token` give the
token its handles send; without it, each test fails with the server's 401 and what to set."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator

import edgee  # noqa: F401  (imported once: pytester's in-process runs drop what they import)
import openai  # noqa: F401
import pytest

from tests.plugin.test_plugin import HELLO, QUIET, chat  # noqa: F401  (the `chat` fixture)
from tests.support.serve import mockgw_serve

for _core in ("httpcore", "httpcore2"):  # see test_plugin.py
    with contextlib.suppress(ImportError):
        importlib.import_module(_core)

pytest_plugins = ["pytester"]
TOKEN = "ctl-plugin-51"
ASKS = """
import pytest
from chat import ask

@pytest.mark.mockgw("hello.yaml")
def test_hello(mockgw):
    assert ask("hello") == "Hello from the file"
    mockgw.assert_called(1, fixture="greeting")
"""


@pytest.fixture(scope="module")
def tokened_server() -> Iterator[str]:
    with mockgw_serve("--control-token", TOKEN) as url:
        yield url


@pytest.fixture
def remote(chat: pytest.Pytester, tokened_server: str, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:  # noqa: F811
    monkeypatch.setenv("MOCKGW_URL", tokened_server)
    monkeypatch.delenv("MOCKGW_CONTROL_TOKEN", raising=False)
    chat.makefile(".yaml", hello=HELLO)
    chat.makepyfile(test_asks=ASKS)
    return chat


def test_the_token_from_the_environment(remote: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCKGW_CONTROL_TOKEN", TOKEN)
    remote.runpytest_inprocess(*QUIET).assert_outcomes(passed=1)


def test_the_token_from_the_option(remote: pytest.Pytester) -> None:
    remote.runpytest_inprocess(*QUIET, f"--mockgw-control-token={TOKEN}").assert_outcomes(passed=1)


def test_without_the_token_the_test_says_what_is_missing(remote: pytest.Pytester) -> None:
    result = remote.runpytest_inprocess(*QUIET)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*answered 401*control_token_required*MOCKGW_CONTROL_TOKEN*"])
