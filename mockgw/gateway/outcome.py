"""What the pipeline hands the web layer: the request as received and the answer to send (data only)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from typing import Any

from mockgw.core.codec import StreamCodec
from mockgw.core.conversation import Conversation
from mockgw.core.errors import ApiError
from mockgw.core.frozen import frozen
from mockgw.core.names import SESSION_HEADER
from mockgw.core.reply import Reply
from mockgw.dialects.chat import CHAT
from mockgw.faults import catalogue as faults

JSON_TYPE = "application/json"


SSE_TYPE = "text/event-stream"


@frozen
class RawRequest:
    """A request as received: headers looked up by any case (aiohttp's own headers), body as bytes."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes = b""
    session: str = ""  # the X-Mockgw-Session header, read once (`received` fills it)

    @classmethod
    def received(cls, method: str, path: str, headers: Mapping[str, str], body: bytes = b"") -> RawRequest:
        """A request as the web layer received it (its session read from the headers once, not at every use)."""
        return cls(method, path, headers, body, headers.get(SESSION_HEADER, ""))


@frozen
class Delivery:
    """How the answer goes out: waits in milliseconds (applied by the web layer)."""

    delay_ms: float = 0.0
    ttft_ms: float = 0.0
    chunk_ms: float = 0.0
    gaps: tuple[float, ...] = ()  # per-event waits (before events 2..n) when the chunk wait is jittered
    fault: faults.Fault | None = None  # applied at the socket by the injector
    fault_source: str | None = None  # "fixture" or "rule '<name>'"
    hold: faults.Hold | None = None


@frozen
class Outcome:
    """The answer to send and what the journal should say about it."""

    status: int
    body: bytes = b""
    events: tuple[bytes, ...] | None = None
    codec: StreamCodec = CHAT.codec  # the events' wire format, for the stream faults
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = JSON_TYPE
    delivery: Delivery = Delivery()
    parsed: Any = None  # the request body as the journal shows it
    conversation: Conversation | None = None
    fixture: str | None = None
    error: ApiError | None = None
    near_misses: tuple[Mapping[str, Any], ...] = ()
    summary: Mapping[str, Any] = field(default_factory=dict)  # for the journal; from `reply` when there is one
    reply: Reply | None = None
    ending: str = "eof"  # how a stream ends when no fault says otherwise; "close": a recorded cut, replayed


def error_outcome(error: ApiError, parsed: Any = None, **extra: Any) -> Outcome:
    """The outcome of a refused request: the error envelope, and its code and message for the journal."""
    summary = {"error": {"code": error.code, "message": error.message}}
    return Outcome(
        status=error.status,
        body=error.body(),
        headers=error.headers,
        parsed=parsed,
        error=error,
        summary=summary,
        **extra,
    )
