"""`slow_body`: the body dribbles out a few bytes at a time."""

from __future__ import annotations

from dataclasses import field
from typing import ClassVar

from mockgw.core.frozen import frozen
from mockgw.faults.kind import FaultKind, Scope, param
from mockgw.faults.plan import Part, dribble
from mockgw.faults.timing import MS


@frozen
class SlowBody(FaultKind):
    """The whole body dribbles out `chunk_bytes` at a time, `every_ms` apart."""

    kind: ClassVar[str] = "slow_body"
    scope: ClassVar[Scope] = "connection"
    description: ClassVar[str] = "the body (JSON or stream) dribbles out `chunk_bytes` at a time, `every_ms` apart"
    completes: ClassVar[bool] = True
    chunk_bytes: int = field(default=16, metadata=param({"type": "integer", "minimum": 1}))
    every_ms: float = field(default=50.0, metadata=param(MS))

    def pieces(self, data: bytes) -> tuple[Part, ...]:
        return dribble(data, self.chunk_bytes, self.every_ms)
