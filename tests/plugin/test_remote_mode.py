"""The plugin against any server (issue 12, stumble 5): `MOCKGW_URL` pointing at `mockgw serve --config` with a
`keys:` table. Without a key option every test got `401 API key not found`, and `mockgw_fixtures` was silently
ignored. Now `mockgw_api_key` / `MOCKGW_API_KEY` set the key, the ini's and the marker's fixtures are loaded into
each test's own session (refused loudly), and a 401/403 names the key used and how to set it."""

from __future__ import annotations

import contextlib
import importlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import edgee  # noqa: F401  (imported once: pytester's in-process runs drop what they import)
import openai  # noqa: F401
import pytest

from tests.plugin.test_plugin import HELLO, QUIET, chat  # noqa: F401  (the `chat` fixture)
from tests.support.serve import mockgw_serve

for _core in ("httpcore", "httpcore2"):  # see test_plugin.py
    with contextlib.suppress(ImportError):
        importlib.import_module(_core)

pytest_plugins = ["pytester"]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
KEY = "sk-team-ci-0451"
CONFIG = f"""
seed: 7
fixtures: [server-fixtures.yaml]
keys:
  - key: {KEY}
"""
SERVER_FIXTURES = """
version: 1
fixtures:
  - name: server-wide
    match: {last_user_message: server}
    reply: {content: "from the server's own file"}
"""


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("server")
    (folder / "mockgw.yaml").write_text(CONFIG)
    (folder / "server-fixtures.yaml").write_text(SERVER_FIXTURES)
    with mockgw_serve("--config", "mockgw.yaml", cwd=folder) as url:
        yield url


@pytest.fixture
def remote(chat: pytest.Pytester, keyed_server: str, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:  # noqa: F811
    monkeypatch.setenv("MOCKGW_URL", keyed_server)
    monkeypatch.delenv("MOCKGW_API_KEY", raising=False)
    return chat


ASKS = """
from chat import ask

def test_hello(mockgw):
    assert ask("hello") == "Hello from the file"

def test_server_fixture_still_answers(mockgw):
    assert ask("server?") == "from the server's own file"
"""


def test_without_a_key_option_the_failure_names_the_key_and_how_to_set_it(remote: pytest.Pytester) -> None:
    remote.makepyfile(test_asks=ASKS)
    result = remote.runpytest_inprocess(*QUIET)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*mockgw refused 1 request (401 unauthorized). The plugin gave the clients the API key 'sk-mo…st'*",
            "*set one the server accepts with the `mockgw_api_key` ini option or the MOCKGW_API_KEY*",
        ]
    )


@pytest.mark.parametrize("how", ["ini", "env"])
def test_the_key_option_and_ini_fixtures_in_each_tests_session(
    remote: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, keyed_server: str, how: str
) -> None:
    remote.makefile(".yaml", hello=HELLO)
    ini = "[pytest]\nmockgw_fixtures = hello.yaml\n"
    if how == "ini":
        ini += f"mockgw_api_key = {KEY}\n"
    else:
        monkeypatch.setenv("MOCKGW_API_KEY", KEY)
    remote.makeini(ini)
    remote.makepyfile(test_asks=ASKS)
    remote.runpytest_inprocess(*QUIET).assert_outcomes(passed=2)


def test_a_fixture_the_server_refuses_fails_the_test_loudly(remote: pytest.Pytester) -> None:
    remote.makeini(f"[pytest]\nmockgw_api_key = {KEY}\n")
    remote.makepyfile(
        test_clash="""
        import pytest

        @pytest.mark.mockgw(fixtures={"name": "server-wide", "reply": {"content": "clash"}})
        def test_clash(mockgw):
            pass
        """
    )
    result = remote.runpytest_inprocess(*QUIET)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*mockgw: the fixtures of @pytest.mark.mockgw (*) could not be loaded into this test's session on http*",
            "*answered 400*a fixture named 'server-wide' is already loaded*",
        ]
    )


@pytest.mark.parametrize(("suite", "passed"), [("edgee_sync", 3), ("openai_async", 2)])
def test_the_example_suites_pass_against_the_keyed_server(remote: pytest.Pytester, suite: str, passed: int) -> None:
    """The downstream examples, unmodified, against `mockgw serve --config` with a key table (their strict-mode
    tests need a server of their own, which a shared one is not: they are deselected)."""
    for file in (EXAMPLES / suite).iterdir():
        if file.is_file():
            shutil.copy(file, remote.path / file.name)
    remote.makeini(f"[pytest]\nmockgw_api_key = {KEY}\n")
    result = remote.runpytest_inprocess(*QUIET, "-k", "not strict and not unscripted")
    result.assert_outcomes(passed=passed, deselected=1)
