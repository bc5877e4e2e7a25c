"""Request bodies: strict JSON parsing (the gateway's `invalid_json`) and what the journal keeps of a body."""

from __future__ import annotations

import json
from typing import Any

from mockgw.errors import ApiError, invalid_request
from mockgw.outcome import RawRequest

# serde_json's default recursion limit, which the real (Rust) gateway inherits; deeper bodies are refused
# before they can exhaust Python's stack anywhere downstream (validation, journal copies, JSON output).
MAX_JSON_DEPTH = 128


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


_DECODER = json.JSONDecoder(parse_constant=_no_constant)


def _too_deep(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > limit:
                return True
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return False


def loads_strict(data: bytes) -> Any:
    """JSON as RFC 8259 has it (NaN and Infinity refused), at most MAX_JSON_DEPTH deep; else ValueError."""
    try:
        # json.loads(data, parse_constant=...) without the new JSONDecoder it builds per call when given options
        value = _DECODER.decode(data.decode(json.detect_encoding(data), "surrogatepass"))
    except RecursionError:
        value = None
        too_deep = True
    else:
        # nesting needs one `[` or `{` per level: with at most MAX_JSON_DEPTH of them in the whole body (strings
        # included, so this over-counts) the walk over every node cannot find anything, and is skipped
        # (also in UTF-16/32 bodies, which json.loads accepts: each `[` or `{` still has its 0x5B/0x7B byte)
        too_deep = data.count(b"[") + data.count(b"{") > MAX_JSON_DEPTH and _too_deep(value, MAX_JSON_DEPTH)
    if too_deep:
        raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep")
    return value


def parse_request(raw: RawRequest) -> dict[str, Any] | ApiError:
    """The body as a JSON object, or 400 invalid_json saying what is wrong with it."""
    try:
        body = loads_strict(raw.body)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        detail = str(exc) if raw.body.strip() else "the body is empty"
        return invalid_request(
            f"The request body is not valid JSON ({detail}). Send a JSON object with Content-Type: application/json.",
            code="invalid_json",
        )
    if not isinstance(body, dict):
        kind = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean"}.get(
            type(body), "null"
        )
        return invalid_request(f"The request body must be a JSON object, got {kind}.", code="invalid_json")
    return body


def journal_body(raw: RawRequest) -> Any:
    """The body as the journal keeps it: parsed JSON when possible, else text."""
    try:
        return loads_strict(raw.body) if raw.body else None
    except ValueError:
        return raw.body.decode("utf-8", "replace")[:4096]
