"""Properties of token compression: never more tokens, a reduction that agrees with the tokens saved, and the
same numbers from `/v1/compress` and from a chat completion of the same body (through the pipeline)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockgw.gateway import compression, pipeline
from mockgw.gateway.config import Settings
from mockgw.gateway.outcome import RawRequest
from mockgw.gateway.state import GatewayState

STATE = GatewayState(Settings())
WORDS = st.sampled_from(["alpha", "beta", "gamma", "delta", "42", "degrees", "reading", ",", "."])
TEXT = st.lists(WORDS, min_size=0, max_size=400).map(" ".join)


@st.composite
def chat_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """A chat body with some tool rounds (their results of any length) and optionally a described tool."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": draw(TEXT) or "hi"}]
    for index in range(draw(st.integers(0, 3))):
        call_id = f"call_{index}"
        messages.append(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": call_id, "type": "function", "function": {"name": "read", "arguments": "{}"}}],
            }
        )
        messages.append({"role": "tool", "tool_call_id": call_id, "content": draw(TEXT)})
    body: dict[str, Any] = {"model": "openai/gpt-4o", "messages": messages}
    if draw(st.booleans()):
        description = draw(TEXT)
        body["tools"] = [{"type": "function", "function": {"name": "read", "description": description}}]
    return body


@st.composite
def compression_headers(draw: st.DrawFn) -> dict[str, str]:
    """Any valid combination of the compression headers (at least one, so compression is asked for)."""
    headers: dict[str, str] = {"x-edgee-enable-compression": "true"}
    if draw(st.booleans()):
        headers["x-edgee-compression-rate"] = str(draw(st.floats(0, 1, allow_nan=False)))
    if draw(st.booleans()):
        headers["x-edgee-compression-model"] = draw(st.sampled_from(["claude", "opencode", "codex", "cursor"]))
    for header in compression.STRATEGY_HEADERS.values():
        choice = draw(st.sampled_from([None, "true", "false"]))
        if choice is not None:
            headers[header] = choice
    return headers


def post(path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    raw = RawRequest.received(
        "POST", path, {"authorization": "Bearer sk-prop", "content-type": "application/json", **headers},
        json.dumps(body).encode(),
    )  # fmt: skip
    handler = pipeline.handle_completion if path == "/v1/chat/completions" else pipeline.handle_compress
    outcome = handler(STATE, raw)
    assert outcome.status == 200, outcome.body
    return json.loads(outcome.body)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chat_bodies(), compression_headers())
def test_compression_never_adds_tokens_and_agrees_with_v1_compress(
    body: dict[str, Any], headers: dict[str, str]
) -> None:
    report = post("/v1/compress", body, headers)["compression"]
    completion = post("/v1/chat/completions", body, headers)
    info, usage = completion["compression"], completion["usage"]
    uncompressed = report["uncompressed_input_tokens"]
    assert report["compressed_input_tokens"] <= uncompressed
    assert usage["prompt_tokens"] <= uncompressed
    assert usage["prompt_tokens"] == report["compressed_input_tokens"]  # the same numbers from both endpoints
    assert info["saved_tokens"] == uncompressed - report["compressed_input_tokens"]
    assert usage["prompt_tokens"] + info["saved_tokens"] == uncompressed
    assert abs(info["reduction"] - (100 * info["saved_tokens"] / uncompressed)) < 1e-9
    assert 0 <= info["reduction"] <= 100
    assert abs(report["compression_rate"] - info["reduction"] / 100) <= 0.00005 + 1e-12  # rounded to 4 places
    assert info["time_ms"] == report["compression_time_ms"]


@settings(max_examples=60, deadline=None)
@given(TEXT, st.floats(0, 1, allow_nan=False) | st.none())
def test_trimming_never_lengthens_a_tool_result(text: str, rate: float | None) -> None:
    from mockgw.core import tokens

    assert tokens.count(compression.trim(text, rate)) <= tokens.count(text)


@settings(max_examples=40, deadline=None)
@given(chat_bodies(), st.floats(0, 1, allow_nan=False))
def test_a_higher_rate_never_saves_fewer_tokens(body: dict[str, Any], rate: float) -> None:
    def saved(value: float) -> int:
        headers = {"x-edgee-compression-rate": str(value)}
        return int(post("/v1/compress", body, headers)["compression"]["uncompressed_input_tokens"]) - int(
            post("/v1/compress", body, headers)["compression"]["compressed_input_tokens"]
        )

    assert saved(rate / 2) <= saved(rate)
