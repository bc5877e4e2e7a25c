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
    },
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
        "delay_ms": {**_MS, "description": "Wait before sending the response headers."},
        "ttft_ms": {**_MS, "description": "Streams: wait before the first event."},
        "chunk_ms": {**_MS, "description": "Streams: wait between events."},
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
    "$defs": {"fixture": FIXTURE, "reply": _REPLY},
}
