"""`/v1/count_tokens` and `/v1/compress` over a socket: counts agree with usage, compression is deterministic."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx
import openai
import pytest

from mockgw.gateway.validation import check_response
from mockgw.server.runner import MockGateway
from tests.conftest import API_KEY

BEARER = {"authorization": f"Bearer {API_KEY}"}
CHAT_MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "What is the capital of France, and why?"},
]


def post(gateway: MockGateway, path: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(f"{gateway.url}{path}", json=body, headers=BEARER if headers is None else headers)


def test_count_tokens_equals_chat_prompt_tokens(gateway: MockGateway) -> None:
    client = openai.OpenAI(base_url=gateway.base_url, api_key=API_KEY, max_retries=0)
    completion = client.chat.completions.create(model="openai/gpt-4o", messages=CHAT_MESSAGES)  # type: ignore[arg-type]
    counted = post(gateway, "/v1/count_tokens", {"model": "openai/gpt-4o", "messages": CHAT_MESSAGES})
    assert counted.status_code == 200
    assert completion.usage is not None
    assert counted.json() == {"input_tokens": completion.usage.prompt_tokens}
    assert check_response("count_tokens_response", counted.json()) == []


def test_count_tokens_detects_anthropic_shape(gateway: MockGateway) -> None:
    anthropic_body = {
        "model": "anthropic/claude-sonnet-4.5",
        "system": "You are terse.",
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "What is the capital of France, and why?"}]}
        ],
    }
    counted = post(gateway, "/v1/count_tokens", anthropic_body)
    same_as_chat = post(gateway, "/v1/count_tokens", {"model": "openai/gpt-4o", "messages": CHAT_MESSAGES})
    assert counted.json() == same_as_chat.json()
    via_messages = post(gateway, "/v1/messages/count_tokens", anthropic_body, {"x-api-key": API_KEY})
    assert via_messages.json() == counted.json()


@pytest.mark.parametrize("tokenizer", ["cl100k_base", "o200k_base"])
def test_known_tokenizers_are_accepted(gateway: MockGateway, tokenizer: str) -> None:
    response = post(gateway, "/v1/count_tokens", {"model": "openai/gpt-4o", "messages": [], "tokenizer": tokenizer})
    assert response.status_code == 200 and response.json()["input_tokens"] >= 0


def test_unknown_tokenizer_is_invalid_tokenizer(gateway: MockGateway) -> None:
    response = post(gateway, "/v1/count_tokens", {"model": "openai/gpt-4o", "tokenizer": "p50k_base"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["type"], error["param"]) == ("invalid_tokenizer", "invalid_request_error", "tokenizer")


@pytest.mark.parametrize("path", ["/v1/count_tokens", "/v1/messages/count_tokens", "/v1/compress"])
def test_missing_key_is_401(gateway: MockGateway, path: str) -> None:
    response = post(gateway, path, {"model": "openai/gpt-4o", "messages": []}, headers={})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("path", ["/v1/messages/count_tokens", "/v1/compress"])
def test_x_api_key_is_accepted(gateway: MockGateway, path: str) -> None:
    body = {"model": "claude-sonnet-4.5", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    assert post(gateway, path, body, headers={"x-api-key": API_KEY}).status_code == 200


@pytest.mark.parametrize("path", ["/v1/count_tokens", "/v1/messages/count_tokens", "/v1/compress"])
@pytest.mark.parametrize("body", [[], "x", {}, {"model": 1, "messages": [1, {"role": 2, "content": 3}]}])
def test_malformed_bodies_get_a_4xx_never_a_500(gateway: MockGateway, path: str, body: Any) -> None:
    response = post(gateway, path, body)
    assert response.status_code < 500, response.text
    assert gateway.state.problems == []


LONG_RESULT = " ".join(f"line{i}" for i in range(400))


@pytest.mark.parametrize(
    ("body", "trimmed"),
    [
        (  # chat completions
            {
                "model": "openai/gpt-4o",
                "temperature": 0.2,
                "messages": [
                    {"role": "user", "content": "weather?"},
                    {"role": "tool", "tool_call_id": "call_1", "content": LONG_RESULT},
                ],
            },
            lambda out: out["messages"][1]["content"],
        ),
        (  # Anthropic messages (detected by `system`)
            {
                "model": "claude-sonnet-4.5",
                "system": "Be brief.",
                "max_tokens": 100,
                "messages": [
                    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": LONG_RESULT}]}
                ],
            },
            lambda out: out["messages"][0]["content"][0]["content"],
        ),
        (  # Responses (detected by `input`)
            {
                "model": "openai/gpt-4o",
                "input": [{"type": "function_call_output", "call_id": "c", "output": LONG_RESULT}],
            },
            lambda out: out["input"][0]["output"],
        ),
    ],
)
def test_compress_trims_long_tool_results(gateway: MockGateway, body: dict[str, Any], trimmed: Any) -> None:
    first = post(gateway, "/v1/compress", body)
    assert first.status_code == 200
    out = first.json()
    assert check_response("compress_response", out) == []
    compression = out.pop("compression")
    assert compression["technique"] == "auto"
    assert compression["applied_strategies"] == ["tool_result_trimming"]
    assert compression["compressed_input_tokens"] < compression["uncompressed_input_tokens"]
    expected_rate = 1 - compression["compressed_input_tokens"] / compression["uncompressed_input_tokens"]
    assert compression["compression_rate"] == pytest.approx(expected_rate, abs=1e-4)
    assert trimmed(out).endswith("tokens trimmed]") and len(trimmed(out)) < len(LONG_RESULT)
    assert {k: v for k, v in out.items() if k not in ("messages", "input")} == {
        k: v for k, v in body.items() if k not in ("messages", "input")
    }
    assert post(gateway, "/v1/compress", body).json() == first.json()  # deterministic


def test_compress_leaves_short_requests_alone_and_reports_tool_technique(gateway: MockGateway) -> None:
    body = {"model": "openai/gpt-4o", "compression_model": "agentic", "messages": CHAT_MESSAGES}
    out = post(gateway, "/v1/compress", body).json()
    compression = out.pop("compression")
    assert out == body
    assert compression == {
        "technique": "tool",
        "applied_strategies": [],
        "compression_rate": 0.0,
        "uncompressed_input_tokens": compression["uncompressed_input_tokens"],
        "compressed_input_tokens": compression["uncompressed_input_tokens"],
        "compression_time_ms": 0,
    }
