"""Exports of journal calls: a curl command, a fixture file that answers the same request, a session as HAR 1.2."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from mockgw.core.version import VERSION
from mockgw.ui.conversation import request_turns
from mockgw.ui.listing import UNMATCHED_CODE, error_code, last_user_text

# Headers a replayed request does not need (the client library's own, or hop-by-hop).
NOISE = {"host", "content-length", "connection", "accept-encoding", "user-agent", "x-stainless-retry-count"}
# Credential headers: the journal keeps them redacted, the export names an environment variable instead.
CREDENTIALS = {"authorization": "Bearer $EDGEE_API_KEY", "x-api-key": "$EDGEE_API_KEY", "api-key": "$EDGEE_API_KEY"}
ENDPOINTS = {"/v1/chat/completions": "chat", "/v1/messages": "messages", "/v1/responses": "responses"}


def curl(call: Mapping[str, Any], base_url: str) -> str:
    """The call as a curl command against `base_url` (the server's root); the API key comes from $EDGEE_API_KEY."""
    parts = [
        "curl",
        "-sS",
        "-X",
        str(call.get("method") or "GET"),
        shlex.quote(base_url.rstrip("/") + str(call.get("path"))),
    ]
    lines = [" ".join(parts)]
    for name, value in (call.get("headers") or {}).items():
        lower = name.lower()
        if lower in NOISE or lower.startswith("x-stainless-"):
            continue
        shown = CREDENTIALS.get(lower)
        # a double-quoted header lets the shell expand $EDGEE_API_KEY
        lines.append(f'-H "{name}: {shown}"' if shown else f"-H {shlex.quote(f'{name}: {value}')}")
    body = call.get("body")
    if body is not None and body != "":
        text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
        lines.append(f"--data-raw {shlex.quote(text)}")
    return " \\\n  ".join(lines)


def _tool_names(call: Mapping[str, Any]) -> list[str]:
    if call.get("tools"):
        return [str(t) for t in call["tools"]]
    body = call.get("body")
    names = []
    for tool in (body.get("tools") if isinstance(body, Mapping) else None) or ():
        if isinstance(tool, Mapping):
            function = tool.get("function")
            name = function.get("name") if isinstance(function, Mapping) else tool.get("name")
            if isinstance(name, str):
                names.append(name)
    return names


def _stream_answer(call: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """The text and tool calls a streamed answer carried, put back together from its events."""
    text: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    stream = (call.get("delivered") or {}).get("stream") or {}
    for part in stream.get("parts") or ():
        for line in str(part.get("data") or "").split("\n"):
            if not line.startswith("data:"):
                continue
            try:
                data = json.loads(line[5:])
            except ValueError:
                continue
            if not isinstance(data, Mapping):
                continue
            for choice in data.get("choices") or ():  # chat completions
                delta = (choice or {}).get("delta") or {}
                text.append(delta.get("content") or "")
                for piece in delta.get("tool_calls") or ():
                    entry = calls.setdefault(int(piece.get("index") or 0), {"name": "", "arguments": ""})
                    function = piece.get("function") or {}
                    entry["name"] += function.get("name") or ""
                    entry["arguments"] += function.get("arguments") or ""
            delta = data.get("delta")
            if data.get("type") == "content_block_delta" and isinstance(delta, Mapping):  # Anthropic
                text.append(str(delta.get("text") or ""))
            if data.get("type") == "response.output_text.delta":  # Responses
                text.append(str(data.get("delta") or ""))
    return "".join(text), [calls[i] for i in sorted(calls)]


def _json_answer(call: Mapping[str, Any]) -> tuple[str | None, list[dict[str, Any]]]:
    """The text and tool calls (with arguments) of a JSON answer, from the body that was sent."""
    try:
        body = json.loads((call.get("delivered") or {}).get("body") or "null")
    except ValueError:
        return None, []
    if not isinstance(body, Mapping):
        return None, []
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for choice in body.get("choices") or ():
        message = (choice or {}).get("message") or {}
        texts.append(message.get("content") or "")
        for c in message.get("tool_calls") or ():
            calls.append(
                {"name": (c.get("function") or {}).get("name"), "arguments": (c.get("function") or {}).get("arguments")}
            )
    for block in body["content"] if isinstance(body.get("content"), list) else ():
        if not isinstance(block, Mapping):
            continue
        if block.get("type") == "text":
            texts.append(block.get("text") or "")
        elif block.get("type") == "tool_use":
            calls.append({"name": block.get("name"), "arguments": block.get("input")})
    for item in body["output"] if isinstance(body.get("output"), list) else ():
        if not isinstance(item, Mapping):
            continue
        if item.get("type") == "message":
            texts.extend(p.get("text") or "" for p in item.get("content") or () if isinstance(p, Mapping))
        elif item.get("type") == "function_call":
            calls.append({"name": item.get("name"), "arguments": item.get("arguments")})
    return "".join(texts), calls


def _arguments(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value) if value.strip() else {}
        except ValueError:
            return value
    return value if value is not None else {}


def _reply(call: Mapping[str, Any]) -> dict[str, Any]:
    """The reply the saved fixture gives: the answer that was sent, the error, or a placeholder for a miss."""
    status = call.get("status")
    response = call.get("response") or {}
    if error_code(response) == UNMATCHED_CODE or status is None:
        return {"content": f"Saved from {call.get('id')}: write the answer here."}
    if isinstance(status, int) and status >= 400:
        error: dict[str, Any] = {"status": status}
        message = ((response.get("error") or {}) if isinstance(response, Mapping) else {}).get("message")
        if message:
            error["message"] = str(message)
        return {"error": error}
    delivered = call.get("delivered") or {}
    if delivered.get("stream"):
        text, calls = _stream_answer(call)
        if not delivered.get("completed"):  # a fault cut it: the reply it would have sent (the summary's text)
            text = str(response.get("content") or text)
    else:
        found, calls = _json_answer(call)
        text = found if found is not None else str(response.get("content") or "")
    if calls:
        return {"tool_calls": [{"name": c["name"], "arguments": _arguments(c["arguments"])} for c in calls]}
    return {"content": text}


def fixture(call: Mapping[str, Any]) -> dict[str, Any]:
    """A fixture whose `match` accepts this request (its endpoint, model, place in the conversation, tools offered
    and last user message) and whose reply is the answer it got."""
    match: dict[str, Any] = {}
    endpoint = ENDPOINTS.get(str(call.get("path")))
    if endpoint:
        match["endpoint"] = endpoint
    if call.get("model"):
        match["model"] = call["model"]
    turns = request_turns(call)
    if turns:
        match["turn"] = sum(1 for t in turns if t["role"] == "assistant")
    tools = _tool_names(call)
    if tools:
        match["tools"] = tools
    last = turns[-1] if turns else None
    if last is not None and last["role"] == "tool":
        match["tool_result"] = {"name": last["tool_name"]} if last.get("tool_name") else True
    text = last_user_text(call)
    if text is not None:
        match["last_user_message"] = {"equals": text}
    return {"name": f"saved-{call.get('id')}", "match": match, "reply": _reply(call)}


def fixture_yaml(call: Mapping[str, Any]) -> str:
    """A fixture file (version 1) with the one fixture of `fixture(call)`."""
    what = f"{call.get('method')} {call.get('path')} ({call.get('id')}, {call.get('time')})"
    header = f"# Saved from mockgw's inspector: {what}\n"
    document = {"version": 1, "fixtures": [fixture(call)]}
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def _har_entry(call: Mapping[str, Any], base_url: str) -> dict[str, Any]:
    headers = [{"name": k, "value": str(v)} for k, v in (call.get("headers") or {}).items()]
    body = call.get("body")
    text = "" if body is None else body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    delivered = call.get("delivered") or {}
    stream = delivered.get("stream")
    if stream:
        answer, mime = "".join(str(p.get("data") or "") for p in stream.get("parts") or ()), "text/event-stream"
    else:
        sent = delivered.get("body")
        answer = sent if isinstance(sent, str) else json.dumps(call.get("response") or {}, ensure_ascii=False)
        mime = "application/json"
    status = call.get("status")
    duration = float(call.get("duration_ms") or 0.0)
    comment = ", ".join(
        f"{k}: {call.get(k)}" for k in ("id", "session", "fixture", "fault") if call.get(k) not in (None, "")
    )
    return {
        "startedDateTime": call.get("time"),
        "time": duration,
        "request": {
            "method": call.get("method"),
            "url": base_url.rstrip("/") + str(call.get("path")),
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": headers,
            "queryString": [],
            "postData": {"mimeType": "application/json", "text": text},
            "headersSize": -1,
            "bodySize": len(text.encode()),
        },
        "response": {
            "status": status if isinstance(status, int) else 0,  # 0: no answer reached the client (HAR's convention)
            "statusText": "" if isinstance(status, int) else str(call.get("ending") or delivered.get("ending") or ""),
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": [],
            "content": {"size": len(answer.encode()), "mimeType": mime, "text": answer},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": int(delivered.get("bytes") or -1),
        },
        "cache": {},
        "timings": {"send": 0, "wait": duration, "receive": 0},
        "comment": comment,
    }


def har(calls: Iterable[Mapping[str, Any]], base_url: str) -> dict[str, Any]:
    """The calls (oldest first) as a HAR 1.2 log, for browser devtools and HAR viewers."""
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "mockgw", "version": VERSION},
            "entries": [_har_entry(call, base_url) for call in calls],
        }
    }
