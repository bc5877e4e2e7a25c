"""Sessions on one shared server: the X-Mockgw-Session header and the /s/<session>/ URL prefix isolate tests."""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import anthropic
import openai
import pytest
from edgee import Edgee

from mockgw.handle import SESSION_HEADER, MockgwHandle, RemoteServer
from mockgw.server.runner import MockGateway
from tests.conftest import API_KEY


def control(url: str, method: str = "GET", payload: Any = None, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(url, method=method, data=None if payload is None else json.dumps(payload).encode())
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def ask(base_url: str, text: str = "hi", **client: Any) -> str | None:
    completion = openai.OpenAI(base_url=base_url, api_key=API_KEY, max_retries=0, **client).chat.completions.create(
        model="openai/gpt-4o", messages=[{"role": "user", "content": text}]
    )
    return completion.choices[0].message.content


@pytest.fixture
def shared(gateway_factory: Callable[..., MockGateway]) -> MockGateway:
    return gateway_factory()


def test_url_prefix_scopes_fixtures_calls_and_control(shared: MockGateway) -> None:
    fixture = {"name": "hi", "reply": {"content": "only in a"}}
    assert control(f"{shared.url}/s/a/__mockgw/fixtures", "POST", fixture) == {"added": ["hi"]}
    assert ask(f"{shared.url}/s/a/v1") == "only in a"
    assert ask(f"{shared.url}/s/b/v1") != "only in a"
    assert ask(shared.base_url) != "only in a"
    calls = control(f"{shared.url}/s/a/__mockgw/calls")["calls"]
    assert [(c["session"], c["path"], c["fixture"]) for c in calls] == [("a", "/v1/chat/completions", "hi")]
    assert [f["name"] for f in control(f"{shared.url}/s/a/__mockgw/fixtures")["fixtures"]] == ["hi"]
    assert control(f"{shared.url}/s/b/__mockgw/fixtures")["fixtures"] == []
    control(f"{shared.url}/s/a/__mockgw/reset", "POST")
    assert control(f"{shared.url}/s/a/__mockgw/calls")["calls"] == []
    assert len(control(f"{shared.url}/__mockgw/calls?all")["calls"]) == 2  # sessions b and "" kept theirs


@pytest.mark.parametrize("how", ["header", "query", "prefix"])
def test_every_control_operation_honours_the_session(shared: MockGateway, how: str) -> None:
    def url(path: str) -> str:
        if how == "prefix":
            return f"{shared.url}/s/mine/__mockgw{path}"
        if how == "query":
            return f"{shared.url}/__mockgw{path}{'&' if '?' in path else '?'}session=mine"
        return f"{shared.url}/__mockgw{path}"

    headers = {SESSION_HEADER: "mine"} if how == "header" else {}
    control(url("/fixtures"), "POST", {"name": "x", "reply": {"content": "mine"}}, headers)
    assert ask(shared.base_url, default_headers={SESSION_HEADER: "mine"}) == "mine"
    assert control(url("/health"), headers=headers)["fixtures"] == 1
    assert [f["uses"] for f in control(url("/fixtures"), headers=headers)["fixtures"]] == [1]
    assert len(control(url("/calls"), headers=headers)["calls"]) == 1
    assert control(url("/problems"), headers=headers) == {"problems": []}
    control(url("/calls"), "DELETE", headers=headers)
    assert control(url("/calls"), headers=headers)["calls"] == []
    assert control(url("/fixtures?name=x"), "DELETE", headers=headers) == {"removed": 1}
    control(url("/reset"), "POST", headers=headers)
    assert control(f"{shared.url}/__mockgw/health")["fixtures"] == 0  # the default session never saw any of it


def test_prefix_isolates_unmodified_edgee_and_anthropic_clients(shared: MockGateway) -> None:
    handle = MockgwHandle(RemoteServer(shared.url), session="t1")
    handle.add({"name": "hi", "reply": {"content": "scoped"}})
    assert (
        Edgee({"api_key": API_KEY, "base_url": handle.root_url}).send(model="openai/gpt-4o", input="x").text == "scoped"
    )
    # The anthropic SDK appends /v1/messages to its base URL: the prefix reaches the server whatever the route.
    # Whether /v1/messages is served or not, the call lands in the session's journal.
    with contextlib.suppress(anthropic.APIStatusError):
        anthropic.Anthropic(base_url=handle.root_url, api_key=API_KEY, max_retries=0).messages.create(
            model="anthropic/claude-sonnet-4", max_tokens=10, messages=[{"role": "user", "content": "x"}]
        )
    assert [(c.path, c.session) for c in handle.calls] == [
        ("/v1/chat/completions", "t1"),
        ("/v1/messages", "t1"),
    ]


def test_a_session_name_outside_the_allowed_characters_is_not_a_session(shared: MockGateway) -> None:
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{shared.url}/s/a%20b/v1/models")
    assert caught.value.code == 404
    assert json.load(caught.value)["error"]["code"] == "not_found"
