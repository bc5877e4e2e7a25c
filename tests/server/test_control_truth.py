"""The control endpoint tells the whole truth (issue 12, stumble 13): listed fault rules show their match, reset
releases held answers, and a fixture's usage takes the `total_tokens` of a pasted real answer."""

from __future__ import annotations

import threading

import openai
import pytest

from mockgw.core.errors import FixtureError
from mockgw.handle import MockgwHandle
from tests.conftest import API_KEY


def ask(handle: MockgwHandle, text: str) -> openai.types.chat.ChatCompletion:
    return openai.OpenAI(base_url=handle.url, api_key=API_KEY, max_retries=0).chat.completions.create(
        model="openai/gpt-4o", messages=[{"role": "user", "content": text}]
    )


def test_listed_fault_rules_show_their_match(session_handle: MockgwHandle) -> None:
    session_handle.fault({"type": "error", "status": 503}, match={"last_user_message": "checkout"}, name="a")
    session_handle.fault({"type": "error", "status": 503}, match={"tags": ["billing"]}, name="b")
    listed = session_handle.control("GET", "/faults")["faults"]
    assert [(rule["name"], rule["match"]) for rule in listed] == [
        ("a", {"last_user_message": "checkout"}),
        ("b", {"tags": ["billing"]}),
    ]


def test_reset_releases_held_answers(session_handle: MockgwHandle) -> None:
    session_handle.add({"name": "slow", "reply": {"content": "finally", "hold": True}})
    answers: list[str | None] = []
    waiting = threading.Thread(target=lambda: answers.append(ask(session_handle, "hi").choices[0].message.content))
    waiting.start()
    assert len(session_handle.control("GET", "/holds?wait_for=1&timeout=10")["held"]) == 1
    assert session_handle.control("POST", "/reset") == {"reset": True, "released": 1}
    waiting.join(10)
    assert answers == ["finally"]
    assert session_handle.control("GET", "/holds")["held"] == []


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        ({"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}, (12, 5, 17)),
        ({"prompt_tokens": 12, "total_tokens": 17}, (12, 5, 17)),
        ({"completion_tokens": 5, "total_tokens": 17}, (12, 5, 17)),
    ],
)
def test_usage_accepts_total_tokens(
    session_handle: MockgwHandle, usage: dict[str, int], expected: tuple[int, ...]
) -> None:
    session_handle.add({"name": "pasted", "reply": {"content": "hi", "usage": usage}})
    got = ask(session_handle, "hello").usage
    assert got is not None
    assert (got.prompt_tokens, got.completion_tokens, got.total_tokens) == expected


@pytest.mark.parametrize(
    ("usage", "message"),
    [
        (
            {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 18},
            "18 is not prompt_tokens + completion_tokens (12 + 5 = 17)",
        ),
        ({"prompt_tokens": 20, "total_tokens": 17}, "17 is less than the tokens given"),
        ({"total_tokens": 17}, "give prompt_tokens or completion_tokens with it (it is their sum)"),
    ],
)
def test_usage_refuses_a_total_that_disagrees(
    session_handle: MockgwHandle, usage: dict[str, int], message: str
) -> None:
    with pytest.raises(FixtureError) as refused:
        session_handle.add({"name": "pasted", "reply": {"content": "hi", "usage": usage}})
    assert "reply.usage.total_tokens" in str(refused.value)
    assert message in str(refused.value)
