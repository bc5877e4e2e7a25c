"""The fault catalogue: parsing fault specs, checking them, and what a fault does to an answer, from the registry.

Pure: every fault type lives in `faults/kinds/` (see `registry.py`); this module is the one entry the rest of mockgw
uses (with the waits of `timing.py` and the parts of `plan.py`). The web layer's injector (`server/inject.py`)
carries the plans out on the socket. Nothing here knows about sockets or event loops.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from mockgw.core.codec import StreamCodec
from mockgw.core.frozen import frozen
from mockgw.faults.kind import FaultKind
from mockgw.faults.kinds.error import error_fields
from mockgw.faults.plan import KEEPALIVE, Part, StreamPlan, stream_waits, timed_parts
from mockgw.faults.registry import REGISTRY, kinds_of
from mockgw.faults.timing import (
    NO_TIMING,
    NO_WAIT,
    Distribution,
    Drawn,
    Fixed,
    LogNormal,
    Timing,
    Uniform,
    draw_timing,
    fixed_timing,
    is_jittered,
    parse_distribution,
)

__all__ = [
    "CATALOGUE",
    "KEEPALIVE",
    "NO_TIMING",
    "NO_WAIT",
    "STREAM_FAULTS",
    "Distribution",
    "Drawn",
    "Fault",
    "Fixed",
    "Hold",
    "LogNormal",
    "Part",
    "StreamPlan",
    "Timing",
    "Uniform",
    "applies",
    "describe",
    "draw_timing",
    "error_fields",
    "fixed_timing",
    "is_jittered",
    "parse_distribution",
    "parse_fault",
    "plan_stream",
    "resolve",
    "stream_waits",
]

Fault = FaultKind  # any fault type of the registry

CATALOGUE: Mapping[str, type[Fault]] = REGISTRY
STREAM_FAULTS = frozenset(kinds_of("stream"))
FIXTURE_FAULTS = kinds_of("connection", "stream")  # what a fixture's `reply.fault` may be; rules take every kind


def parse_fault(raw: Mapping[str, Any]) -> Fault:
    """A fault spec (`{type: ..., ...}`, already checked against the schema) as its fault type's object."""
    return REGISTRY[raw["type"]].from_spec(raw)


def applies(fault: Fault, stream: bool) -> bool:
    """Stream faults only touch streamed answers; everything else applies to any answer."""
    return fault.applies(stream)


def resolve(fault: Fault, rng: random.Random) -> Fault:
    """The fault with its random parts drawn (garbage bytes), so the Delivery holds concrete data."""
    return fault.resolve(rng)


def describe(fault: Fault) -> dict[str, Any]:
    """The fault as the journal shows it."""
    return fault.describe()


def plan_stream(events: Sequence[bytes], drawn: Drawn, fault: Fault | None, codec: StreamCodec) -> StreamPlan:
    """The parts of a stream with its waits, after the fault (if any) has done its work on the event list.

    `codec` is the wire format's stream vocabulary: the faults cut, corrupt and end streams the way that format would.
    """
    parts = timed_parts(events, drawn)
    return StreamPlan(tuple(parts)) if fault is None else fault.plan(parts, drawn, codec)


@frozen
class Hold:
    """Keep the answer back until `POST /__mockgw/release` (or `timeout_ms`, then answer normally)."""

    timeout_ms: float | None = None
