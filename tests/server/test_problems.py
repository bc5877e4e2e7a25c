"""GET /__mockgw/problems is the single truth for "should this test fail", kept by the server per session.

Issue 12, stumble 4: the endpoint answered `{"problems": []}` after a strict-mode 404 and a conversation-rule 400,
because the Python handle added those on the client side. Now a client in any language reads the same verdict.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from mockgw.gateway import state as gateway_state
from mockgw.gateway.config import Settings
from mockgw.handle import LocalServer, MockgwHandle
from tests.conftest import API_KEY

UNANSWERED_TOOL_CALL = [
    {"role": "user", "content": "weather?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}],
    },
    {"role": "user", "content": "well?"},
]


def get(url: str) -> Any:
    with urllib.request.urlopen(url) as response:
        return json.load(response)


def post(url: str, payload: Any) -> int:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST")
    try:
        with urllib.request.urlopen(request) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def refusal(url: str) -> tuple[int, dict[str, Any]]:
    try:
        urllib.request.urlopen(url)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)["error"]
    raise AssertionError(f"{url} was accepted")


@pytest.fixture(scope="module")
def strict() -> Iterator[LocalServer]:
    server = LocalServer.start(Settings(port=0, strict=True))
    yield server
    server.close()


def client(url: str, session: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/s/{session}/v1", api_key=API_KEY, max_retries=0)


def test_a_strict_miss_and_a_rule_violation_are_problems_on_the_server(strict: LocalServer) -> None:
    handle = MockgwHandle(strict, "job-1")
    handle.reset()
    handle.add({"name": "hi", "match": {"last_user_message": "hello"}, "reply": {"content": "hey"}})
    with pytest.raises(openai.NotFoundError):
        client(strict.url, "job-1").chat.completions.create(
            model="openai/gpt-4o", messages=[{"role": "user", "content": "goodbye"}]
        )
    with pytest.raises(openai.BadRequestError):
        client(strict.url, "job-1").chat.completions.create(model="openai/gpt-4o", messages=UNANSWERED_TOOL_CALL)
    problems = get(f"{strict.url}/s/job-1/__mockgw/problems")["problems"]
    assert len(problems) == 2
    assert problems[0].startswith(
        "unmatched request in strict mode: POST /v1/chat/completions model='openai/gpt-4o' "
        "last user message='goodbye' -> 404 error=no_matching_fixture\n    No fixture matches this request."
    )
    assert "'hi'" in problems[0]  # the near miss
    assert problems[1].startswith("request refused with 400: POST /v1/chat/completions model='openai/gpt-4o'")
    assert "tool_call_ids did not have response messages: 'call_1'" in problems[1]
    assert handle.problems() == problems  # the handle reads them; it adds nothing of its own
    assert get(f"{strict.url}/__mockgw/problems") == {"problems": []}  # per session


def test_scripted_errors_are_not_problems(strict: LocalServer) -> None:
    handle = MockgwHandle(strict, "job-2")
    handle.reset()
    handle.add({"name": "bad", "reply": {"error": {"status": 400, "message": "scripted"}}})
    with pytest.raises(openai.BadRequestError):
        client(strict.url, "job-2").chat.completions.create(
            model="openai/gpt-4o", messages=[{"role": "user", "content": "x"}]
        )
    assert get(f"{strict.url}/s/job-2/__mockgw/problems") == {"problems": []}


def test_refused_fixtures_and_rules_are_problems_and_reset_forgets_them(strict: LocalServer) -> None:
    base = f"{strict.url}/s/job-3/__mockgw"
    post(f"{base}/reset", {})
    assert post(f"{base}/fixtures", {"name": "x", "reply": {"contnet": "typo"}}) == 400
    assert post(f"{base}/faults", {"fault": {"type": "cut", "after_event": 3}}) == 400
    problems = get(f"{base}/problems")["problems"]
    assert [p.split(" was refused")[0] for p in problems] == [
        "a fixture sent to POST /__mockgw/fixtures",
        "a fault rule sent to POST /__mockgw/faults",
    ]
    post(f"{base}/reset", {})
    assert get(f"{base}/problems") == {"problems": []}


def test_sessions_are_listed_with_their_call_and_problem_counts(strict: LocalServer) -> None:
    for session in ("sessions-a", "sessions-b"):
        MockgwHandle(strict, session).reset()
    with pytest.raises(openai.NotFoundError):
        client(strict.url, "sessions-a").chat.completions.create(
            model="openai/gpt-4o", messages=[{"role": "user", "content": "anyone?"}]
        )
    client(strict.url, "sessions-b").models.list()
    listed = {s["name"]: s for s in get(f"{strict.url}/__mockgw/sessions")["sessions"]}
    assert listed["sessions-a"] == {"name": "sessions-a", "calls": 1, "problems": 1}
    assert listed["sessions-b"] == {"name": "sessions-b", "calls": 1, "problems": 0}


@pytest.mark.parametrize(
    ("path", "name", "valid"),
    [
        ("/calls?sesion=job-3", "sesion", "edgee_session_id, fixture, limit, model, path, session, status, tag, text"),
        ("/problems?sesion=job-3", "sesion", "session"),
        ("/holds?wait=1", "wait", "fixture, session, timeout, wait_for"),
    ],
)
def test_an_unknown_query_parameter_is_a_400_naming_the_valid_ones(
    strict: LocalServer, path: str, name: str, valid: str
) -> None:
    """Stumble 10: `GET /__mockgw/calls?sesion=job-3` silently answered the default session's empty journal."""
    status, error = refusal(f"{strict.url}/__mockgw{path}")
    assert (status, error["code"], error["param"]) == (400, "unknown_parameter", name)
    assert valid in error["message"]
    assert error["message"].startswith(f"Unknown query parameter '{name}' on GET /__mockgw{path.split('?')[0]}.")
    prefixed = refusal(f"{strict.url}/s/job-3/__mockgw{path}")
    assert prefixed[1]["message"] == error["message"]


def test_the_typo_of_session_gets_a_did_you_mean(strict: LocalServer) -> None:
    _, error = refusal(f"{strict.url}/__mockgw/calls?sesion=job-3")
    assert "Did you mean 'session'?" in error["message"]


def test_a_client_retrying_for_ever_does_not_grow_the_problems_without_bound(
    strict: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    handle = MockgwHandle(strict, "retrying")
    handle.reset()
    monkeypatch.setattr(gateway_state, "PROBLEMS_KEPT", 3)
    for _ in range(5):
        with pytest.raises(openai.NotFoundError):
            client(strict.url, "retrying").chat.completions.create(
                model="openai/gpt-4o", messages=[{"role": "user", "content": "again"}]
            )
    problems = handle.problems()
    assert len(problems) == 4
    assert problems[-1] == "... 2 more problems (the first 3 are listed)"
