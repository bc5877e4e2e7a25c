"""What the OpenAPI says is invalid, refused through real clients: bad typed headers, an unknown Anthropic
`tool_choice` type on count_tokens. Each is a 400 in the envelope naming what to fix, and lands in the journal."""

from __future__ import annotations

import anthropic
import httpx2 as httpx
import openai
import pytest

from mockgw.server.runner import MockGateway
from tests.conftest import API_KEY

HELLO = [{"role": "user", "content": "hello"}]


def last_call(gateway: MockGateway) -> dict[str, object]:
    calls = httpx.get(f"{gateway.url}/__mockgw/calls").json()["calls"]
    return dict(calls[-1])


@pytest.mark.parametrize(
    ("header", "value", "allowed"),
    [
        ("X-Edgee-Debug", "yes", "'true' or 'false'"),
        ("X-Edgee-Compression-Model", "customer", "'claude', 'opencode', 'cursor' or 'codex'"),
    ],
)
def test_openai_client_with_a_bad_typed_header_gets_a_400(
    gateway: MockGateway, header: str, value: str, allowed: str
) -> None:
    client = openai.OpenAI(base_url=gateway.base_url, api_key=API_KEY, max_retries=0)
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model="openai/gpt-4o", messages=HELLO, extra_headers={header: value})  # type: ignore[arg-type]
    error = raised.value.body
    assert isinstance(error, dict)
    assert error["code"] == "invalid_request" and error["param"] == header
    assert error["message"] == f"Invalid value for header '{header}': '{value}' is not one of {allowed}."
    assert last_call(gateway)["status"] == 400


def test_documented_header_values_still_work(gateway: MockGateway) -> None:
    client = openai.OpenAI(base_url=gateway.base_url, api_key=API_KEY, max_retries=0)
    reply = client.chat.completions.create(
        model="openai/gpt-4o",
        messages=HELLO,  # type: ignore[arg-type]
        extra_headers={"X-Edgee-Debug": "true", "X-Edgee-Compression-Model": "claude"},
    )
    assert reply.model_extra is not None and reply.model_extra["debug"]["provider"] == "openai"


def test_anthropic_count_tokens_refuses_an_unknown_tool_choice_type(gateway: MockGateway) -> None:
    claude = anthropic.Anthropic(base_url=gateway.url, api_key=API_KEY, max_retries=0)
    with pytest.raises(anthropic.BadRequestError) as raised:
        claude.messages.count_tokens(
            model="claude-sonnet-4.5",
            messages=[{"role": "user", "content": "hello"}],
            tool_choice={"type": "AAA"},  # type: ignore[typeddict-item,misc]
        )
    error = raised.value.body
    assert isinstance(error, dict)
    assert error["error"]["param"] == "tool_choice.type"
    assert "'AAA' is not one of 'auto', 'any', 'tool', 'none'" in error["error"]["message"]
    counted = claude.messages.count_tokens(
        model="claude-sonnet-4.5", messages=[{"role": "user", "content": "hello"}], tool_choice={"type": "none"}
    )
    assert counted.input_tokens > 0
