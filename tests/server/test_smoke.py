"""The real clients against a running gateway, over a socket."""

from __future__ import annotations

import openai
import pytest
from edgee import Edgee

from mockgw.server.runner import MockGateway
from tests.conftest import API_KEY, handle_on


def test_openai_sdk_gets_the_fixture_answer(gateway: MockGateway) -> None:
    client = openai.OpenAI(base_url=gateway.base_url, api_key=API_KEY)
    completion = client.chat.completions.create(
        model="openai/gpt-4o", messages=[{"role": "user", "content": "hello there"}]
    )
    assert completion.choices[0].message.content == "Hello! How can I assist you today?"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.total_tokens > 0


def test_edgee_sdk_send_and_stream(gateway: MockGateway, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEE_BASE_URL", gateway.url)
    client = Edgee(API_KEY)
    answer = client.send(model="openai/gpt-4o", input="hello")
    assert answer.text == "Hello! How can I assist you today?"
    streamed = "".join(chunk.text or "" for chunk in client.stream(model="openai/gpt-4o", input="hello"))
    assert streamed == "Hello! How can I assist you today?"


def test_openai_stream_with_usage(gateway: MockGateway) -> None:
    client = openai.OpenAI(base_url=gateway.base_url, api_key=API_KEY)
    stream = client.chat.completions.create(
        model="openai/gpt-4o",
        messages=[{"role": "user", "content": "hello"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert (
        "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello! How can I assist you today?"
    )
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


def test_journal_records_calls(gateway: MockGateway) -> None:
    client = openai.OpenAI(base_url=gateway.base_url, api_key=API_KEY, max_retries=0)
    client.chat.completions.create(model="openai/gpt-4o", messages=[{"role": "user", "content": "hello"}])
    calls = handle_on(gateway).calls
    assert [c.fixture for c in calls] == ["greeting"]
    assert calls[0].headers["authorization"] == "Bearer [redacted]"
