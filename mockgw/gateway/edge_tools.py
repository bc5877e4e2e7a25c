"""Edge Tools: the tools the gateway runs itself (`edgee_tool_ids`), their catalog, their runs and the deferral.

Pure: the clock's time and the seed come in as values. A run's result goes back into the conversation as a tool
message, the way the gateway feeds it to the model before answering again.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from mockgw.core.conversation import Conversation, Message, Tool, ToolCall
from mockgw.core.errors import ApiError, invalid_request
from mockgw.core.frozen import frozen

CURRENT_TIME = "edgee_current_time"
GENERATE_UUID = "edgee_generate_uuid"

BUILTIN: Mapping[str, Tool] = {
    CURRENT_TIME: Tool(
        CURRENT_TIME,
        "Get the current date and time (ISO 8601), optionally in an IANA timezone.",
        {"type": "object", "properties": {"timezone": {"type": "string", "description": "e.g. Europe/Paris"}}},
    ),
    GENERATE_UUID: Tool(GENERATE_UUID, "Generate a random UUID (version 4).", {"type": "object", "properties": {}}),
}
DEFAULT_IDS: tuple[str, ...] = tuple(BUILTIN)
MAX_ROUNDS = 4  # Edge Tool rounds per request: a fixture that always calls one cannot loop for ever


def definition(name: str) -> Tool:
    """The tool definition the model sees for an Edge Tool id (a configured id without a built-in: no schema)."""
    return BUILTIN.get(name) or Tool(name, f"Edge Tool {name}.", {"type": "object", "properties": {}})


def requested_ids(body: Mapping[str, Any]) -> tuple[str, ...]:
    """The `edgee_tool_ids` of a request body (validated as strings by the schema where the spec has the field)."""
    ids = body.get("edgee_tool_ids")
    return tuple(dict.fromkeys(i for i in ids if isinstance(i, str))) if isinstance(ids, list) else ()


def check_ids(requested: Sequence[str], available: Sequence[str]) -> ApiError | None:
    """400 invalid_edgee_tool_ids naming every id not in the catalog or not activated for the key."""
    bad = [i for i in requested if i not in available]
    if not bad:
        return None
    names = ", ".join(repr(i) for i in bad)
    active = ", ".join(available) or "none"
    return invalid_request(
        f"Invalid or non-activated Edge Tool ids: {names}. Edge Tools activated for this API key: {active}.",
        "edgee_tool_ids",
        code="invalid_edgee_tool_ids",
    )


@frozen
class Run:
    """One Edge Tool run: the call the model made and what the tool returned."""

    call: ToolCall
    result: str  # the tool message's text
    success: bool

    def summary(self) -> dict[str, Any]:
        """The `edgee_tools_executed` item (EdgeeToolExecuted)."""
        return {"name": self.call.name, "success": self.success}


def _arguments(call: ToolCall) -> Mapping[str, Any]:
    try:
        value = json.loads(call.arguments or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, Mapping) else {}


def _current_time(arguments: Mapping[str, Any], now: float) -> tuple[Any, bool]:
    # imported here: zoneinfo reads sysconfig's data when imported, start-up cost for a tool few runs use
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    zone_name = arguments.get("timezone") or "UTC"
    try:
        zone = ZoneInfo(str(zone_name)) if zone_name != "UTC" else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return {"error": f"unknown timezone {zone_name!r}"}, False
    moment = datetime.fromtimestamp(now, zone)
    return {"datetime": moment.isoformat(), "timezone": str(zone_name), "unix": int(now)}, True


def _uuid(seed_key: str) -> tuple[Any, bool]:
    digest = hashlib.blake2b(seed_key.encode(), digest_size=16).digest()
    return {"uuid": str(uuid.UUID(bytes=digest, version=4))}, True


def run(call: ToolCall, now: float, seed_key: str, scripted: Mapping[str, Any] | None = None) -> Run:
    """Run an Edge Tool: the fixture's scripted `{result, success}` if given, else the built-in behaviour.

    `now` is the gateway clock (settable); `seed_key` makes generated values a function of the seed."""
    if scripted is not None:
        success = bool(scripted.get("success", True))
        if "result" in scripted:
            value: Any = scripted["result"]
        elif success:
            value = _builtin(call, now, seed_key)[0]
        else:
            value = {"error": f"{call.name} failed"}
    else:
        value, success = _builtin(call, now, seed_key)
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return Run(call, text, success)


def _builtin(call: ToolCall, now: float, seed_key: str) -> tuple[Any, bool]:
    if call.name == CURRENT_TIME:
        return _current_time(_arguments(call), now)
    if call.name == GENERATE_UUID:
        return _uuid(f"{seed_key}:{call.id}")
    return {"ok": True}, True  # a configured tool mockgw has no behaviour for: fixtures script its result


def offered(conv: Conversation, ids: Iterable[str]) -> Conversation:
    """The conversation with the Edge Tools it asks for offered to the model (after the client's own tools)."""
    names = {t.name for t in conv.tools}
    extra = tuple(definition(i) for i in ids if i not in names)
    return replace(conv, tools=conv.tools + extra) if extra else conv


def answered(conv: Conversation, calls: Sequence[ToolCall], runs: Sequence[Run]) -> Conversation:
    """The conversation after a round of Edge Tools: the assistant's calls, then each result as a tool message."""
    messages = (
        *conv.messages,
        Message("assistant", "", tuple(calls)),
        *(Message("tool", r.result, tool_call_id=r.call.id) for r in runs),
    )
    executed = conv.edgee_tools_executed + tuple(r.call.name for r in runs)
    return replace(conv, messages=messages, edgee_tools_executed=executed)


@frozen
class Pending:
    """Edge Tool results kept back while the client runs its own tools (the documented deferral)."""

    client_call_ids: tuple[str, ...]
    runs: tuple[Run, ...]


def inject(conv: Conversation, pending: Pending) -> Conversation:
    """The conversation with the stored Edge Tool calls and results put back into its history.

    They go into the assistant message that made the client's calls (found by call id), with their results right
    after it; without that message they go at the end, as a round of their own."""
    calls = tuple(r.call for r in pending.runs)
    results = tuple(Message("tool", r.result, tool_call_id=r.call.id) for r in pending.runs)
    messages = list(conv.messages)
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if message.role == "assistant" and any(c.id in pending.client_call_ids for c in message.tool_calls):
            merged = Message(message.role, message.text, message.tool_calls + calls, message.tool_call_id, message.name)
            messages[index : index + 1] = [merged, *results]
            break
    else:
        messages.extend([Message("assistant", "", calls), *results])
    executed = conv.edgee_tools_executed + tuple(r.call.name for r in pending.runs)
    return replace(conv, messages=tuple(messages), edgee_tools_executed=executed)


def unknown_pending(pending_id: str, used: bool) -> ApiError:
    """400 for an `edgee_pending_id` the gateway never issued, or one already resumed."""
    why = (
        "was already used (a pending id resumes one conversation once)"
        if used
        else "was never issued by this gateway (or the session was reset)"
    )
    return invalid_request(
        f"Unknown edgee_pending_id {pending_id!r}: it {why}. Send the edgee_pending_id of the previous response, "
        "once, or leave it out.",
        "edgee_pending_id",
    )
