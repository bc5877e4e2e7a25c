"""The pytest plugin as a user meets it: small generated test files, run by pytester, and their outcomes."""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Callable

# Imported here once: pytester's in-process runs drop the modules they import, and re-importing these each time
# would cost seconds per run.
import edgee  # noqa: F401
import hypothesis  # noqa: F401
import openai  # noqa: F401
import pytest

from mockgw.server.runner import MockGateway
from tests.support.lean_pytest import LEAN

# openai's HTTP client imports its transport core lazily and caches a table of the core's exception classes: a
# core first imported inside an in-process run is dropped after it, and the next run's fresh classes are missing
# from the cached table (a connection reset then escapes as a raw ReadError instead of APIConnectionError)
for _core in ("httpcore", "httpcore2"):
    with contextlib.suppress(ImportError):
        importlib.import_module(_core)

pytest_plugins = ["pytester"]
# LEAN: without it each in-process run imports, and assertion-rewrites, the hypothesis, schemathesis and langsmith
# plugins' packages again (pytester drops the modules a run imports): ~2 s of CPU per run.
QUIET = ("-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=function", *LEAN)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """Run the generated tests in this process (fast), as a user would."""
    return pytester.runpytest_inprocess(*QUIET, *args)


HELLO = """
version: 1
fixtures:
  - name: greeting
    match: {last_user_message: hello}
    reply: {content: "Hello from the file"}
"""

CHAT = """
import openai

def ask(text, **client):
    client.setdefault("max_retries", 0)
    completion = openai.OpenAI(**client).chat.completions.create(
        model="openai/gpt-4o", messages=[{"role": "user", "content": text}]
    )
    return completion.choices[0].message.content
"""


@pytest.fixture
def chat(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester with a `chat` helper module the generated tests import."""
    pytester.makepyfile(chat=CHAT)
    pytester.syspathinsert()
    return pytester


def test_a_passing_test_reaches_the_server_through_unmodified_sdks(chat: pytest.Pytester) -> None:
    chat.makepyfile(
        """
        import os
        from edgee import Edgee
        from chat import ask

        def test_it(mockgw):
            mockgw.add({"name": "hi", "match": {"last_user_message": "hello"}, "reply": {"content": "Hey"}})
            assert Edgee().send(model="openai/gpt-4o", input="hello").text == "Hey"
            assert ask("hello") == "Hey"
            assert os.environ["EDGEE_BASE_URL"] == mockgw.root_url
            assert os.environ["OPENAI_BASE_URL"] == mockgw.url == mockgw.root_url + "/v1"
            assert os.environ["ANTHROPIC_BASE_URL"] == mockgw.root_url
            assert os.environ["OPENAI_API_KEY"] == os.environ["EDGEE_API_KEY"] == mockgw.api_key
            calls = mockgw.assert_called(2, fixture="hi", model="openai/gpt-4o")
            assert [c.last_user_message for c in calls] == ["hello", "hello"]
            assert calls[1].messages == ({"role": "user", "content": "hello"},)
            assert calls[1].headers["authorization"] == "Bearer [redacted]"
            mockgw.assert_all_fixtures_used()
            mockgw.assert_no_unmatched()
        """
    )
    before = os.environ.get("EDGEE_BASE_URL")
    run(chat).assert_outcomes(passed=1)
    assert os.environ.get("EDGEE_BASE_URL") == before  # monkeypatched for the test only


def test_each_test_starts_from_a_reset_server(chat: pytest.Pytester) -> None:
    chat.makepyfile(
        """
        from chat import ask

        def test_first(mockgw):
            mockgw.add({"name": "hi", "reply": {"content": "first"}})
            assert ask("x") == "first"

        def test_second(mockgw):
            assert mockgw.calls == []
            mockgw.add({"name": "hi", "reply": {"content": "second"}})  # the name is free again
            assert ask("x") == "second"
        """
    )
    run(chat).assert_outcomes(passed=2)


def test_assert_called_lists_the_calls_seen(chat: pytest.Pytester) -> None:
    chat.makepyfile(
        """
        from chat import ask

        def test_it(mockgw):
            mockgw.add({"name": "hi", "match": {"last_user_message": "hello"}, "reply": {"content": "Hey"}})
            ask("hello")
            ask("something else")
            mockgw.assert_called(2, fixture="hi")
        """
    )
    result = run(chat)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*mockgw expected 2 calls with fixture='hi', got 1.",
            "*Calls received (2):",
            "*1. POST /v1/chat/completions model='openai/gpt-4o' last user message='hello' -> 200 fixture='hi'",
            "*2. POST /v1/chat/completions model='openai/gpt-4o' last user message='something else' -> 200 no fixture*",
            "*near miss 'hi': last_user_message: expected contains 'hello', got 'something else'",
        ]
    )


def test_assert_all_fixtures_used_names_the_unused_fixture_and_its_near_misses(chat: pytest.Pytester) -> None:
    chat.makepyfile(
        """
        from chat import ask

        def test_it(mockgw):
            mockgw.add({"name": "weather", "match": {"last_user_message": "weather"}, "reply": {"content": "Sunny"}})
            ask("what time is it?")
            mockgw.assert_all_fixtures_used()
        """
    )
    result = run(chat)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*mockgw: 1 fixture never used:",
            "*- 'weather' (from <mockgw.add>)",
            "*call 1: near miss 'weather': last_user_message: expected contains 'weather', got 'what time is it?'",
        ]
    )


def test_assert_no_unmatched_fails_on_a_generated_answer(chat: pytest.Pytester) -> None:
    chat.makepyfile(
        """
        from chat import ask

        def test_it(mockgw):
            ask("nobody scripted this")
            mockgw.assert_no_unmatched()
        """
    )
    result = run(chat)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*mockgw: 1 request matched no fixture.", "*1. POST /v1/chat/completions*"])


def test_strict_marker_fails_the_test_on_an_unmatched_request_even_if_the_app_swallows_the_404(
    chat: pytest.Pytester,
) -> None:
    chat.makepyfile(
        """
        import openai
        import pytest
        from chat import ask

        @pytest.mark.mockgw(strict=True)
        def test_it(mockgw):
            mockgw.add({"name": "hi", "match": {"last_user_message": "hello"}, "reply": {"content": "Hey"}})
            try:
                ask("goodbye")
            except openai.NotFoundError:
                pass  # an application that hides errors: the plugin still reports the request
        """
    )
    result = run(chat)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*mockgw saw 1 problem during this test:",
            "*unmatched request in strict mode: POST /v1/chat/completions model='openai/gpt-4o' "
            "last user message='goodbye' -> 404 error=no_matching_fixture",
            "*No fixture matches this request. Closest: 'hi'*"
            "last_user_message: expected contains 'hello', got 'goodbye'*",
        ]
    )


def test_a_request_the_gateway_refuses_fails_the_test_even_if_the_app_swallows_the_400(chat: pytest.Pytester) -> None:
    chat.makepyfile(
        """
        import openai

        def test_it(mockgw):
            messages = [
                {"role": "user", "content": "weather?"},
                {"role": "assistant", "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
                ]},
                {"role": "user", "content": "and tomorrow?"},  # the tool result was forgotten
            ]
            try:
                openai.OpenAI(max_retries=0).chat.completions.create(model="openai/gpt-4o", messages=messages)
            except openai.BadRequestError:
                pass
        """
    )
    result = run(chat)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*request refused with 400: POST /v1/chat/completions model='openai/gpt-4o' "
            "last user message='and tomorrow?' -> 400 error=*",
            "*The following tool_call_ids did not have response messages: 'call_1'*",
        ]
    )


def test_when_the_test_fails_anyway_the_problems_are_shown_beside_the_error(chat: pytest.Pytester) -> None:
    chat.makepyfile(
        """
        import pytest
        from chat import ask

        @pytest.mark.mockgw(strict=True)
        def test_it(mockgw):
            mockgw.add({"name": "hi", "match": {"last_user_message": "hello"}, "reply": {"content": "Hey"}})
            ask("goodbye")  # raises openai.NotFoundError
        """
    )
    result = run(chat)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*NotFoundError*", "*Captured mockgw call*", "*unmatched request in strict mode: POST /v1/chat/completions*"]
    )


def test_check_false_lets_a_test_expect_the_strict_404(chat: pytest.Pytester) -> None:
    chat.makepyfile(
        """
        import openai
        import pytest
        from chat import ask

        @pytest.mark.mockgw(strict=True, check=False)
        def test_it(mockgw):
            with pytest.raises(openai.NotFoundError):
                ask("goodbye")
            assert mockgw.calls[0].error_code == "no_matching_fixture"
        """
    )
    run(chat).assert_outcomes(passed=1)


def test_marker_fixtures_and_seed(chat: pytest.Pytester) -> None:
    chat.makefile(".yaml", hello=HELLO)
    chat.makepyfile(
        """
        import pytest
        from chat import ask

        @pytest.mark.mockgw(fixtures="hello.yaml", seed=7)
        def test_marked(mockgw, mockgw_server):
            assert mockgw.server is not mockgw_server  # seed is server-wide: a server of its own
            assert mockgw.server.settings.seed == 7
            assert ask("hello") == "Hello from the file"

        @pytest.mark.mockgw("hello.yaml")
        def test_fixtures_only_share_the_server(mockgw, mockgw_server):
            assert mockgw.server is mockgw_server
            assert ask("hello") == "Hello from the file"

        def test_unmarked(mockgw):
            assert mockgw.fixture_uses() == []
            assert mockgw.server.settings.seed == 0
        """
    )
    run(chat).assert_outcomes(passed=3)


def test_unknown_marker_option_is_a_usage_error(chat: pytest.Pytester) -> None:
    chat.makepyfile(
        """
        import pytest

        @pytest.mark.mockgw(sed=1)
        def test_it(mockgw):
            pass
        """
    )
    result = run(chat)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*@pytest.mark.mockgw: unknown option(s) sed; the options are fixtures, strict, seed, check"]
    )


def test_ini_options_configure_the_session_server(chat: pytest.Pytester) -> None:
    chat.mkdir("fx")
    (chat.path / "fx" / "hello.yaml").write_text(HELLO)
    chat.makeini(
        """
        [pytest]
        mockgw_fixtures = fx
        mockgw_seed = 42
        mockgw_strict = true
        """
    )
    chat.makepyfile(
        """
        from chat import ask

        def test_it(mockgw, mockgw_server):
            assert mockgw_server.settings.seed == 42
            assert mockgw_server.settings.strict is True
            assert ask("hello") == "Hello from the file"
            mockgw.assert_all_fixtures_used()  # file fixtures do not count: only the test's own
        """
    )
    run(chat).assert_outcomes(passed=1)


def test_environment_wins_over_ini(chat: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    chat.makeini("[pytest]\nmockgw_seed = 42\n")
    monkeypatch.setenv("MOCKGW_SEED", "5")
    chat.makepyfile(
        """
        def test_it(mockgw_server):
            assert mockgw_server.settings.seed == 5
        """
    )
    run(chat).assert_outcomes(passed=1)


def test_config_file_option(chat: pytest.Pytester) -> None:
    chat.makefile(".yaml", mockgw="seed: 9\nkeys: [{key: sk-only-this}]\n")
    chat.makeini("[pytest]\nmockgw_config = mockgw.yaml\n")
    chat.makepyfile(
        """
        from chat import ask

        def test_it(mockgw):
            assert mockgw.server.settings.seed == 9
            assert mockgw.api_key == "sk-only-this"  # the handle uses a key the server accepts
            ask("hi")
        """
    )
    run(chat).assert_outcomes(passed=1)


def test_patch_env_can_be_turned_off(chat: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    chat.makeini("[pytest]\nmockgw_patch_env = false\n")
    chat.makepyfile(
        """
        import os

        def test_it(mockgw):
            assert "OPENAI_BASE_URL" not in os.environ
            assert mockgw.env()["OPENAI_BASE_URL"] == mockgw.url
        """
    )
    run(chat).assert_outcomes(passed=1)


def test_async_test_with_async_openai_streaming(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import openai
        import pytest

        @pytest.mark.asyncio
        async def test_it(mockgw):
            mockgw.add("name: story\\nreply: {content: Once upon a time}\\n")
            client = openai.AsyncOpenAI(max_retries=0)
            stream = await client.chat.completions.create(
                model="openai/gpt-4o", messages=[{"role": "user", "content": "tell me"}], stream=True
            )
            text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
            assert text == "Once upon a time"
            mockgw.assert_called(1, fixture="story")
        """
    )
    run(pytester).assert_outcomes(passed=1)


def test_fault_rules_from_the_handle(chat: pytest.Pytester) -> None:
    chat.makepyfile(
        """
        import openai
        import pytest
        from mockgw.core.errors import FixtureError
        from chat import ask

        def test_fail_twice_then_answer(mockgw):
            mockgw.add({"name": "hi", "reply": {"content": "made it"}})
            assert mockgw.fault({"type": "error", "status": 503, "retry_after": 0.01}, times=2) == ["rule-1"]
            assert ask("x", max_retries=2) == "made it"
            assert [(c.status, c.fault, c.fixture) for c in mockgw.calls] == [
                (503, "error", None), (503, "error", None), (200, None, "hi")
            ]

        def test_whole_rules_and_connection_faults(mockgw):
            mockgw.fault("name: drop\\nfault: {type: reset}\\nnth: [1]\\n")
            with pytest.raises(openai.APIConnectionError):
                ask("x")
            ask("x")  # only the first request is dropped
            assert [c.fault for c in mockgw.calls] == ["reset", None]

        def test_a_rule_400_is_not_a_problem(mockgw):
            mockgw.fault({"type": "error", "status": 400}, name="bad", nth=[1])
            with pytest.raises(openai.BadRequestError):
                ask("x")

        def test_a_broken_rule_is_refused_at_once(mockgw):
            with pytest.raises(FixtureError, match="fault rule 'bad': fault.type: unknown fault type 'no-such-fault'"):
                mockgw.fault({"type": "no-such-fault"}, name="bad")

        def test_rules_are_forgotten_between_tests(mockgw):
            ask("x")
            assert mockgw.calls[0].fault is None
        """
    )
    run(chat).assert_outcomes(passed=5)


def test_a_broken_fixture_is_refused_at_add_with_where_and_why(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from mockgw.core.errors import FixtureError

        def test_it(mockgw):
            with pytest.raises(FixtureError, match=r"<mockgw.add>, fixture 'bad': reply.content: "):
                mockgw.add({"name": "bad", "reply": {"content": 3}})
        """
    )
    run(pytester).assert_outcomes(passed=1)


def test_a_broken_fixture_posted_by_another_client_fails_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import json, urllib.error, urllib.request

        def test_it(mockgw):
            request = urllib.request.Request(
                mockgw.root_url + "/__mockgw/fixtures", data=json.dumps({"name": "x"}).encode(), method="POST"
            )
            try:
                urllib.request.urlopen(request)
            except urllib.error.HTTPError:
                pass  # a client in another language that ignores the 400
        """
    )
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*a fixture sent to POST /__mockgw/fixtures was refused: <runtime>, fixture 'x': *"])


def test_an_internal_error_fails_the_test_that_caused_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import urllib.error, urllib.request
        from mockgw.server import app as web

        def broken(state, raw):
            raise RuntimeError("boom")

        def test_it(mockgw, monkeypatch):
            monkeypatch.setitem(web.API_ROUTES["/v1/models"], "GET", broken)
            try:
                urllib.request.urlopen(mockgw.url + "/models")
            except urllib.error.HTTPError as exc:
                assert exc.code == 500
        """
    )
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*internal error on GET /v1/models: RuntimeError('boom')*"])


def test_make_mockgw_starts_isolated_servers_and_stops_them(chat: pytest.Pytester) -> None:
    chat.makepyfile(
        """
        import urllib.error, urllib.request
        import pytest
        from chat import ask

        URLS = []

        def test_two_servers(mockgw, make_mockgw):
            other = make_mockgw({"name": "a", "reply": {"content": "from a"}}, strict=True)
            third = make_mockgw(seed=3)
            assert len({mockgw.url, other.url, third.url}) == 3
            assert other.server.settings.strict and third.server.settings.seed == 3
            assert ask("x", base_url=other.url) == "from a"
            other.assert_called(1, fixture="a")
            mockgw.assert_not_called()
            URLS.append(other.root_url)

        def test_they_are_stopped_after_the_test():
            with pytest.raises(urllib.error.URLError):
                urllib.request.urlopen(URLS[0] + "/__mockgw/health", timeout=2)
        """
    )
    run(chat).assert_outcomes(passed=2)


def test_remote_server_gets_a_session_per_test(
    chat: pytest.Pytester, gateway_factory: Callable[..., MockGateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = gateway_factory()
    monkeypatch.setenv("MOCKGW_URL", remote.url)
    chat.makepyfile(
        """
        import os
        from edgee import Edgee
        from chat import ask

        SESSIONS = []

        def test_first(mockgw, mockgw_server):
            assert mockgw.server is mockgw_server and mockgw_server.url == os.environ["MOCKGW_URL"]
            assert os.environ["OPENAI_BASE_URL"] == f"{os.environ['MOCKGW_URL']}/s/{mockgw.session}/v1"
            mockgw.add({"name": "hi", "reply": {"content": "first"}})
            mockgw.fault({"type": "error", "status": 503, "retry_after": 0.01}, times=1)
            assert ask("x", max_retries=1) == "first"
            assert Edgee().send(model="openai/gpt-4o", input="x").text == "first"
            mockgw.assert_called(2, fixture="hi")
            assert [c.status for c in mockgw.calls] == [503, 200, 200]
            SESSIONS.append(mockgw.session)

        def test_second(mockgw):
            assert mockgw.session not in SESSIONS
            mockgw.add({"name": "hi", "reply": {"content": "second"}})
            assert ask("x") == "second"
            assert ask("x", base_url=os.environ["MOCKGW_URL"] + "/v1", default_headers=mockgw.headers) == "second"
            assert [c.session for c in mockgw.calls] == [mockgw.session] * 2
        """
    )
    run(chat).assert_outcomes(passed=2)
    assert [c.fixture for c in remote.state.journal] == []  # each session was reset at teardown


def test_remote_server_refuses_server_wide_marker_settings(
    pytester: pytest.Pytester, gateway_factory: Callable[..., MockGateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOCKGW_URL", gateway_factory().url)
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.mockgw(strict=True)
        def test_it(mockgw):
            pass
        """
    )
    result = run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*@pytest.mark.mockgw(strict=True) needs a server started by the plugin*"])


def test_xdist_workers_each_get_their_own_server(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import os
        import pytest

        @pytest.mark.parametrize("n", range(4))
        def test_it(mockgw, n):
            worker = os.environ["PYTEST_XDIST_WORKER"]
            with open(f"port-{worker}-{n}", "w") as out:
                out.write(mockgw.url)
        """
    )
    pytester.runpytest_subprocess("-n", "2", "-p", "xdist", *LEAN).assert_outcomes(passed=4)
    urls: dict[str, set[str]] = {}
    for path in pytester.path.glob("port-*"):
        urls.setdefault(path.name.split("-")[1], set()).add(path.read_text())
    assert len(urls) == 2  # both workers ran tests
    assert all(len(seen) == 1 for seen in urls.values())  # one server per worker
    assert len(set().union(*urls.values())) == 2  # on distinct ports
