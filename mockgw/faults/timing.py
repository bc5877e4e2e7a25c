"""Waits: latency distributions (seeded), the waits a reply asks for, and the concrete waits drawn for one answer."""

from __future__ import annotations

import math
import random
from typing import Any, Protocol

from mockgw.core.frozen import frozen

MS: dict[str, Any] = {"type": "number", "minimum": 0}

DISTRIBUTION: dict[str, Any] = {
    "description": "Milliseconds: a number, {uniform: [min, max]} or {lognormal: {median, sigma}}; seeded.",
    "oneOf": [
        MS,
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["uniform"],
            "properties": {"uniform": {"type": "array", "items": MS, "minItems": 2, "maxItems": 2}},
        },
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["lognormal"],
            "properties": {
                "lognormal": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["median"],
                    "properties": {"median": MS, "sigma": {"type": "number", "minimum": 0}},
                }
            },
        },
    ],
}


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


class Waits(Protocol):
    """Waits that override some of an answer's (None keeps the answer's own): a `latency` fault."""

    @property
    def delay_ms(self) -> Distribution | None: ...
    @property
    def ttft_ms(self) -> Distribution | None: ...
    @property
    def chunk_ms(self) -> Distribution | None: ...


@frozen
class Timing:
    """The waits a reply asks for, as distributions."""

    delay_ms: Distribution = NO_WAIT
    ttft_ms: Distribution = NO_WAIT
    chunk_ms: Distribution = NO_WAIT

    def overridden(self, waits: Waits) -> Timing:
        return Timing(
            waits.delay_ms or self.delay_ms,
            waits.ttft_ms or self.ttft_ms,
            waits.chunk_ms or self.chunk_ms,
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
