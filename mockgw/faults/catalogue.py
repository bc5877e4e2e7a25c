"""The fault catalogue: parsing fault specs, checking them, and what a fault does to an answer, from the registry.

Pure: every fault type lives in `faults/kinds/` (see `registry.py`); this module is the one entry the rest of mockgw
uses (with the waits of `timing.py` and the parts of `plan.py`). The web layer's injector (`server/inject.py`)
carries the plans out on the socket. Nothing here knows about sockets or event loops.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Mapping, Sequence
from typing import Any

import jsonschema_rs

from mockgw.core.codec import StreamCodec
from mockgw.core.frozen import frozen
from mockgw.faults.kind import FaultKind
from mockgw.faults.kinds.error import error_fields
from mockgw.faults.plan import KEEPALIVE, Part, StreamPlan, stream_waits, timed_parts
from mockgw.faults.registry import REGISTRY, kinds_of
from mockgw.faults.schema import FAULT_TYPES
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
    "fault_problem",
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


@functools.cache
def _validator(kind: str) -> Any:
    """The compiled schema of one fault type, compiled on first use (compiling them all would slow every import)."""
    return jsonschema_rs.validator_for(FAULT_TYPES[kind])


def fault_problem(raw: Any, rules: bool) -> tuple[str, str] | None:
    """(field path inside the fault, message) when a fault spec is broken; `rules` allows every kind."""
    if not isinstance(raw, Mapping):
        return "", "a fault is an object with a `type`"
    allowed = sorted(REGISTRY if rules else FIXTURE_FAULTS)
    kind = raw.get("type")
    if kind not in allowed:
        return "type", f"unknown fault type {kind!r}; use one of {', '.join(allowed)}"
    errors = sorted(_validator(kind).iter_errors(raw), key=lambda e: (-len(e.instance_path), e.message))
    if not errors:
        return None
    where = ".".join(str(p) for p in errors[0].instance_path)
    return where, errors[0].message


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
