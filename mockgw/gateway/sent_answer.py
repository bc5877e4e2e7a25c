"""What the journal keeps of an answer's bytes, for the inspector: a JSON body's text, or a stream's parts as the
fault plan scheduled them (each event's wait and data). Made only when the journal is read, never per request."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mockgw.core.codec import StreamCodec
from mockgw.faults import catalogue as faults
from mockgw.gateway.outcome import Delivery

MAX_BODY_CHARS = 64 * 1024  # a longer answer body is cut (the journal is for reading, not replaying)
MAX_EVENT_CHARS = 4 * 1024


def _text(data: bytes, limit: int) -> str:
    text = data.decode("utf-8", "replace")
    return text if len(text) <= limit else text[:limit] + "…"


def answer_json(
    body: bytes, events: Sequence[bytes] | None, delivery: Delivery, codec: StreamCodec | None
) -> dict[str, Any]:
    """`{"body": text}` for a JSON answer, `{"stream": {...}}` for a streamed one (nothing when no bytes were due)."""
    if delivery.fault is not None and delivery.fault.abort() is not None:  # reset, close, garbage, hang: no answer
        return {}
    if events is None:
        return {"body": _text(body, MAX_BODY_CHARS)} if body else {}
    if codec is None:
        return {}
    drawn = faults.Drawn(delivery.delay_ms, delivery.ttft_ms, delivery.chunk_ms, delivery.gaps)
    plan = faults.plan_stream(events, drawn, delivery.fault, codec)
    return {
        "stream": {
            "events": len(events),
            "ending": plan.ending,
            "stall_after": plan.stall_after,
            "parts": [
                {"wait_ms": part.wait_ms, "event": part.event, "data": _text(part.data, MAX_EVENT_CHARS)}
                for part in plan.parts
            ],
        }
    }
