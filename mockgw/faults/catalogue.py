"""The fault catalogue: latency distributions and every way an answer can go wrong, as frozen data.

Pure: parsing fault specs, drawing seeded numbers, and planning what bytes a faulted stream sends. The web layer's
injector (`inject.py`) applies the plan to the socket. Nothing here knows about sockets or event loops.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import field, fields, replace
from typing import Any, ClassVar

from mockgw.core.codec import StreamCodec, corrupt_data, half_event
from mockgw.core.errors import ApiError
from mockgw.core.frozen import frozen

# --- latency distributions ------------------------------------------------------------------------------------------


@frozen
class Fixed:
    """Always the same number of milliseconds."""

    ms: float

    def draw(self, rng: random.Random) -> float:
        return self.ms


@frozen
class Uniform:
    """Uniformly between `low` and `high` milliseconds."""

    low: float
    high: float

    def draw(self, rng: random.Random) -> float:
        return rng.uniform(self.low, self.high)


@frozen
class LogNormal:
    """Log-normal around `median` milliseconds; `sigma` is the spread of the logarithm (0.1 tight, 1 wild)."""

    median: float
    sigma: float

    def draw(self, rng: random.Random) -> float:
        return rng.lognormvariate(math.log(self.median), self.sigma) if self.median > 0 else 0.0


Distribution = Fixed | Uniform | LogNormal
NO_WAIT = Fixed(0.0)


def parse_distribution(raw: Any) -> Distribution:
    """A number (fixed), `{uniform: [min, max]}` or `{lognormal: {median: ms, sigma: s}}` (schema-checked before)."""
    if isinstance(raw, int | float):
        return Fixed(float(raw))
    if "uniform" in raw:
        low, high = raw["uniform"]
        return Uniform(float(min(low, high)), float(max(low, high)))
    spec = raw["lognormal"]
    return LogNormal(float(spec["median"]), float(spec.get("sigma", 0.5)))


def is_jittered(dist: Distribution) -> bool:
    return not isinstance(dist, Fixed)


# --- the catalogue --------------------------------------------------------------------------------------------------


@frozen
class Reset:
    """TCP reset (SO_LINGER 0, then close) before any response byte."""

    kind: ClassVar[str] = "reset"


@frozen
class Close:
    """Close the connection (FIN) without sending any response."""

    kind: ClassVar[str] = "close"


@frozen
class Hang:
    """Headers never come; the server lets go when the client disconnects, on release, or when it stops."""

    kind: ClassVar[str] = "hang"


@frozen
class Garbage:
    """`size` random bytes (seeded) instead of an HTTP response, then close."""

    kind: ClassVar[str] = "garbage"
    size: int = 64
    data: bytes = b""  # drawn by `resolve` from the request's seeded generator


@frozen
class SlowBody:
    """The whole body dribbles out `chunk_bytes` at a time, `every_ms` apart."""

    kind: ClassVar[str] = "slow_body"
    chunk_bytes: int = 16
    every_ms: float = 50.0


@frozen
class Cut:
    """Streams: send `after_events` whole events, then end without the terminal event (FIN, or RST with `rst`)."""

    kind: ClassVar[str] = "cut"
    after_events: int
    rst: bool = False


@frozen
class CutMidEvent:
    """Streams: send the events before `at_event`, then that event up to half its `data:` line, then close."""

    kind: ClassVar[str] = "cut_mid_event"
    at_event: int
    rst: bool = False


@frozen
class Malformed:
    """Streams: event `at_event` keeps its SSE framing (`event:` line included) but its `data:` is not valid JSON."""

    kind: ClassVar[str] = "malformed"
    at_event: int


@frozen
class ErrorEvent:
    """Streams: event `at_event` is the format's error event (chat: `data: {"error": {...}}`; Anthropic and
    Responses: `event: error`) and the stream ends there, cleanly and without its terminal event."""

    kind: ClassVar[str] = "error_event"
    at_event: int
    code: str = "provider_error"
    message: str = "The upstream provider returned an error. Please try again later."
    error_type: str = "provider_error"

    def error(self) -> ApiError:
        """The error the event carries (502: a provider failure; the status itself is never sent, headers are out)."""
        return ApiError(502, self.code, self.message, self.error_type)


@frozen
class NoDone:
    """Streams: a normal end without the terminal event (`[DONE]`, `message_stop`, `response.completed`)."""

    kind: ClassVar[str] = "no_done"


@frozen
class NoFinishReason:
    """Streams: the finish signal is null (chat `finish_reason`, Anthropic `stop_reason`, Responses `status`)."""

    kind: ClassVar[str] = "no_finish_reason"


@frozen
class Stall:
    """Streams: after `after_events` events the connection stays open, silent, until the client leaves or a release
    (then the rest of the stream follows) or the server stops."""

    kind: ClassVar[str] = "stall"
    after_events: int


@frozen
class KeepAlive:
    """Streams: `: keep-alive` comments every `every_events` events and/or every `every_ms` of silence."""

    kind: ClassVar[str] = "keepalive"
    every_events: int | None = None
    every_ms: float | None = None


@frozen
class ErrorFault:
    """An error answer (a fixture's `reply.error` or a fault rule's `{type: error}`): the gateway's envelope for
    `status`, missing fields taking the gateway's defaults, or a custom `body` (any content type, e.g. HTML)."""

    kind: ClassVar[str] = "error"
    status: int
    code: str | None = None
    message: str | None = None
    type: str | None = None
    param: str | None = None
    retry_after: float | None = None
    body: str | None = None  # sent instead of the envelope (JSON objects are serialised at load)
    content_type: str | None = None


@frozen
class Latency:
    """Rules only: override the answer's waits (each a distribution; None keeps the fixture's)."""

    kind: ClassVar[str] = "latency"
    delay_ms: Distribution | None = None
    ttft_ms: Distribution | None = None
    chunk_ms: Distribution | None = None


Fault = (
    Reset
    | Close
    | Hang
    | Garbage
    | SlowBody
    | Cut
    | CutMidEvent
    | Malformed
    | ErrorEvent
    | NoDone
    | NoFinishReason
    | Stall
    | KeepAlive
    | ErrorFault
    | Latency
)

CATALOGUE: Mapping[str, type[Any]] = {
    cls.kind: cls
    for cls in (
        Reset,
        Close,
        Hang,
        Garbage,
        SlowBody,
        Cut,
        CutMidEvent,
        Malformed,
        ErrorEvent,
        NoDone,
        NoFinishReason,
        Stall,
        KeepAlive,
        ErrorFault,
        Latency,
    )
}
CONNECTION_FAULTS = frozenset({"reset", "close", "hang", "garbage", "slow_body"})
STREAM_FAULTS = frozenset(
    {"cut", "cut_mid_event", "malformed", "error_event", "no_done", "no_finish_reason", "stall", "keepalive"}
)


def parse_fault(raw: Mapping[str, Any]) -> Fault:
    """A fault spec (`{type: ..., ...}`, already checked against the schema) as its dataclass."""
    cls = CATALOGUE[raw["type"]]
    fields = {k: v for k, v in raw.items() if k != "type"}
    if cls is Latency:
        fields = {k: parse_distribution(v) for k, v in fields.items()}
    elif cls is ErrorFault:
        fields = error_fields(fields)
        if "error_type" in fields:
            fields["type"] = fields.pop("error_type")
    fault: Fault = cls(**fields)
    return fault


def error_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    """An error spec's fields with a JSON (object or array) `body` turned into text."""
    fields = dict(raw)
    if isinstance(fields.get("body"), Mapping | list):
        fields["body"] = json.dumps(fields["body"], separators=(",", ":"))
        fields.setdefault("content_type", "application/json")
    return fields


def applies(fault: Fault, stream: bool) -> bool:
    """Stream faults only touch streamed answers; everything else applies to any answer."""
    return stream or fault.kind not in STREAM_FAULTS


def resolve(fault: Fault, rng: random.Random) -> Fault:
    """The fault with its random parts drawn (garbage bytes), so the Delivery holds concrete data."""
    if isinstance(fault, Garbage) and not fault.data:
        return replace(fault, data=rng.randbytes(fault.size))
    return fault


def _values(data: Any) -> dict[str, Any]:
    return {f.name: getattr(data, f.name) for f in fields(data)}


def describe(fault: Fault) -> dict[str, Any]:
    """The fault as the journal shows it."""
    data: dict[str, Any] = {"type": fault.kind}
    for name, value in _values(fault).items():
        if isinstance(value, bytes):
            data[name] = len(value)
        elif isinstance(value, Fixed | Uniform | LogNormal):
            data[name] = {type(value).__name__.lower(): _values(value)}
        elif value is not None:
            data[name] = value
    return data


# --- timings --------------------------------------------------------------------------------------------------------


@frozen
class Timing:
    """The waits a reply asks for, as distributions."""

    delay_ms: Distribution = NO_WAIT
    ttft_ms: Distribution = NO_WAIT
    chunk_ms: Distribution = NO_WAIT

    def overridden(self, latency: Latency) -> Timing:
        return Timing(
            latency.delay_ms or self.delay_ms,
            latency.ttft_ms or self.ttft_ms,
            latency.chunk_ms or self.chunk_ms,
        )


@frozen
class Drawn:
    """Concrete waits for one answer: `gaps[i]` is the wait before event i+2 when the chunk wait is jittered."""

    delay_ms: float
    ttft_ms: float
    chunk_ms: float
    gaps: tuple[float, ...] = ()


NO_TIMING = Timing()  # a reply that asks for no wait (most do)


def fixed_timing(timing: Timing) -> Drawn | None:
    """The waits `draw_timing` gives when nothing is drawn at random (no generator needed), else None."""
    delay, ttft, chunk = timing.delay_ms, timing.ttft_ms, timing.chunk_ms
    if isinstance(delay, Fixed) and isinstance(ttft, Fixed) and isinstance(chunk, Fixed):
        return Drawn(round(delay.ms, 3), round(ttft.ms, 3), chunk.ms)
    return None


def draw_timing(timing: Timing, events: int, rng: random.Random) -> Drawn:
    """Draw every wait of an answer with `events` events (0 for a JSON answer), in a fixed order."""
    delay = round(timing.delay_ms.draw(rng), 3)
    ttft = round(timing.ttft_ms.draw(rng), 3)
    if is_jittered(timing.chunk_ms) and events > 1:
        gaps = tuple(round(timing.chunk_ms.draw(rng), 3) for _ in range(events - 1))
        return Drawn(delay, ttft, round(sum(gaps) / len(gaps), 3), gaps)
    chunk = timing.chunk_ms.draw(rng) if not is_jittered(timing.chunk_ms) else 0.0
    return Drawn(delay, ttft, chunk)


# --- stream plans ---------------------------------------------------------------------------------------------------

KEEPALIVE = b": keep-alive\n\n"
DONE = b"data: [DONE]\n\n"


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
    """The wait before each of `count` events of a stream without a fault (as `plan_stream` gives them)."""
    return _waits(count, drawn.ttft_ms, drawn.chunk_ms, drawn.gaps)


def plan_stream(events: Sequence[bytes], drawn: Drawn, fault: Fault | None, codec: StreamCodec) -> StreamPlan:
    """The parts of a stream with its waits, after the fault (if any) has done its work on the event list.

    `codec` is the wire format's stream vocabulary: the faults cut, corrupt and end streams the way that format would.
    """
    events = list(events)
    waits = _waits(len(events), drawn.ttft_ms, drawn.chunk_ms, drawn.gaps)
    parts = [Part(wait, data, number) for number, (wait, data) in enumerate(zip(waits, events, strict=True), 1)]
    match fault:
        case Cut(after_events=k, rst=rst):
            return StreamPlan(tuple(parts[:k]), "reset" if rst else ("close" if k < len(parts) else "eof"))
        case CutMidEvent(at_event=k, rst=rst) if 1 <= k <= len(parts):
            half = replace(parts[k - 1], data=half_event(parts[k - 1].data))
            return StreamPlan((*parts[: k - 1], half), "reset" if rst else "close")
        case Malformed(at_event=k) if 1 <= k <= len(parts):
            parts[k - 1] = replace(parts[k - 1], data=corrupt_data(parts[k - 1].data))
        case ErrorEvent(at_event=k) if 1 <= k <= len(parts) + 1:
            wait = parts[k - 1].wait_ms if k <= len(parts) else drawn.chunk_ms
            return StreamPlan((*parts[: k - 1], Part(wait, codec.error_event(fault.error(), k), k)))
        case NoDone():
            parts = [p for p in parts if not codec.is_terminal(p.data)]
        case NoFinishReason():
            parts = [replace(p, data=codec.without_finish_reason(p.data)) for p in parts]
        case Stall(after_events=k):
            return StreamPlan(tuple(parts), stall_after=min(k, len(parts)))
        case KeepAlive(every_events=n, every_ms=ms):
            if n:
                spaced: list[Part] = []
                for part in parts:
                    spaced.append(part)
                    if part.event % n == 0 and not codec.is_terminal(part.data) and part.event < len(parts):
                        spaced.append(Part(0.0, KEEPALIVE))
                parts = spaced
            return StreamPlan(tuple(parts), keepalive_ms=ms)
    return StreamPlan(tuple(parts))


def dribble(body: bytes, fault: SlowBody) -> tuple[Part, ...]:
    """A body cut into `chunk_bytes` pieces, the first at once and each next one `every_ms` later."""
    size = max(1, fault.chunk_bytes)
    return tuple(
        Part(0.0 if i == 0 else fault.every_ms, body[offset : offset + size])
        for i, offset in enumerate(range(0, len(body), size))
    )


@frozen
class Hold:
    """Keep the answer back until `POST /__mockgw/release` (or `timeout_ms`, then answer normally)."""

    timeout_ms: float | None = None


@frozen
class FaultPick:
    """The fault chosen for one answer and who asked for it (`fixture` or `rule '<name>'`)."""

    fault: Fault
    source: str
    details: Mapping[str, Any] = field(default_factory=dict)
