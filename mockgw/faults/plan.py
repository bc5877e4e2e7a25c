"""What a stream or a body sends, part by part: the data a fault's plan is made of (the injector carries it out)."""

from __future__ import annotations

from collections.abc import Sequence

from mockgw.core.frozen import frozen
from mockgw.faults.timing import Drawn

KEEPALIVE = b": keep-alive\n\n"


@frozen
class Part:
    """Bytes to write after waiting `wait_ms`; `event` is the 1-based event number (0 for comments)."""

    wait_ms: float
    data: bytes
    event: int = 0


@frozen
class StreamPlan:
    """What a (possibly faulted) stream sends, and how it ends.

    `ending` is `eof` (a clean end of the body), `close` (FIN mid-body) or `reset` (RST mid-body).
    `stall_after` is the number of parts after which the stream goes silent until released.
    """

    parts: tuple[Part, ...]
    ending: str = "eof"
    stall_after: int | None = None
    keepalive_ms: float | None = None


def _waits(count: int, ttft_ms: float, chunk_ms: float, gaps: Sequence[float]) -> list[float]:
    return [ttft_ms if i == 0 else (gaps[i - 1] if gaps else chunk_ms) for i in range(count)]


def stream_waits(count: int, drawn: Drawn) -> list[float]:
    """The wait before each of `count` events of a stream without a fault (as `timed_parts` gives them)."""
    return _waits(count, drawn.ttft_ms, drawn.chunk_ms, drawn.gaps)


def timed_parts(events: Sequence[bytes], drawn: Drawn) -> list[Part]:
    """The events of a stream as numbered parts with their waits, before any fault."""
    waits = stream_waits(len(events), drawn)
    return [Part(wait, data, number) for number, (wait, data) in enumerate(zip(waits, events, strict=True), 1)]


def dribble(body: bytes, chunk_bytes: int, every_ms: float) -> tuple[Part, ...]:
    """A body cut into `chunk_bytes` pieces, the first at once and each next one `every_ms` later."""
    size = max(1, chunk_bytes)
    return tuple(
        Part(0.0 if i == 0 else every_ms, body[offset : offset + size])
        for i, offset in enumerate(range(0, len(body), size))
    )
