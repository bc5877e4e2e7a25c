"""OpenAI Responses as the Edgee gateway speaks it (`POST /v1/responses`).

Output items carry both shapes: OpenAI's (`call_id`, `name`, `arguments` on a `function_call` item, which the
OpenAI SDKs read) and Edgee's documented one (every item has `role` and `content`, a function call repeating itself
as a `function_call` content part), so both the SDKs and the published schema are satisfied.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockgw.core import tokens
from mockgw.core.codec import edit_json, event_name
from mockgw.core.conversation import Conversation, Message, ToolCall, ToolChoice
from mockgw.core.errors import ApiError
from mockgw.core.reply import Reply, ReplyMeta, Usage
from mockgw.dialects import as_str, function_tools
from mockgw.dialects.chat import content_text, header_tags
from mockgw.dialects.messages import sse_event

INCOMPLETE_REASONS: Mapping[str, str] = {"length": "max_output_tokens", "content_filter": "content_filter"}


def error_event(error: ApiError, sequence_number: int) -> bytes:
    """An in-stream failure as the Responses API sends it (`event: error`, fields at the top level)."""
    payload = {
        "type": "error",
        "sequence_number": sequence_number,
        "code": error.code,
        "message": error.message,
        "param": error.param,
    }
    return sse_event("error", payload)


def _item(raw: Any) -> Message | None:
    """One input item as a neutral message (None for item types that carry no conversation)."""
    if not isinstance(raw, Mapping):
        return None
    kind = raw.get("type")
    if kind == "function_call":
        call = ToolCall(as_str(raw.get("call_id")), as_str(raw.get("name")), as_str(raw.get("arguments")))
        return Message(role="assistant", text="", tool_calls=(call,))
    if kind == "function_call_output":
        output = raw.get("output")
        return Message(
            role="tool",
            text=output if isinstance(output, str) else content_text(output),
            tool_call_id=as_str(raw.get("call_id")),
        )
    if kind in (None, "message") and "role" in raw:
        return Message(role=as_str(raw.get("role"), "user"), text=content_text(raw.get("content")))
    return None


def _merge_calls(messages: list[Message]) -> list[Message]:
    """An assistant message and the `function_call` items after it are one assistant turn, as in chat."""
    merged: list[Message] = []
    for message in messages:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and previous.role == "assistant"
            and message.role == "assistant"
            and message.tool_calls
            and not message.text
        ):
            merged[-1] = Message("assistant", previous.text, previous.tool_calls + message.tool_calls)
        else:
            merged.append(message)
    return merged


def _tool_choice(value: Any) -> ToolChoice | None:
    if isinstance(value, str):
        return ToolChoice(value)
    if isinstance(value, Mapping):
        kind = as_str(value.get("type"))
        if kind == "function":
            return ToolChoice("function", as_str(value.get("name")) or None)
        return ToolChoice(kind)
    return None


def usage_json(usage: Usage) -> dict[str, Any]:
    return {
        "input_tokens": usage.prompt_tokens,
        # cache_write_tokens: the current OpenAI SDK types require it next to cached_tokens
        "input_tokens_details": {"cached_tokens": usage.cached_tokens, "cache_write_tokens": 0},
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.total_tokens,
    }


def _suffix(meta: ReplyMeta) -> str:
    return meta.id.removeprefix(ResponsesDialect.id_prefix)


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": []}


def _message_item(item_id: str, parts: list[dict[str, Any]], status: str) -> dict[str, Any]:
    return {"id": item_id, "type": "message", "status": status, "role": "assistant", "content": parts}


def _call_item(item_id: str, call: ToolCall, arguments: str, status: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "function_call",
        "status": status,
        "role": "assistant",
        "call_id": call.id,
        "name": call.name,
        "arguments": arguments,
        "content": [{"type": "function_call", "id": call.id, "name": call.name, "arguments": arguments}]
        if arguments or status == "completed"
        else [],
    }


TERMINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})


def _without_status(payload: Any) -> Any:
    if isinstance(payload, dict) and isinstance(payload.get("response"), dict):
        return {**payload, "response": {**payload["response"], "status": None, "incomplete_details": None}}
    return payload


class ResponsesStream:
    """Faults in a Responses stream: named events numbered from 0, `response.completed` at the end, `event: error`.

    The Responses API has no finish_reason: a response says how it ended with `status` (completed, incomplete) and
    `incomplete_details`, so `no_finish_reason` empties both on the final event."""

    name = "responses"

    def error_event(self, error: ApiError, number: int) -> bytes:
        return error_event(error, number - 1)  # sequence_number counts events from 0

    def is_terminal(self, event: bytes) -> bool:
        return event_name(event) in TERMINAL_EVENTS

    def without_finish_reason(self, event: bytes) -> bytes:
        return edit_json(event, _without_status) if self.is_terminal(event) else event


class ResponsesDialect:
    """Parse and render the Responses wire format."""

    endpoint = "responses"
    schema = "responses_request"
    id_prefix = "resp_"
    codec = ResponsesStream()

    def parse(self, body: Mapping[str, Any], headers: Mapping[str, str]) -> Conversation:
        messages: list[Message] = []
        instructions = body.get("instructions")
        if isinstance(instructions, str) and instructions:
            messages.append(Message(role="system", text=instructions))
        raw_input = body.get("input")
        if isinstance(raw_input, str):
            messages.append(Message(role="user", text=raw_input))
        elif isinstance(raw_input, list):
            messages.extend(_merge_calls([m for m in map(_item, raw_input) if m is not None]))
        max_tokens = body.get("max_output_tokens")
        body_tags = body.get("tags")
        tags = tuple(t for t in body_tags if isinstance(t, str)) if isinstance(body_tags, list) else ()
        text_format = body.get("text", {}).get("format") if isinstance(body.get("text"), Mapping) else None
        return Conversation(
            endpoint=self.endpoint,
            model=as_str(body.get("model")),
            messages=tuple(messages),
            tools=function_tools(body.get("tools"), "parameters"),
            tool_choice=_tool_choice(body.get("tool_choice")),
            stream=body.get("stream") is True,
            include_usage=True,  # response.completed always carries usage
            max_tokens=max_tokens if isinstance(max_tokens, int) and not isinstance(max_tokens, bool) else None,
            tags=tags + header_tags(headers),
            response_format=text_format if isinstance(text_format, Mapping) else None,
            headers=headers,
            body=body,
        )

    def _items(self, reply: Reply, meta: ReplyMeta) -> list[dict[str, Any]]:
        """The completed output items: the message (when there is text or nothing else), then the calls."""
        items: list[dict[str, Any]] = []
        parts: list[dict[str, Any]] = []
        if reply.content or not (reply.tool_calls or reply.refusal):
            parts.append(_text_part(reply.content or ""))
        if reply.refusal:
            parts.append({"type": "refusal", "refusal": reply.refusal})
        if parts:
            items.append(_message_item(f"msg_{_suffix(meta)}", parts, "completed"))
        items.extend(
            _call_item(f"fc_{_suffix(meta)}_{index}", call, call.arguments, "completed")
            for index, call in enumerate(reply.tool_calls)
        )
        return items

    def _response(
        self, reply: Reply, meta: ReplyMeta, status: str, output: list[dict[str, Any]], usage: Usage
    ) -> dict[str, Any]:
        reason = INCOMPLETE_REASONS.get(reply.finish_reason) if status == "completed" else None
        return {
            "id": meta.id,
            "object": "response",
            "created_at": float(meta.created),
            "status": status,
            "model": meta.model,
            "output": output,
            "usage": usage_json(usage),
            "error": None,
            "incomplete_details": {"reason": reason} if reason else None,
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
        }

    def render(self, reply: Reply, meta: ReplyMeta) -> dict[str, Any]:
        return self._response(reply, meta, "completed", self._items(reply, meta), reply.usage)

    def stream(self, reply: Reply, meta: ReplyMeta) -> list[bytes]:
        """created, in_progress, then per item added/parts/deltas/done, then completed; numbered in order."""
        events: list[bytes] = []

        def emit(name: str, payload: dict[str, Any]) -> None:
            events.append(sse_event(name, {"type": name, "sequence_number": len(events), **payload}))

        opening_usage = Usage(reply.usage.prompt_tokens, 0, reply.usage.cached_tokens)
        pending = self._response(reply, meta, "in_progress", [], opening_usage)
        emit("response.created", {"response": pending})
        emit("response.in_progress", {"response": pending})
        items = self._items(reply, meta)
        for index, item in enumerate(items):
            if item["type"] == "message":
                self._stream_message(emit, index, item, meta.chunk_tokens)
            else:
                self._stream_call(emit, index, item, meta.chunk_tokens)
        emit("response.completed", {"response": self.render(reply, meta)})
        return events

    @staticmethod
    def _stream_message(emit: Any, index: int, item: dict[str, Any], per_chunk: int) -> None:
        where = {"item_id": item["id"], "output_index": index}
        emit(
            "response.output_item.added",
            {"output_index": index, "item": {**item, "status": "in_progress", "content": []}},
        )
        for content_index, part in enumerate(item["content"]):
            at = {**where, "content_index": content_index}
            if part["type"] == "output_text":
                emit("response.content_part.added", {**at, "part": _text_part("")})
                for piece in tokens.chunks(part["text"], per_chunk):
                    emit("response.output_text.delta", {**at, "delta": piece, "logprobs": []})
                emit("response.output_text.done", {**at, "text": part["text"], "logprobs": []})
            else:
                emit("response.content_part.added", {**at, "part": {"type": "refusal", "refusal": ""}})
                for piece in tokens.chunks(part["refusal"], per_chunk):
                    emit("response.refusal.delta", {**at, "delta": piece})
                emit("response.refusal.done", {**at, "refusal": part["refusal"]})
            emit("response.content_part.done", {**at, "part": part})
        emit("response.output_item.done", {"output_index": index, "item": item})

    @staticmethod
    def _stream_call(emit: Any, index: int, item: dict[str, Any], per_chunk: int) -> None:
        where = {"item_id": item["id"], "output_index": index}
        emit(
            "response.output_item.added",
            {"output_index": index, "item": {**item, "status": "in_progress", "arguments": "", "content": []}},
        )
        for piece in tokens.chunks(item["arguments"], per_chunk):
            emit("response.function_call_arguments.delta", {**where, "delta": piece})
        emit("response.function_call_arguments.done", {**where, "name": item["name"], "arguments": item["arguments"]})
        emit("response.output_item.done", {"output_index": index, "item": item})


RESPONSES = ResponsesDialect()
