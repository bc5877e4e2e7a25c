"""Anthropic Messages as the Edgee gateway speaks it (`POST /v1/messages`).

Parsing is defensive: the request schema normally refuses malformed bodies first, but a body that slips through
(or a schema that is looser than this code) must still give a Conversation, never an exception.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mockgw.core import tokens
from mockgw.core.codec import edit_json, event_name, null_keys
from mockgw.core.conversation import Conversation, Message, ToolCall, ToolChoice
from mockgw.core.errors import ApiError
from mockgw.core.reply import Reply, ReplyMeta, Usage
from mockgw.dialects import as_str, function_tools
from mockgw.dialects.chat import header_tags

# Neutral finish_reason -> Anthropic stop_reason.
STOP_REASONS: Mapping[str, str] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
}
_TOOL_CHOICE_MODES: Mapping[str, str] = {"auto": "auto", "any": "required", "none": "none", "tool": "function"}


def sse_event(name: str, payload: Mapping[str, Any]) -> bytes:
    """One named SSE event, `event: <name>\\ndata: <compact json>\\n\\n`."""
    data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return f"event: {name}\ndata: {data}\n\n".encode()


def error_event(error: ApiError) -> bytes:
    """An in-stream failure as Anthropic sends it (`event: error`); the SDKs raise it as an API error.

    The `error` object keeps the gateway's `code` and `param` beside Anthropic's `type` and `message`."""
    detail = {"type": error.type, "message": error.message, "code": error.code, "param": error.param}
    return sse_event("error", {"type": "error", "error": detail})


def blocks_text(content: Any) -> str:
    """The text of Anthropic content: a string, or the `text` blocks of a block list (others skipped)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            block["text"]
            for block in content
            if isinstance(block, Mapping) and block.get("type") == "text" and isinstance(block.get("text"), str)
        )
    return ""


def compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def arguments_object(arguments: str) -> dict[str, Any]:
    """A tool call's JSON arguments as the object Anthropic's `input` must be ({} when they are not an object)."""
    try:
        parsed = json.loads(arguments) if arguments.strip() else {}
    except json.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _turn(raw: Any) -> list[Message]:
    """One Anthropic message as neutral messages: tool results become `tool` messages, before any text."""
    if not isinstance(raw, Mapping):
        return []
    role = as_str(raw.get("role"), "user")
    content = raw.get("content")
    if not isinstance(content, list):
        return [Message(role=role, text=blocks_text(content))]
    results: list[Message] = []
    calls: list[ToolCall] = []
    for block in content:
        if not isinstance(block, Mapping):
            continue
        if block.get("type") == "tool_result":
            results.append(
                Message(
                    role="tool", text=blocks_text(block.get("content")), tool_call_id=as_str(block.get("tool_use_id"))
                )
            )
        elif block.get("type") == "tool_use":
            arguments = block.get("input")
            calls.append(
                ToolCall(
                    as_str(block.get("id")), as_str(block.get("name")), compact_json(arguments if arguments else {})
                )
            )
    text = blocks_text(content)
    if results and not text and not calls:
        return results
    return [*results, Message(role=role, text=text, tool_calls=tuple(calls))]


def _tool_choice(value: Any) -> ToolChoice | None:
    if not isinstance(value, Mapping):
        return None
    kind = as_str(value.get("type"))
    mode = _TOOL_CHOICE_MODES.get(kind, kind)
    return ToolChoice(mode, as_str(value.get("name")) or None if mode == "function" else None)


def parse_messages_body(body: Mapping[str, Any], headers: Mapping[str, str], endpoint: str) -> Conversation:
    """An Anthropic-shaped body (messages or count_tokens) as a Conversation."""
    system = blocks_text(body.get("system"))
    messages: list[Message] = [Message(role="system", text=system)] if system else []
    raw_messages = body.get("messages")
    for raw in raw_messages if isinstance(raw_messages, list) else ():
        messages.extend(_turn(raw))
    max_tokens = body.get("max_tokens")
    return Conversation(
        endpoint=endpoint,
        model=as_str(body.get("model")),
        messages=tuple(messages),
        tools=function_tools(body.get("tools"), "input_schema"),
        tool_choice=_tool_choice(body.get("tool_choice")),
        stream=body.get("stream") is True,
        include_usage=True,  # Anthropic streams always carry usage
        max_tokens=max_tokens if isinstance(max_tokens, int) and not isinstance(max_tokens, bool) else None,
        tags=header_tags(headers),
        headers=headers,
        body=body,
    )


def usage_json(usage: Usage) -> dict[str, Any]:
    """Anthropic usage: `input_tokens` excludes the tokens read from the prompt cache."""
    return {
        "input_tokens": max(0, usage.prompt_tokens - usage.cached_tokens),
        "output_tokens": usage.completion_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": usage.cached_tokens,
    }


def stop_reason(reply: Reply) -> str:
    return STOP_REASONS.get(reply.finish_reason, "end_turn")


def _text(reply: Reply) -> str | None:
    """The text block's text: the content, then any refusal (Anthropic has no separate refusal field)."""
    parts = [p for p in (reply.content, reply.refusal) if p]
    if parts:
        return "".join(parts)
    if reply.content is not None or not reply.tool_calls:
        return ""
    return None


class MessagesStream:
    """Faults in an Anthropic stream: named events, `message_stop` at the end, `event: error` for failures."""

    name = "messages"

    def error_event(self, error: ApiError, number: int) -> bytes:
        return error_event(error)

    def is_terminal(self, event: bytes) -> bool:
        return event_name(event) == "message_stop"

    def without_finish_reason(self, event: bytes) -> bytes:
        """`stop_reason` (and `stop_sequence`) null, in `message_delta` where the SDKs read it."""
        if event_name(event) != "message_delta":
            return event
        return edit_json(event, lambda payload: null_keys(payload, frozenset({"stop_reason", "stop_sequence"})))


class MessagesDialect:
    """Parse and render the Anthropic Messages wire format."""

    endpoint = "messages"
    schema = "messages_request"
    id_prefix = "msg_"
    codec = MessagesStream()

    def parse(self, body: Mapping[str, Any], headers: Mapping[str, str]) -> Conversation:
        return parse_messages_body(body, headers, self.endpoint)

    def _blocks(self, reply: Reply) -> list[dict[str, Any]]:
        text = _text(reply)
        blocks: list[dict[str, Any]] = [] if text is None else [{"type": "text", "text": text}]
        blocks.extend(
            {"type": "tool_use", "id": c.id, "name": c.name, "input": arguments_object(c.arguments)}
            for c in reply.tool_calls
        )
        return blocks

    def render(self, reply: Reply, meta: ReplyMeta) -> dict[str, Any]:
        return {
            "id": meta.id,
            "type": "message",
            "role": "assistant",
            "model": meta.model,
            "content": self._blocks(reply),
            "stop_reason": stop_reason(reply),
            "stop_sequence": None,
            "usage": usage_json(reply.usage),
        }

    def stream(self, reply: Reply, meta: ReplyMeta) -> list[bytes]:
        """message_start, a start/deltas/stop run per content block (ping after the first start), message_delta,
        message_stop: Anthropic's order, one bytes object per event."""
        usage = usage_json(reply.usage)
        start = {**self.render(reply, meta), "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 0}}
        events = [sse_event("message_start", {"type": "message_start", "message": start})]
        for index, block in enumerate(self._blocks(reply)):
            if block["type"] == "text":
                opening: dict[str, Any] = {"type": "text", "text": ""}
                deltas = [{"type": "text_delta", "text": p} for p in tokens.chunks(block["text"], meta.chunk_tokens)]
            else:
                opening = {**block, "input": {}}
                arguments = compact_json(block["input"])
                deltas = [
                    {"type": "input_json_delta", "partial_json": p} for p in tokens.chunks(arguments, meta.chunk_tokens)
                ]
            events.append(
                sse_event(
                    "content_block_start", {"type": "content_block_start", "index": index, "content_block": opening}
                )
            )
            if index == 0:
                events.append(sse_event("ping", {"type": "ping"}))
            events.extend(
                sse_event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
                for delta in deltas
            )
            events.append(sse_event("content_block_stop", {"type": "content_block_stop", "index": index}))
        message_delta = {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason(reply), "stop_sequence": None},
            "usage": usage,
        }
        events.append(sse_event("message_delta", message_delta))
        events.append(sse_event("message_stop", {"type": "message_stop"}))
        return events


MESSAGES = MessagesDialect()
