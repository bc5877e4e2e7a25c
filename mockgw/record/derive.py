"""From a capture to a fixture: a readable `match` from the conversation, a `reply` read from the answer, and the
`recorded:` section with what came over the wire."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from mockgw.core.codec import event_data, event_name
from mockgw.core.conversation import Conversation
from mockgw.dialects import Dialect
from mockgw.dialects.chat import CHAT
from mockgw.dialects.messages import MESSAGES
from mockgw.dialects.responses import RESPONSES
from mockgw.fixtures.recorded import RecordedEvent
from mockgw.record.capture import CONVERSATION_ENDPOINTS, Capture
from mockgw.record.secrets import Redaction, kept_headers, redact_body, redact_json, redact_text

DIALECTS: dict[str, Dialect] = {"chat": CHAT, "messages": MESSAGES, "responses": RESPONSES}
# Response headers that describe the connection, not the answer.
CONNECTION_HEADERS = frozenset(
    {"content-length", "content-encoding", "transfer-encoding", "connection", "date", "keep-alive", "server"}
)
STOP_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "tool_use": "tool_calls", "max_tokens": "length"}


def request_json(capture: Capture) -> Any:
    try:
        return json.loads(capture.request_body) if capture.request_body else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def conversation(capture: Capture) -> Conversation | None:
    """The request as mockgw reads it, for the conversation endpoints."""
    body = request_json(capture)
    dialect = DIALECTS.get(capture.endpoint)
    if dialect is None or not isinstance(body, dict):
        return None
    try:
        return dialect.parse(body, {k.lower(): v for k, v in capture.request_headers.items()})
    except Exception:  # a body mockgw cannot read: the fixture matches on what is left
        return None


def derive_match(capture: Capture) -> dict[str, Any]:
    """model, endpoint, stream, turn, last user message, tools offered and the tool result answered."""
    match: dict[str, Any] = {"endpoint": capture.endpoint}
    body = request_json(capture)
    if isinstance(body, dict) and isinstance(body.get("model"), str):
        match["model"] = body["model"]
    if capture.endpoint not in CONVERSATION_ENDPOINTS:
        if isinstance(body, dict):
            match["body"] = body
        return match
    conv = conversation(capture)
    if conv is None:
        return match
    match["stream"] = conv.stream
    match["turn"] = conv.turn
    if conv.last_user_message is not None:
        match["last_user_message"] = {"equals": conv.last_user_message}
    if conv.tools:
        match["tools"] = [tool.name for tool in conv.tools]
    result = conv.last_tool_result
    if result is not None:
        call = conv.tool_call_named(result.tool_call_id)
        match["tool_result"] = {**({"name": call.name} if call else {}), "equals": result.text}
    elif conv.turn:
        match["tool_result"] = False
    return match


def _slug(text: str, words: int = 6) -> str:
    parts = re.findall(r"[a-z0-9]+", text.lower())
    return "-".join(parts[:words])


def fixture_name(match: Mapping[str, Any]) -> str:
    """A readable name: endpoint, the start of the last user message, the turn, the tool answered, streamed."""
    parts = [str(match.get("endpoint", "chat"))]
    last = match.get("last_user_message")
    if isinstance(last, Mapping) and _slug(str(last.get("equals", ""))):
        parts.append(_slug(str(last["equals"])))
    elif match.get("model"):
        parts.append(_slug(str(match["model"]), 4))
    if match.get("turn"):
        parts.append(f"turn-{match['turn']}")
    result = match.get("tool_result")
    if isinstance(result, Mapping) and result.get("name"):
        parts.append(f"after-{_slug(str(result['name']))}")
    if match.get("stream"):
        parts.append("stream")
    return "-".join(parts)


# --- the reply, read from the answer --------------------------------------------------------------------------------


def _json_events(events: Iterable[RecordedEvent]) -> list[tuple[str | None, Any]]:
    parsed: list[tuple[str | None, Any]] = []
    for event in events:
        data = event_data(event.data.replace(b"\r\n", b"\n").replace(b"\r", b"\n"))
        if data is None or data == b"[DONE]":
            continue
        try:
            parsed.append((event_name(event.data.replace(b"\r", b"\n")), json.loads(data)))
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
    return parsed


def _arguments(text: str) -> Any:
    try:
        value = json.loads(text) if text else {}
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _calls(calls: Iterable[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """Tool calls whose arguments are a JSON object (a call cut mid-arguments stays in `recorded:` only)."""
    kept = []
    for call_id, name, arguments in calls:
        parsed = _arguments(arguments)
        if name and parsed is not None:
            kept.append({**({"id": call_id} if call_id else {}), "name": name, "arguments": parsed})
    return kept


def _usage(prompt: Any, completion: Any) -> dict[str, int]:
    usage = {}
    if isinstance(prompt, int):
        usage["prompt_tokens"] = prompt
    if isinstance(completion, int):
        usage["completion_tokens"] = completion
    return usage


def _chat(body: Any, events: list[tuple[str | None, Any]] | None) -> dict[str, Any]:
    content: str | None = None
    calls: dict[int, list[str]] = {}
    finish = None
    usage: Any = None
    chunks = [data for _, data in events] if events is not None else [body]
    for chunk in chunks:
        if not isinstance(chunk, dict):
            continue
        usage = chunk.get("usage") or usage
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            finish = choice.get("finish_reason") or finish
            part = choice.get("delta" if events is not None else "message") or {}
            if isinstance(part.get("content"), str):
                content = (content or "") + part["content"]
            for position, call in enumerate(part.get("tool_calls") or []):
                slot = calls.setdefault(call.get("index", position), ["", "", ""])
                function = call.get("function") or {}
                slot[0] = slot[0] or call.get("id") or ""
                slot[1] = slot[1] or function.get("name") or ""
                slot[2] += function.get("arguments") or ""
    usage = usage if isinstance(usage, dict) else {}
    return _reply(
        content,
        _calls(tuple(calls[k]) for k in sorted(calls)),  # type: ignore[misc]
        finish,
        _usage(usage.get("prompt_tokens"), usage.get("completion_tokens")),
    )


def _messages(body: Any, events: list[tuple[str | None, Any]] | None) -> dict[str, Any]:
    if events is None:
        if not isinstance(body, dict):
            return {}
        blocks = body.get("content") or []
        text = "".join(b.get("text", "") for b in blocks if isinstance(b, dict) and b.get("type") == "text")
        calls = [
            (b.get("id", ""), b.get("name", ""), json.dumps(b.get("input", {})))
            for b in blocks
            if isinstance(b, dict) and b.get("type") == "tool_use"
        ]
        usage = body.get("usage") or {}
        has_text = any(isinstance(b, dict) and b.get("type") == "text" for b in blocks)
        return _reply(
            text if has_text else None,
            _calls(calls),
            STOP_REASONS.get(str(body.get("stop_reason"))),
            _usage(usage.get("input_tokens"), usage.get("output_tokens")),
        )
    content: str | None = None
    open_calls: dict[int, list[str]] = {}
    stop = None
    prompt = completion = None
    for _, data in events:
        kind = data.get("type") if isinstance(data, dict) else None
        if kind == "message_start":
            usage = (data.get("message") or {}).get("usage") or {}
            prompt = usage.get("input_tokens", prompt)
        elif kind == "content_block_start":
            block = data.get("content_block") or {}
            if block.get("type") == "tool_use":
                open_calls[data.get("index", 0)] = [block.get("id", ""), block.get("name", ""), ""]
            elif block.get("type") == "text":
                content = content or ""
        elif kind == "content_block_delta":
            delta = data.get("delta") or {}
            if delta.get("type") == "text_delta":
                content = (content or "") + delta.get("text", "")
            elif delta.get("type") == "input_json_delta" and data.get("index", 0) in open_calls:
                open_calls[data.get("index", 0)][2] += delta.get("partial_json", "")
        elif kind == "message_delta":
            stop = (data.get("delta") or {}).get("stop_reason") or stop
            completion = (data.get("usage") or {}).get("output_tokens", completion)
    return _reply(
        content,
        _calls(tuple(open_calls[k]) for k in sorted(open_calls)),  # type: ignore[misc]
        STOP_REASONS.get(str(stop)),
        _usage(prompt, completion),
    )


def _responses(body: Any, events: list[tuple[str | None, Any]] | None) -> dict[str, Any]:
    response = body
    text_deltas: list[str] = []
    if events is not None:
        response = None
        for _, data in events:
            if isinstance(data, dict) and isinstance(data.get("response"), dict):
                response = data["response"]
            if isinstance(data, dict) and data.get("type") == "response.output_text.delta":
                text_deltas.append(str(data.get("delta", "")))
    if not isinstance(response, dict) or not response.get("output"):
        return _reply("".join(text_deltas) if text_deltas else None, [], None, {})
    texts: list[str] = []
    calls = []
    for item in response.get("output") or []:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "message":
            texts.extend(
                part.get("text", "")
                for part in item.get("content") or []
                if isinstance(part, dict) and part.get("type") == "output_text"
            )
        elif item.get("type") == "function_call":
            calls.append((item.get("call_id", ""), item.get("name", ""), item.get("arguments", "")))
    usage = response.get("usage") or {}
    finish = "tool_calls" if calls else ("length" if response.get("status") == "incomplete" else "stop")
    return _reply(
        "".join(texts) if texts else None,
        _calls(calls),
        finish if response.get("status") in ("completed", "incomplete") else None,
        _usage(usage.get("input_tokens"), usage.get("output_tokens")),
    )


def _reply(content: str | None, calls: list[dict[str, Any]], finish: Any, usage: dict[str, int]) -> dict[str, Any]:
    reply: dict[str, Any] = {}
    if (content is not None and (content or not calls)) or not calls:
        reply["content"] = content
    if calls:
        reply["tool_calls"] = calls
    if finish in ("stop", "length", "tool_calls", "content_filter"):
        reply["finish_reason"] = finish
    if usage:
        reply["usage"] = usage
    return reply


def _error(status: int, body: Any, headers: Mapping[str, str]) -> dict[str, Any]:
    error: dict[str, Any] = {"status": status}
    detail = body.get("error") if isinstance(body, dict) else None
    if isinstance(detail, dict):
        for key in ("code", "message", "type"):
            if isinstance(detail.get(key), str):
                error[key] = detail[key]
    retry = headers.get("retry-after")
    if retry is not None:
        with contextlib.suppress(ValueError):
            error["retry_after"] = float(retry) if "." in retry else int(retry)
    return {"error": error}


def derive_reply(
    endpoint: str, status: int, headers: Mapping[str, str], body: bytes | None, events: Iterable[RecordedEvent] | None
) -> dict[str, Any]:
    """The editable reply an answer amounts to: content, tool calls, finish reason, usage, provider header; or the
    error for an error status."""
    parsed_body: Any = None
    if body is not None:
        try:
            parsed_body = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            parsed_body = None
    if status >= 400:
        return _error(status, parsed_body, headers)
    if endpoint not in CONVERSATION_ENDPOINTS:
        return {}
    parsed_events = _json_events(events) if events is not None else None
    reader = {"chat": _chat, "messages": _messages, "responses": _responses}[endpoint]
    reply = reader(parsed_body, parsed_events)
    provider = headers.get("x-edgee-provider")
    if provider:
        reply["headers"] = {"X-Edgee-Provider": provider}
    return reply


# --- the whole fixture ----------------------------------------------------------------------------------------------


def recorded_section(capture: Capture, redaction: Redaction) -> dict[str, Any]:
    """What came over the wire, secrets removed: status, kept headers, body or events, completeness, request."""
    literals = capture.secrets
    headers = {
        k: redact_text(v, redaction, literals)
        for k, v in kept_headers(capture.headers, redaction, CONNECTION_HEADERS).items()
    }
    section: dict[str, Any] = {"status": capture.status, "headers": headers}
    if capture.events is not None:
        section["events"] = [
            {"ms": round(event.ms, 1), "data": redact_body(event.data, redaction, literals).decode()}
            for event in capture.events
        ]
    else:
        section["body"] = redact_body(capture.body or b"", redaction, literals).decode()
        section["ms"] = round(capture.ms, 1)
    section["complete"] = capture.complete
    body = request_json(capture)
    request: dict[str, Any] = {"method": capture.method, "path": capture.path}
    if body is not None:
        request["body"] = redact_json(body, redaction, literals)
    section["request"] = request
    return section


def derive_fixture(capture: Capture, redaction: Redaction) -> dict[str, Any]:
    """One fixture (without its final name): match, reply and recorded."""
    match = redact_json(derive_match(capture), redaction, capture.secrets)
    recorded = recorded_section(capture, redaction)
    events = (
        tuple(RecordedEvent(e["ms"], e["data"].encode()) for e in recorded["events"]) if "events" in recorded else None
    )
    body = recorded["body"].encode() if "body" in recorded else None
    reply = derive_reply(capture.endpoint, capture.status, recorded["headers"], body, events)
    return {"name": fixture_name(match), "match": match, "reply": {**reply, "recorded": recorded}}
