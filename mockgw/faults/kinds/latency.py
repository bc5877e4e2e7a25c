"""`latency`: a fault rule that changes an answer's waits."""

from __future__ import annotations

from dataclasses import field
from typing import ClassVar

from mockgw.core.frozen import frozen
from mockgw.faults.kind import FaultKind, Scope, param
from mockgw.faults.timing import DISTRIBUTION, Distribution, parse_distribution

_WAIT = param(DISTRIBUTION, parse=parse_distribution)


@frozen
class Latency(FaultKind):
    """Rules only: override the answer's waits (each a distribution; None keeps the fixture's)."""

    kind: ClassVar[str] = "latency"
    scope: ClassVar[Scope] = "answer"
    description: ClassVar[str] = "overrides the waits of the answers the rule hits"
    completes: ClassVar[bool] = True
    delay_ms: Distribution | None = field(default=None, metadata=_WAIT)
    ttft_ms: Distribution | None = field(default=None, metadata=_WAIT)
    chunk_ms: Distribution | None = field(default=None, metadata=_WAIT)
