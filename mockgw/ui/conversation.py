"""A call's conversation as chat turns: system, user, assistant (with its tool calls), tool results, then the reply.

Read from the journal's `messages` (the conversation the request's dialect parsed) when the call has them, else
from the request body in any of the three wire formats (chat completions, Anthropic messages, Responses).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

Turn = dict[str, Any]


def _text(content: Any) -> str:
    """Message content as text: a string, or the text parts of a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, Mapping) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, Mapping) and part.get("type") == "tool_result":
                parts.append(_text(part.get("content")))
        return "".join(parts)
    return ""


def _arguments(value: Any) -> str:
    """Tool-call arguments shown as indented JSON (as sent when they are not JSON)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return str(value)
    return json.dumps(value, indent=2, ensure_ascii=False)


def _turn(role: str, text: str = "", **more: Any) -> Turn:
    return {"role": role, "text": text, "tool_calls": [], **more}


def _chat(body: Mapping[str, Any]) -> list[Turn]:
    turns = []
    for message in body.get("messages") or ():
        if not isinstance(message, Mapping):
            continue
        role = str(message.get("role", "user"))
        calls = [
            {
                "id": call.get("id"),
                "name": (call.get("function") or {}).get("name"),
                "arguments": _arguments((call.get("function") or {}).get("arguments")),
            }
            for call in message.get("tool_calls") or ()
            if isinstance(call, Mapping)
        ]
        turn = _turn(role, _text(message.get("content")), tool_calls=calls)
        if message.get("tool_call_id"):
            turn["tool_call_id"] = message["tool_call_id"]
        turns.append(turn)
    return turns


def _messages(body: Mapping[str, Any]) -> list[Turn]:
    turns = []
    system = body.get("system")
    if system:
        turns.append(_turn("system", _text(system)))
    for message in body.get("messages") or ():
        if not isinstance(message, Mapping):
            continue
        content = message.get("content")
        blocks = content if isinstance(content, list) else []
        results = [b for b in blocks if isinstance(b, Mapping) and b.get("type") == "tool_result"]
        for result in results:
            turns.append(_turn("tool", _text(result.get("content")), tool_call_id=result.get("tool_use_id")))
        calls = [
            {"id": b.get("id"), "name": b.get("name"), "arguments": _arguments(b.get("input"))}
            for b in blocks
            if isinstance(b, Mapping) and b.get("type") == "tool_use"
        ]
        text = (
            _text([b for b in blocks if isinstance(b, Mapping) and b.get("type") == "text"])
            if blocks
            else _text(content)
        )
        if text or calls or not results:
            turns.append(_turn(str(message.get("role", "user")), text, tool_calls=calls))
    return turns


def _responses(body: Mapping[str, Any]) -> list[Turn]:
    turns = []
    if isinstance(body.get("instructions"), str):
        turns.append(_turn("system", body["instructions"]))
    items = body.get("input")
    if isinstance(items, str):
        return [*turns, _turn("user", items)]
    for item in items or ():
        if not isinstance(item, Mapping):
            continue
        kind = item.get("type", "message")
        if kind == "function_call":
            call = {"id": item.get("call_id"), "name": item.get("name"), "arguments": _arguments(item.get("arguments"))}
            if turns and turns[-1]["role"] == "assistant" and not turns[-1]["text"]:
                turns[-1]["tool_calls"].append(call)
            else:
                turns.append(_turn("assistant", tool_calls=[call]))
        elif kind == "function_call_output":
            turns.append(_turn("tool", _text(item.get("output")), tool_call_id=item.get("call_id")))
        elif kind == "message":
            turns.append(_turn(str(item.get("role", "user")), _text(item.get("content"))))
    return turns


def _from_journal(messages: list[Any]) -> list[Turn]:
    turns = []
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        calls = [
            {"id": c.get("id"), "name": c.get("name"), "arguments": _arguments(c.get("arguments"))}
            for c in message.get("tool_calls") or ()
            if isinstance(c, Mapping)
        ]
        turn = _turn(str(message.get("role", "user")), _text(message.get("content")), tool_calls=calls)
        if message.get("tool_call_id"):
            turn["tool_call_id"] = message["tool_call_id"]
        turns.append(turn)
    return turns


def request_turns(call: Mapping[str, Any]) -> list[Turn]:
    """The conversation the client sent, one turn per message; tool results name the tool they answer."""
    body = call.get("body")
    path = str(call.get("path") or "")
    if call.get("messages"):
        turns = _from_journal(list(call["messages"]))
    elif not isinstance(body, Mapping):
        turns = []
    elif path.endswith("/responses"):
        turns = _responses(body)
    elif path.endswith("/messages") or path.endswith("/messages/count_tokens"):
        turns = _messages(body)
    else:
        turns = _chat(body)
    names = {c["id"]: c["name"] for t in turns for c in t["tool_calls"] if c.get("id")}
    for turn in turns:
        if turn.get("tool_call_id") is not None:
            turn["tool_name"] = names.get(turn["tool_call_id"])
    return turns


def _answered_calls(call: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The tool calls of a JSON answer's body, with their arguments (the summary has only their names)."""
    try:
        body = json.loads((call.get("delivered") or {}).get("body") or "null")
    except ValueError:
        return []
    if not isinstance(body, Mapping):
        return []
    found: list[dict[str, Any]] = []
    for choice in body.get("choices") or ():  # chat completions
        for c in ((choice or {}).get("message") or {}).get("tool_calls") or ():
            function = c.get("function") or {}
            found.append(
                {"id": c.get("id"), "name": function.get("name"), "arguments": _arguments(function.get("arguments"))}
            )
    for block in body.get("content") or () if isinstance(body.get("content"), list) else ():  # Anthropic messages
        if isinstance(block, Mapping) and block.get("type") == "tool_use":
            found.append(
                {"id": block.get("id"), "name": block.get("name"), "arguments": _arguments(block.get("input"))}
            )
    for item in body.get("output") or () if isinstance(body.get("output"), list) else ():  # Responses
        if isinstance(item, Mapping) and item.get("type") == "function_call":
            found.append(
                {"id": item.get("call_id"), "name": item.get("name"), "arguments": _arguments(item.get("arguments"))}
            )
    return found


def reply_turn(call: Mapping[str, Any]) -> Turn | None:
    """What mockgw answered, as the last turn (None when it answered with an error or not at all)."""
    response = call.get("response")
    if not isinstance(response, Mapping) or "error" in response or call.get("status") != 200:
        return None
    if "content" not in response and "tool_calls" not in response:
        return None
    calls = _answered_calls(call) or [
        {"id": None, "name": name, "arguments": None} for name in response.get("tool_calls") or ()
    ]
    return _turn(
        "assistant",
        str(response.get("content") or ""),
        tool_calls=calls,
        reply=True,
        fixture=call.get("fixture"),
        finish_reason=response.get("finish_reason"),
        partial=not (call.get("delivered") or {}).get("completed", True),
    )


def chat(call: Mapping[str, Any]) -> list[Turn]:
    """Every turn of the call's conversation, the reply last (marked `reply`, naming the fixture that answered)."""
    turns = request_turns(call)
    reply = reply_turn(call)
    return [*turns, reply] if reply is not None else turns
