"""`MockgwHandle.control`: the rest of the control endpoint (holds, release, clock, scenarios...) from the handle a
test already holds, scoped to its session, the same for a server in this process and a running `mockgw serve`."""

from __future__ import annotations

import threading

import openai
import pytest

from mockgw import MockgwHandle
from mockgw.core.errors import MockgwError
from mockgw.handle import LocalServer, RemoteServer
from tests.conftest import API_KEY


@pytest.mark.parametrize("where", ["local", "remote"])
def test_a_held_answer_is_listed_and_released_in_the_handles_session(shared_server: LocalServer, where: str) -> None:
    target = shared_server if where == "local" else RemoteServer(shared_server.url)
    mockgw, other = MockgwHandle(target, f"held-{where}"), MockgwHandle(target, f"other-{where}")
    mockgw.add({"name": "slow", "reply": {"content": "finally", "hold": True}})
    client = openai.OpenAI(base_url=mockgw.url, api_key=API_KEY, max_retries=0)
    answers: list[str | None] = []

    def ask() -> None:
        completion = client.chat.completions.create(model="openai/gpt-4o", messages=[{"role": "user", "content": "hi"}])
        answers.append(completion.choices[0].message.content)

    waiting = threading.Thread(target=ask)
    waiting.start()
    held = mockgw.control("GET", "/holds?wait_for=1&timeout=10")["held"]
    assert [h["fixture"] for h in held] == ["slow"]
    assert other.control("GET", "holds") == {"held": []}  # another session's holds are not ours
    assert other.control("POST", "/release") == {"released": 0}
    assert mockgw.control("POST", "/release") == {"released": 1}
    waiting.join(10)
    assert answers == ["finally"]
    assert mockgw.last_call.delivered["released_by"] == "release"


def test_a_refused_control_request_raises_with_the_status_and_the_servers_error(shared_server: LocalServer) -> None:
    mockgw = MockgwHandle(shared_server, "clock")
    with pytest.raises(MockgwError) as refused:
        mockgw.control("PUT", "/clock", {"now": "next tuesday"})
    message = str(refused.value)
    assert f"mockgw at {shared_server.url}: PUT /__mockgw/clock answered 400: " in message
    assert '"param":"now"' in message.replace(" ", "")
    assert mockgw.control("PUT", "/clock", {"now": None})["fixed"] is False
