"""OpenAI chat completions as the Edgee gateway speaks it (`POST /v1/chat/completions`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mockgw.core import tokens
from mockgw.core.codec import edit_json, event_data, null_keys
from mockgw.core.conversation import Conversation, Message, Tool, ToolCall, ToolChoice
from mockgw.core.errors import ApiError
from mockgw.core.jsontext import dumps_compact
from mockgw.core.reply import Reply, ReplyMeta, Usage
from mockgw.dialects import sse_data

TEXT_PART_TYPES = ("text", "input_text", "output_text")
# Compact JSON as sse_data writes it; one encoder instance (it keeps only its options) spares a new one per event.
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
# what _ENCODE does with a str (the C string encoder), without its Python frame: once per streamed event
_ENCODE_STR = json.encoder.encode_basestring


def content_text(content: Any) -> str:
    """The text of a message `content`: a string, null, or an array of parts (non-text parts are skipped)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part.get("text", "")
            for part in content
            if isinstance(part, Mapping) and part.get("type") in TEXT_PART_TYPES and isinstance(part.get("text"), str)
        )
    return ""


def header_tags(headers: Mapping[str, str]) -> tuple[str, ...]:
    """Tags from the `X-Edgee-Tags` header (comma separated)."""
    raw = headers.get("x-edgee-tags")
    if not raw:  # most requests
        return ()
    return tuple(tag.strip() for tag in raw.split(",") if tag.strip())


def _tool_choice(value: Any) -> ToolChoice | None:
    if value is None:
        return None
    if isinstance(value, str):
        return ToolChoice(value)
    if isinstance(value, Mapping):
        if value.get("type") == "function":
            return ToolChoice("function", value.get("function", {}).get("name"))
        return ToolChoice(str(value.get("type")))
    return None


def _message(raw: Mapping[str, Any]) -> Message:
    raw_calls = raw.get("tool_calls")
    calls = (
        tuple(
            ToolCall(
                call.get("id", ""),
                call.get("function", {}).get("name", ""),
                call.get("function", {}).get("arguments", ""),
            )
            for call in raw_calls
        )
        if raw_calls
        else ()
    )
    content = raw.get("content")
    # positional: a frozen dataclass's __init__ by keyword costs more, and every message of every request is one
    return Message(
        raw["role"],
        content if isinstance(content, str) else content_text(content),
        calls,
        raw.get("tool_call_id"),
        raw.get("name"),
    )


def usage_json(usage: Usage) -> dict[str, Any]:
    """Usage with every documented field (the Python SDK crashes on a null or partial usage)."""
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_tokens},
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


class ChatStream:
    """Faults in a chat stream: `data:`-only events, `[DONE]` at the end, an error as the gateway's envelope."""

    name = "chat"

    def error_event(self, error: ApiError, number: int) -> bytes:
        return sse_data(error.envelope())

    def is_terminal(self, event: bytes) -> bool:
        return event_data(event) == b"[DONE]"

    def without_finish_reason(self, event: bytes) -> bytes:
        return edit_json(event, lambda chunk: null_keys(chunk, frozenset({"finish_reason"})))


class ChatDialect:
    """Parse and render the chat completions wire format."""

    endpoint = "chat"
    schema = "chat_request"
    id_prefix = "chatcmpl-"
    codec = ChatStream()

    def parse(self, body: Mapping[str, Any], headers: Mapping[str, str]) -> Conversation:
        # Runs on every request: bodies come from JSON, so `dict` checks (isinstance against the Mapping ABC
        # costs several times more), and nothing built for keys the request does not use.
        options = body.get("stream_options")
        max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
        tags = body.get("tags")
        tools = body.get("tools")
        response_format = body.get("response_format")
        return Conversation(
            endpoint=self.endpoint,
            model=body["model"],
            messages=tuple(map(_message, body["messages"])),
            tools=tuple(
                Tool(
                    t["function"]["name"],
                    t["function"].get("description", ""),
                    t["function"].get("parameters") or {},
                )
                for t in tools
            )
            if tools
            else (),
            tool_choice=_tool_choice(body.get("tool_choice")),
            stream=bool(body.get("stream", False)),
            include_usage=bool(options.get("include_usage", False)) if isinstance(options, dict) else False,
            max_tokens=max_tokens if isinstance(max_tokens, int) else None,
            tags=(tuple(t for t in tags if isinstance(t, str)) if tags else ()) + header_tags(headers),
            response_format=response_format if isinstance(response_format, dict) else None,
            headers=headers,
            body=body,
        )

    def render(self, reply: Reply, meta: ReplyMeta) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.content}
        if reply.tool_calls:
            message["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in reply.tool_calls
            ]
        if reply.refusal is not None:
            message["refusal"] = reply.refusal
        return {
            "id": meta.id,
            "object": "chat.completion",
            "created": meta.created,
            "model": meta.model,
            "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}],
            "usage": usage_json(reply.usage),
        }

    def stream(self, reply: Reply, meta: ReplyMeta) -> list[bytes]:
        """Role chunk, content chunks, tool-call deltas (OpenAI's incremental form), final chunk, [DONE]."""
        head = {
            "id": meta.id,
            "object": "chat.completion.chunk",
            "created": meta.created,
            "model": meta.model,
        }

        # Every chunk is the same head around a different delta: encode the head once and splice each delta in.
        # The bytes equal sse_data() of the whole chunk, at a third of the cost (see bench/hotpath.py).
        chunk_prefix = f'data: {dumps_compact(head)[:-1].decode()},"choices":[{{"index":0,"delta":'

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            return f'{chunk_prefix}{_ENCODE(delta)},"finish_reason":{_ENCODE(finish)}}}]}}\n\n'.encode()

        events = [f"{chunk_prefix}{_ROLE_DELTA}{_NO_FINISH}".encode()]
        # the text events, most of a stream: chunk({"content": piece}) with only the piece to encode, in a
        # comprehension (no call per event)
        text_prefix = f'{chunk_prefix}{{"content":'
        events += [
            f"{text_prefix}{_ENCODE_STR(piece)}}}{_NO_FINISH}".encode()
            for piece in tokens.chunks(reply.content or "", meta.chunk_tokens)
        ]
        if reply.refusal:
            text_prefix = f'{chunk_prefix}{{"refusal":'
            events += [
                f"{text_prefix}{_ENCODE_STR(piece)}}}{_NO_FINISH}".encode()
                for piece in tokens.chunks(reply.refusal, meta.chunk_tokens)
            ]
        for index, call in enumerate(reply.tool_calls):
            opening = {
                "index": index,
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            events.append(chunk({"tool_calls": [opening]}))
            events.extend(
                chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
                for piece in tokens.chunks(call.arguments, meta.chunk_tokens)
            )
        final: dict[str, Any] = {**head, "choices": [{"index": 0, "delta": {}, "finish_reason": reply.finish_reason}]}
        if meta.include_usage and meta.separate_usage_chunk:
            events.append(sse_data(final))
            final = {**head, "choices": []}
        if meta.include_usage:
            final["usage"] = usage_json(reply.usage)
        # ids, integers and strings only: dumps_compact writes sse_data's bytes, faster
        events.append(b"data: " + dumps_compact(final) + b"\n\n")
        events.append(_DONE)
        return events


_ROLE_DELTA = '{"role":"assistant","content":""}'  # the first chunk's delta, as _ENCODE writes it
_NO_FINISH = ',"finish_reason":null}]}\n\n'  # how every chunk but the last ends
_DONE = b"data: [DONE]\n\n"


CHAT = ChatDialect()


def _any_str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _any_function(call: Mapping[str, Any]) -> Mapping[str, Any]:
    function = call.get("function")
    return function if isinstance(function, Mapping) else {}


def _any_message(raw: Mapping[str, Any]) -> Message:
    raw_calls = raw.get("tool_calls")
    calls = tuple(
        ToolCall(
            _any_str(c.get("id")), _any_str(_any_function(c).get("name")), _any_str(_any_function(c).get("arguments"))
        )
        for c in (raw_calls if isinstance(raw_calls, list) else ())
        if isinstance(c, Mapping)
    )
    return Message(
        role=_any_str(raw.get("role")) or "user",
        text=content_text(raw.get("content")),
        tool_calls=calls,
        tool_call_id=raw.get("tool_call_id") if isinstance(raw.get("tool_call_id"), str) else None,
    )


def _any_tools(value: Any) -> tuple[Tool, ...]:
    tools = []
    for tool in value if isinstance(value, list) else ():
        fn = tool.get("function") if isinstance(tool, Mapping) else None
        if isinstance(fn, Mapping):
            params = fn.get("parameters")
            tools.append(
                Tool(
                    _any_str(fn.get("name")),
                    _any_str(fn.get("description")),
                    params if isinstance(params, Mapping) else {},
                )
            )
    return tuple(tools)


def chat_conversation(body: Mapping[str, Any], headers: Mapping[str, str]) -> Conversation:
    """A chat-completions-shaped body as a Conversation, tolerating any JSON: for the endpoints that take such
    bodies without validating them as chat (count_tokens, compress). `CHAT.parse` is the fast one, for bodies
    the chat schema accepted."""
    raw_messages = body.get("messages")
    messages = (
        tuple(_any_message(m) for m in raw_messages if isinstance(m, Mapping)) if isinstance(raw_messages, list) else ()
    )
    return Conversation(
        "chat", _any_str(body.get("model")), messages, tools=_any_tools(body.get("tools")), headers=headers, body=body
    )
