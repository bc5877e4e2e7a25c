"""From the journal to a fixture file: each answer a server gave becomes a scripted reply (issue 14, export).

The file has the shape of a recording (same names, matches, `replies:` for repeats) without `recorded:` sections:
what mockgw generated is frozen as editable fields.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from mockgw.core.reply import Reply
from mockgw.journal.calls import Call

# The server keeps each call's `scripted` reply (below); the export itself, and the recording modules it uses, are
# imported only when an export is asked for (`mockgw serve` starts without them).

HEADER = "# Exported by mockgw from its journal: each answer frozen as editable reply fields.\n"
SCRIPTED = "scripted"  # the key of a call's `response` that holds the whole reply (see `scripted`)


def scripted(reply: Reply) -> dict[str, Any]:
    """A reply as fixture fields: content, tool calls (ids and arguments), refusal, finish reason, usage."""
    data: dict[str, Any] = {}
    if reply.content is not None or not reply.tool_calls:
        data["content"] = reply.content
    if reply.tool_calls:
        # the arguments as the JSON text that was sent: the same bytes again (a mapping would be re-serialised)
        data["tool_calls"] = [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in reply.tool_calls]
    if reply.refusal is not None:
        data["refusal"] = reply.refusal
    data["finish_reason"] = reply.finish_reason
    data["usage"] = {
        "prompt_tokens": reply.usage.prompt_tokens,
        "completion_tokens": reply.usage.completion_tokens,
        **({"cached_tokens": reply.usage.cached_tokens} if reply.usage.cached_tokens else {}),
        **({"reasoning_tokens": reply.usage.reasoning_tokens} if reply.usage.reasoning_tokens else {}),
    }
    return data


def _error_reply(call: Call) -> dict[str, Any] | None:
    error = call.response.get("error")
    if call.status is None or call.status < 400 or not isinstance(error, Mapping):
        return None
    fields: dict[str, Any] = {"status": call.status}
    for key in ("code", "message"):
        if isinstance(error.get(key), str):
            fields[key] = error[key]
    return {"error": fields}


def _reply(call: Call) -> dict[str, Any] | None:
    reply = call.response.get(SCRIPTED)
    if isinstance(reply, Mapping):
        return dict(reply)
    return _error_reply(call)


def exported_fixtures(calls: Iterable[Call]) -> list[dict[str, Any]]:
    """One fixture per distinct request to chat, messages or responses (repeats: a `replies:` list, in order)."""
    from mockgw.record import cassette
    from mockgw.record.capture import CONVERSATION_ENDPOINTS, Capture
    from mockgw.record.derive import derive_match, fixture_name

    fixtures: list[dict[str, Any]] = []
    for call in calls:
        capture = Capture(
            method=call.method,
            path=call.path,
            request_headers={},
            request_body=json.dumps(call.body).encode() if isinstance(call.body, dict) else b"",
            status=call.status or 0,
            headers={},
        )
        if capture.endpoint not in CONVERSATION_ENDPOINTS or not isinstance(call.body, dict):
            continue
        reply = _reply(call)
        if reply is None:
            continue
        match = derive_match(capture)
        fixtures = cassette.add(fixtures, {"name": fixture_name(match), "match": match, "reply": reply})
    return fixtures


def export(calls: Iterable[Call], source: str = "export") -> str:
    """The fixture file's YAML; raises cassette.SecretFound rather than write a key-shaped value."""
    from mockgw.record import cassette

    return cassette.render(exported_fixtures(calls), source, header=HEADER)
