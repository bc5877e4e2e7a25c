"""Every dialect's stream reassembles, by the SDKs' own accumulators, to the body it renders unstreamed."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx2 as httpx
import pytest
from anthropic.lib.streaming._messages import accumulate_event
from anthropic.types import Message as AnthropicMessage
from anthropic.types import RawMessageStreamEvent
from hypothesis import given, settings
from hypothesis import strategies as st
from openai import omit
from openai.lib.streaming.responses._responses import ResponseStreamState
from openai.types.responses import ResponseStreamEvent
from pydantic import TypeAdapter

from mockgw.core.conversation import ToolCall
from mockgw.core.errors import gateway_error
from mockgw.core.reply import FINISH_REASONS, Reply, ReplyMeta, Usage
from mockgw.dialects import messages, responses
from mockgw.dialects.chat import CHAT
from mockgw.dialects.messages import MESSAGES
from mockgw.dialects.responses import RESPONSES
from mockgw.gateway.validation import check_response

_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
_args = st.dictionaries(st.text(min_size=1, max_size=8), st.one_of(st.integers(), _text, st.booleans()), max_size=3)
_calls = st.lists(
    st.builds(
        lambda i, name, args: ToolCall(f"call_{i}", name, json.dumps(args)),
        st.integers(0, 10**6),
        st.from_regex(r"[a-z_]{1,12}", fullmatch=True),
        _args,
    ),
    max_size=3,
    unique_by=lambda call: call.id,  # call ids are unique within a reply (clients key on them)
)
replies = st.builds(
    Reply,
    content=st.one_of(st.none(), _text),
    tool_calls=_calls.map(tuple),
    finish_reason=st.sampled_from(FINISH_REASONS),
    usage=st.builds(Usage, st.integers(0, 5000), st.integers(0, 5000), st.integers(0, 100), st.integers(0, 100)),
    refusal=st.one_of(st.none(), _text.filter(bool)),
)
metas = st.builds(
    ReplyMeta,
    id=st.just("msg_abc123"),
    created=st.integers(1_700_000_000, 1_800_000_000),
    model=st.just("claude-sonnet-4.5"),
    chunk_tokens=st.integers(1, 4),
)

# Strict validation against the SDKs' event types (stricter than the SDKs themselves, which construct leniently).
ANTHROPIC_EVENTS: TypeAdapter[RawMessageStreamEvent] = TypeAdapter(RawMessageStreamEvent)
RESPONSES_EVENTS: TypeAdapter[ResponseStreamEvent] = TypeAdapter(ResponseStreamEvent)

# Where the published schemas are narrower than the wire formats the SDKs read, we follow the wire formats:
# Anthropic's `refusal` stop reason, OpenAI's `refusal` content part, and a message_start's null stop_reason.
REFUSAL_STOP = "Invalid value for 'stop_reason': 'refusal' is not one of 'end_turn', 'max_tokens', 'tool_use'."


def schema_problems(kind: str, body: dict[str, Any]) -> list[str]:
    """The schema violations of a rendered body, less the documented deliberate ones."""
    if kind == "messages_response" and body.get("stop_reason") is None:
        body = {k: v for k, v in body.items() if k not in ("stop_reason", "stop_sequence")}
    if kind == "responses_response":
        body = {
            **body,
            "output": [
                {**item, "content": [p for p in item["content"] if p["type"] != "refusal"]} for item in body["output"]
            ],
        }
    return [p for p in check_response(kind, body) if p != REFUSAL_STOP]


def split_sse(event: bytes) -> tuple[str, dict[str, Any]]:
    """One event's name and data, checking the exact framing `event: <name>\\ndata: <json>\\n\\n`."""
    text = event.decode()
    assert text.endswith("\n\n") and text.count("\n") == 3, text
    name_line, data_line = text[:-2].split("\n")
    assert name_line.startswith("event: ") and data_line.startswith("data: ")
    data = json.loads(data_line.removeprefix("data: "))
    assert data["type"] == name_line.removeprefix("event: ")
    return data["type"], data


@settings(max_examples=30, deadline=None)
@given(replies, metas)
def test_anthropic_stream_reassembles_to_the_message(reply: Reply, meta: ReplyMeta) -> None:
    snapshot: Any = None
    bufs: dict[int, bytes] = {}
    names = []
    for raw in MESSAGES.stream(reply, meta):
        name, data = split_sse(raw)
        names.append(name)
        if name == "ping":
            continue
        if name == "message_start":
            assert schema_problems("messages_response", data["message"]) == []
        snapshot = accumulate_event(
            event=ANTHROPIC_EVENTS.validate_python(data), current_snapshot=snapshot, json_bufs=bufs
        )
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert snapshot is not None
    assert schema_problems("messages_response", MESSAGES.render(reply, meta)) == []
    assert snapshot.model_dump(mode="json") == AnthropicMessage.model_validate(MESSAGES.render(reply, meta)).model_dump(
        mode="json"
    )


def _essentials(item: dict[str, Any]) -> Any:
    """What a client reads of an output item: its type and text parts, or its call."""
    if item["type"] == "function_call":
        return ("function_call", item["id"], item["call_id"], item["name"], item["arguments"])
    # refusal text is not built from deltas by the SDK (it reads it from response.completed)
    return ("message", item["id"], [(p["type"], p.get("text")) for p in item["content"]])


@settings(max_examples=30, deadline=None)
@given(replies, metas)
def test_responses_stream_reassembles_to_the_response(reply: Reply, meta: ReplyMeta) -> None:
    meta = ReplyMeta(id="resp_abc", created=meta.created, model="openai/gpt-4o", chunk_tokens=meta.chunk_tokens)
    state: ResponseStreamState[None] = ResponseStreamState(input_tools=omit, text_format=omit)
    names = []
    rendered = RESPONSES.render(reply, meta)
    for number, raw in enumerate(RESPONSES.stream(reply, meta)):
        name, data = split_sse(raw)
        assert data["sequence_number"] == number
        names.append(name)
        if "response" in data:
            assert schema_problems("responses_response", data["response"]) == []
        state.handle_event(RESPONSES_EVENTS.validate_python(data))
    # what the deltas built (the SDK keeps it privately) is the rendered output, item for item
    built = state._ResponseStreamState__current_snapshot.output  # type: ignore[attr-defined]
    assert [_essentials(item.model_dump(mode="json")) for item in built] == [
        _essentials(item) for item in rendered["output"]
    ]
    assert names[:2] == ["response.created", "response.in_progress"] and names[-1] == "response.completed"
    final = state._completed_response
    assert final is not None
    assert final.model_dump(mode="json", exclude_none=True) == type(final).model_validate(rendered).model_dump(
        mode="json", exclude_none=True
    )


@settings(max_examples=30, deadline=None)
@given(replies, metas)
def test_chat_stream_reassembles_to_the_completion(reply: Reply, meta: ReplyMeta) -> None:
    rendered = CHAT.render(reply, meta)["choices"][0]
    content, refusal, calls, finish = "", "", {}, None
    for raw in CHAT.stream(reply, meta)[:-1]:
        chunk = json.loads(raw.decode().removeprefix("data: "))
        for choice in chunk["choices"]:
            delta = choice["delta"]
            content += delta.get("content") or ""
            refusal += delta.get("refusal") or ""
            for call in delta.get("tool_calls") or ():
                entry = calls.setdefault(call["index"], {"id": call.get("id"), "name": "", "arguments": ""})
                entry["name"] += call.get("function", {}).get("name", "")
                entry["arguments"] += call["function"]["arguments"]
            finish = choice["finish_reason"] or finish
    assert content == (rendered["message"]["content"] or "")
    assert [c["arguments"] for c in calls.values()] == [c.arguments for c in reply.tool_calls]
    assert finish == reply.finish_reason


def test_anthropic_error_event_makes_the_sdk_raise() -> None:
    events = MESSAGES.stream(Reply("Hello there", (), "stop", Usage(1, 2)), ReplyMeta("msg_1", 1, "m"))
    body = b"".join([*events[:3], messages.error_event(gateway_error(502))])
    request = httpx.Request("POST", "http://127.0.0.1/v1/messages")
    response = httpx.Response(200, content=body, headers={"content-type": "text/event-stream"}, request=request)
    client = anthropic.Anthropic(api_key="k", base_url="http://127.0.0.1")
    stream = anthropic.Stream(cast_to=RawMessageStreamEvent, response=response, client=client)  # type: ignore[type-abstract]
    with pytest.raises(anthropic.APIStatusError) as caught:
        list(stream)
    assert caught.value.body == {
        "type": "error",
        "error": {
            "type": "provider_error",
            "message": gateway_error(502).message,
            "code": "provider_error",
            "param": None,
        },
    }


def test_responses_error_event_is_typed_as_the_sdk_expects() -> None:
    _, data = split_sse(responses.error_event(gateway_error(502), 7))
    parsed = RESPONSES_EVENTS.validate_python(data)
    assert parsed.type == "error" and parsed.sequence_number == 7 and parsed.code == "provider_error"
