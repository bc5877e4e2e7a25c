"""The stream vocabulary of a wire format: what the fault injector needs to know to break a stream faithfully.

Every dialect streams SSE events (one bytes object per event), but they differ in how an error is sent, which event
ends the stream and where the finish reason lives. A `StreamCodec` answers those questions for one format, so the
fault catalogue (`faults.plan_stream`) stays one set of faults for every endpoint.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from mockgw.core.errors import ApiError


class StreamCodec(Protocol):
    """How faults speak one streaming format. Every method is pure; `number` is the 1-based event position."""

    name: str  # the format, as the journal and docs name it (chat | messages | responses)

    def error_event(self, error: ApiError, number: int) -> bytes:
        """The format's in-stream error event, sent as event `number`."""
        ...

    def is_terminal(self, event: bytes) -> bool:
        """Whether this is the event that says "the stream is complete" (what `no_done` leaves out)."""
        ...

    def without_finish_reason(self, event: bytes) -> bytes:
        """The event with the format's finish signal emptied (null); other events unchanged."""
        ...


def event_name(event: bytes) -> str | None:
    """The `event:` field of one SSE event (None for `data:`-only events such as chat chunks)."""
    for line in event.split(b"\n"):
        if line.startswith(b"event:"):
            return line[6:].strip().decode("utf-8", "replace")
    return None


def event_data(event: bytes) -> bytes | None:
    """The `data:` payload of one SSE event (None for a comment)."""
    for line in event.split(b"\n"):
        if line.startswith(b"data:"):
            return line[5:].strip()
    return None


def _rebuild(event: bytes, change: Callable[[bytes], bytes]) -> bytes:
    """The event with `change` applied to each `data:` payload, keeping every other line and the blank end."""
    lines = event.rstrip(b"\n").split(b"\n")
    for index, line in enumerate(lines):
        if line.startswith(b"data:"):
            lines[index] = b"data: " + change(line[5:].strip())
    return b"\n".join(lines) + b"\n\n"


def corrupt_data(event: bytes) -> bytes:
    """The event's `data:` payload cut in half: still one SSE event with its `event:` line, no longer JSON.

    The `malformed` stream fault, the same in every format (so not a StreamCodec method)."""

    def halve(payload: bytes) -> bytes:
        return payload[: max(1, len(payload) // 2)] if payload.startswith(b"{") else b"{" + payload[:8]

    return _rebuild(event, halve)


def edit_json(event: bytes, change: Callable[[Any], Any]) -> bytes:
    """The event with `change` applied to the parsed JSON of its `data:` payload (non-JSON payloads untouched)."""

    def apply(payload: bytes) -> bytes:
        try:
            value = json.loads(payload)
        except json.JSONDecodeError:
            return payload
        return json.dumps(change(value), separators=(",", ":"), ensure_ascii=False).encode()

    return _rebuild(event, apply)


def null_keys(value: Any, keys: frozenset[str]) -> Any:
    """A JSON value with every object member named in `keys` set to null, at any depth."""
    if isinstance(value, dict):
        return {k: None if k in keys else null_keys(v, keys) for k, v in value.items()}
    if isinstance(value, list):
        return [null_keys(v, keys) for v in value]
    return value


def half_event(event: bytes) -> bytes:
    """The event up to the middle of its `data:` line: the lines before it whole, then half the line, no newline."""
    start = event.find(b"data:")
    if start < 0:
        return event[: max(1, len(event.rstrip(b"\n")) // 2)]
    end = event.find(b"\n", start)
    line = event[start : end if end >= 0 else len(event)]
    return event[:start] + line[: max(1, len(line) // 2)]
