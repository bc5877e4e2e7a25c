"""The JSON Schema of fixture files, as data. `scripts/gen_schemas.py` writes it to schemas/fixture.schema.json."""

from __future__ import annotations

from typing import Any

SCHEMA_ID = "https://mockgw.dev/schemas/fixture.schema.json"

_TEXT_MATCH: dict[str, Any] = {
    "description": "A string means 'contains'; or one of equals / contains / regex (named groups: template values).",
    "oneOf": [
        {"type": "string"},
        {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "additionalProperties": False,
            "properties": {
                "equals": {"type": "string"},
                "contains": {"type": "string"},
                "regex": {"type": "string"},
            },
        },
    ],
}

_MS: dict[str, Any] = {"type": "number", "minimum": 0}

_DISTRIBUTION: dict[str, Any] = {
    "description": "Milliseconds: a number, {uniform: [min, max]} or {lognormal: {median, sigma}}; seeded.",
    "oneOf": [
        _MS,
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["uniform"],
            "properties": {"uniform": {"type": "array", "items": _MS, "minItems": 2, "maxItems": 2}},
        },
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["lognormal"],
            "properties": {
                "lognormal": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["median"],
                    "properties": {"median": _MS, "sigma": {"type": "number", "minimum": 0}},
                }
            },
        },
    ],
}

# `match` keys that test "some message of this role" (`system` keeps its own meaning: the joined instructions).
MESSAGE_ROLES = ("user", "assistant", "tool", "developer")

_COUNT: dict[str, Any] = {
    "description": "An exact count, or a range {min, max} (either bound may be left out).",
    "oneOf": [
        {"type": "integer", "minimum": 0},
        {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {"min": {"type": "integer", "minimum": 0}, "max": {"type": "integer", "minimum": 0}},
        },
    ],
}

_TOOL_RESULT: dict[str, Any] = {
    "description": (
        "The last message is a tool result (true), or is not (false); or {name, equals|contains|regex}: the tool "
        "it answers (found through its tool_call_id) and a test of its text."
    ),
    "oneOf": [
        {"type": "boolean"},
        {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {
                "name": {"type": "string"},
                "equals": {"type": "string"},
                "contains": {"type": "string"},
                "regex": {"type": "string"},
            },
        },
    ],
}

_STATE_NAME: dict[str, Any] = {"type": "string", "minLength": 1}


def _fault(kind: str, description: str, required: tuple[str, ...] = (), **properties: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["type", *required],
        "description": description,
        "properties": {"type": {"const": kind}, **properties},
    }


_EVENT: dict[str, Any] = {"type": "integer", "minimum": 1, "description": "Events count from 1 (the role chunk)."}
_EVENTS: dict[str, Any] = {"type": "integer", "minimum": 0, "description": "A number of events."}

_FAULT: dict[str, Any] = {
    "description": "A connection or stream fault (see docs/faults.md).",
    "oneOf": [
        _fault("reset", "TCP reset (RST) before any response."),
        _fault("close", "Close the connection (FIN) without a response."),
        _fault("hang", "Headers never come (until the client leaves, a release, or the server stops)."),
        _fault(
            "garbage",
            "Random seeded bytes instead of a response, then close.",
            size={"type": "integer", "minimum": 1, "maximum": 1048576},
        ),
        _fault(
            "slow_body",
            "The body dribbles out in small pieces.",
            chunk_bytes={"type": "integer", "minimum": 1},
            every_ms=_MS,
        ),
        _fault(
            "cut",
            "Streams: K whole events, then the end without [DONE].",
            ("after_events",),
            after_events=_EVENTS,
            rst={"type": "boolean"},
        ),
        _fault(
            "cut_mid_event",
            "Streams: close in the middle of event K.",
            ("at_event",),
            at_event=_EVENT,
            rst={"type": "boolean"},
        ),
        _fault("malformed", "Streams: event K is not valid JSON.", ("at_event",), at_event=_EVENT),
        _fault(
            "error_event",
            'Streams: event K is data: {"error": ...}, then the end.',
            ("at_event",),
            at_event=_EVENT,
            code={"type": "string"},
            message={"type": "string"},
            error_type={"type": "string"},
        ),
        _fault("no_done", "Streams: no final data: [DONE]."),
        _fault("no_finish_reason", "Streams: finish_reason is always null."),
        _fault(
            "stall",
            "Streams: silence after K events until release or disconnect.",
            ("after_events",),
            after_events=_EVENTS,
        ),
        _fault(
            "keepalive",
            "Streams: ': keep-alive' comments every N events and/or every N ms of silence.",
            every_events={"type": "integer", "minimum": 1},
            every_ms={"type": "number", "exclusiveMinimum": 0},
        ),
    ],
}

_ERROR: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["status"],
    "description": "Answer with an error; with only a status, the gateway's own code, type and message for it.",
    "properties": {
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "code": {"type": "string"},
        "message": {"type": "string"},
        "type": {"type": "string"},
        "param": {"type": ["string", "null"]},
        "retry_after": {
            "type": "number",
            "minimum": 0,
            "description": "Seconds, sent as the Retry-After header.",
        },
        "body": {
            "type": ["string", "object", "array"],
            "description": "Send this body instead of the gateway's envelope (e.g. a proxy's HTML 502 page).",
        },
        "content_type": {"type": "string", "description": "Content-Type of a custom body (default JSON)."},
    },
}

_ERROR_FAULT: dict[str, Any] = {
    **_ERROR,
    "required": ["type", "status"],
    "properties": {**_ERROR["properties"], "type": {"const": "error"}, "error_type": {"type": "string"}},
    "description": "Answer with an error (the gateway's code and message for the status unless given).",
}

_LATENCY_FAULT: dict[str, Any] = _fault(
    "latency",
    "Override the waits of the answers the rule hits.",
    delay_ms=_DISTRIBUTION,
    ttft_ms=_DISTRIBUTION,
    chunk_ms=_DISTRIBUTION,
)

_HOLD: dict[str, Any] = {
    "description": "Keep the answer back until POST /__mockgw/release (or timeout_ms, then answer).",
    "oneOf": [
        {"type": "boolean"},
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {"timeout_ms": _MS},
        },
    ],
}

_GENERATE: dict[str, Any] = {
    "description": "Make the answer up (seeded): text, json, tool_call, or {words: N}, {tool_call: NAME},"
    " {json_schema: SCHEMA}. Goes without content, tool_calls and refusal.",
    "oneOf": [
        {"enum": ["text", "tool_call", "json"]},
        {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "additionalProperties": False,
            "properties": {
                "words": {"type": "integer", "minimum": 1, "description": "Text of this many words."},
                "tool_call": {
                    "type": "string",
                    "pattern": "^[a-zA-Z0-9_-]{1,64}$",
                    "description": "A call of this tool, arguments valid against its parameters.",
                },
                "json_schema": {"type": "object", "description": "JSON content valid against this schema."},
            },
        },
    ],
}

_REPLY: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "content": {"type": ["string", "null"], "description": "The assistant's text."},
        "tool_calls": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name"],
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,64}$"},
                    "arguments": {"type": ["object", "string"], "description": "A mapping or a JSON string."},
                },
            },
        },
        "refusal": {"type": "string"},
        "finish_reason": {"enum": ["stop", "length", "tool_calls", "content_filter"]},
        "usage": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "prompt_tokens": {"type": "integer", "minimum": 0},
                "completion_tokens": {"type": "integer", "minimum": 0},
                "cached_tokens": {"type": "integer", "minimum": 0},
                "reasoning_tokens": {"type": "integer", "minimum": 0},
            },
        },
        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "error": _ERROR,
        "delay_ms": {**_DISTRIBUTION, "description": "Wait before sending the response headers."},
        "ttft_ms": {**_DISTRIBUTION, "description": "Streams: wait before the first event."},
        "chunk_ms": {**_DISTRIBUTION, "description": "Streams: wait between events (drawn per event if jittered)."},
        "fault": {"$ref": "#/$defs/fault"},
        "hold": _HOLD,
        "chunk_tokens": {
            "type": "integer",
            "minimum": 1,
            "description": "Streams: tokens per content event.",
        },
        "generate": _GENERATE,
    },
}

_MATCH: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "Every key given must hold for the fixture to answer.",
    "properties": {
        "model": {"type": "string", "description": "Exact model id or a glob (openai/*)."},
        "stream": {"type": "boolean"},
        "last_user_message": _TEXT_MATCH,
        "system": _TEXT_MATCH,
        "any_message": _TEXT_MATCH,
        "tools": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Tool names that must be offered.",
        },
        "tags": {"type": "array", "items": {"type": "string"}, "description": "Body tags plus X-Edgee-Tags."},
        "headers": {"type": "object", "additionalProperties": _TEXT_MATCH},
        "body": {"type": "object", "description": "A JSON subset of the request body."},
        "endpoint": {"enum": ["chat", "messages", "responses"], "description": "Only requests of this wire format."},
        "turn": {**_COUNT, "description": "Assistant turns already in the conversation (0 for a fresh one)."},
        "messages": {**_COUNT, "description": "Number of messages in the request."},
        "tool_result": _TOOL_RESULT,
        "after_tool_call": {"type": "string", "description": "A tool the latest assistant message called."},
        **{role: {**_TEXT_MATCH, "description": f"Some {role} message matches."} for role in MESSAGE_ROLES},
    },
}

FIXTURE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "oneOf": [{"required": ["reply"]}, {"required": ["replies"]}],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "match": _MATCH,
        "reply": {"$ref": "#/$defs/reply"},
        "replies": {
            "type": "array",
            "minItems": 1,
            "items": {"$ref": "#/$defs/reply"},
            "description": "Served in order; the last one repeats.",
        },
        "priority": {"type": "integer", "description": "Higher wins; on a tie, the fixture loaded first."},
        "times": {"type": "integer", "minimum": 1, "description": "Matches this many times, then no more."},
        "scenario": {**_STATE_NAME, "description": "A named state machine; every scenario starts in `started`."},
        "when_state": {**_STATE_NAME, "description": "Matches only while the scenario is in this state."},
        "set_state": {**_STATE_NAME, "description": "The scenario moves to this state when the fixture answers."},
    },
}

# Each fault type's own schema, so a broken fault gets a precise message instead of "not valid under oneOf".
FAULT_TYPES: dict[str, dict[str, Any]] = {
    **{option["properties"]["type"]["const"]: option for option in _FAULT["oneOf"]},
    "error": _ERROR_FAULT,
    "latency": _LATENCY_FAULT,
}

FAULT_RULE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["fault"],
    "description": "Give a fault to the requests `match` accepts; nth, every, times and probability must all hold.",
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "match": _MATCH,
        "fault": {"oneOf": [{"$ref": "#/$defs/fault"}, _ERROR_FAULT, _LATENCY_FAULT]},
        "nth": {
            "oneOf": [
                {"type": "integer", "minimum": 1},
                {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1},
            ],
            "description": "Fire on these matching requests (1-based).",
        },
        "every": {"type": "integer", "minimum": 1, "description": "Fire on every k-th matching request."},
        "times": {"type": "integer", "minimum": 1, "description": "Fire at most this many times."},
        "probability": {"type": "number", "minimum": 0, "maximum": 1, "description": "Seeded chance to fire."},
    },
}

FILE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_ID,
    "title": "mockgw fixture file",
    "type": "object",
    "additionalProperties": False,
    "required": ["version", "fixtures"],
    "properties": {
        "version": {"const": 1},
        "fixtures": {"type": "array", "items": {"$ref": "#/$defs/fixture"}},
    },
    "$defs": {"fixture": FIXTURE, "reply": _REPLY, "fault": _FAULT},
}
