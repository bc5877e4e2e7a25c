"""Bodies: strict JSON parsing (the gateway's `invalid_json`), what the journal keeps, compact JSON answers.

orjson does the common case on the hot path (valid UTF-8 JSON in, answers out; measured in docs/bench.md); the
standard library does everything else, so what is accepted, and every error message, stays the standard
library's.
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

from mockgw.core.errors import ApiError, invalid_request
from mockgw.core.jsontext import dumps_compact as dumps_compact  # where it lived first
from mockgw.gateway.outcome import RawRequest

# serde_json's default recursion limit, which the real (Rust) gateway inherits; deeper bodies are refused
# before they can exhaust Python's stack anywhere downstream (validation, journal copies, JSON output).
MAX_JSON_DEPTH = 128


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


class OutOfRange(ValueError):
    """A number beyond a double's range (serde_json, the real gateway's parser, refuses it); `path` names it."""

    def __init__(self, path: str) -> None:
        super().__init__(f"the number at '{path}' is out of range for a 64-bit float (serde_json: number out of range)")
        self.path = path


_DOUBLE_MAX = 1.7976931348623157e308


class _Overflow:
    """Stands for a number out of range while parsing; `_overflow_path` finds where it sits."""


_OVERFLOW = _Overflow()


def _parse_float(text: str) -> Any:
    value = float(text)
    return _OVERFLOW if value in (math.inf, -math.inf) else value


def _parse_int(text: str) -> Any:
    value = int(text)
    # serde_json reads an integer beyond 64 bits as a double: past the double range it refuses it
    return _OVERFLOW if len(text) > 300 and abs(value) > _DOUBLE_MAX else value


_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_parse_float, parse_int=_parse_int)


def _overflow_path(value: Any) -> str | None:
    """Where the first out-of-range number sits (`a.b[0]`), or None when there is none."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        node, path = stack.pop()
        if node is _OVERFLOW:
            return path or "(the body)"
        if isinstance(node, dict):
            stack.extend((child, f"{path}.{key}" if path else str(key)) for key, child in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((child, f"{path}[{i}]") for i, child in reversed(list(enumerate(node))))
    return None


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


def _loads_stdlib(data: bytes) -> Any:
    # serde_json (the real gateway) reads UTF-8 only, and no byte order mark: json.loads would take both
    if data.startswith(b"\xef\xbb\xbf"):
        raise ValueError("a UTF-8 byte order mark starts the body; the gateway's JSON parser refuses it")
    encoding = json.detect_encoding(data)
    if encoding != "utf-8":
        raise ValueError(f"the body is {encoding.upper()}, not UTF-8; the gateway's JSON parser reads UTF-8 only")
    # json.loads(data, parse_constant=...) without the new JSONDecoder it builds per call when given options
    return _DECODER.decode(data.decode(encoding, "surrogatepass"))


def _refuse_lone_surrogates(value: Any) -> None:
    # `"\ud800"` alone is no Unicode text: serde_json (the real gateway) refuses it, and an answer quoting it
    # could not be written as UTF-8
    try:
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError as exc:
        code = ord(exc.object[exc.start])
        raise ValueError(f"a string holds the unpaired surrogate \\u{code:04x}, which is not Unicode text") from None


def loads_strict(data: bytes) -> Any:
    """JSON as RFC 8259 has it (NaN, Infinity and unpaired surrogates refused), at most MAX_JSON_DEPTH deep;
    else ValueError."""
    by_orjson = True
    try:
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError:
            # orjson takes a subset of what json.loads takes (UTF-8 only, no lone surrogates, no numbers beyond
            # 64 bits or double range): the standard library decides, and words the error
            by_orjson = False
            value = _loads_stdlib(data)
            if b"e" in data or b"E" in data or len(data) > 300:  # only then can a number overflow a double
                where = _overflow_path(value)
                if where is not None:
                    raise OutOfRange(where) from None
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
    if not by_orjson:
        _refuse_lone_surrogates(value)
    return value


def parse_request(raw: RawRequest) -> dict[str, Any] | ApiError:
    """The body as a JSON object, or 400 invalid_json saying what is wrong with it."""
    try:
        body = loads_strict(raw.body)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        detail = str(exc) if raw.body.strip() else "the body is empty"
        return invalid_request(
            f"The request body is not valid JSON ({detail}). Send a JSON object with Content-Type: application/json.",
            exc.path if isinstance(exc, OutOfRange) else None,
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
