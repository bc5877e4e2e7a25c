"""The JSON Schema of faults, as data: fixtures' `reply.fault`/`reply.error` and fault rules' `fault` use it."""

from __future__ import annotations

from typing import Any

MS: dict[str, Any] = {"type": "number", "minimum": 0}

DISTRIBUTION: dict[str, Any] = {
    "description": "Milliseconds: a number, {uniform: [min, max]} or {lognormal: {median, sigma}}; seeded.",
    "oneOf": [
        MS,
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["uniform"],
            "properties": {"uniform": {"type": "array", "items": MS, "minItems": 2, "maxItems": 2}},
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
                    "properties": {"median": MS, "sigma": {"type": "number", "minimum": 0}},
                }
            },
        },
    ],
}


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

FAULT: dict[str, Any] = {
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
            every_ms=MS,
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

ERROR: dict[str, Any] = {
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

ERROR_FAULT: dict[str, Any] = {
    **ERROR,
    "required": ["type", "status"],
    "properties": {**ERROR["properties"], "type": {"const": "error"}, "error_type": {"type": "string"}},
    "description": "Answer with an error (the gateway's code and message for the status unless given).",
}

LATENCY_FAULT: dict[str, Any] = _fault(
    "latency",
    "Override the waits of the answers the rule hits.",
    delay_ms=DISTRIBUTION,
    ttft_ms=DISTRIBUTION,
    chunk_ms=DISTRIBUTION,
)

# Each fault type's own schema, so a broken fault gets a precise message instead of "not valid under oneOf".
FAULT_TYPES: dict[str, dict[str, Any]] = {
    **{option["properties"]["type"]["const"]: option for option in FAULT["oneOf"]},
    "error": ERROR_FAULT,
    "latency": LATENCY_FAULT,
}
