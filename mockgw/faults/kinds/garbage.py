"""`garbage`: seeded random bytes instead of an HTTP response."""

from __future__ import annotations

import random
from dataclasses import field, replace
from typing import ClassVar, Self

from mockgw.core.frozen import frozen
from mockgw.faults.kind import Abort, FaultKind, Scope, param


@frozen
class Garbage(FaultKind):
    """`size` random bytes (seeded) instead of an HTTP response, then close."""

    kind: ClassVar[str] = "garbage"
    scope: ClassVar[Scope] = "connection"
    description: ClassVar[str] = (
        "`size` seeded random bytes instead of HTTP, then close. aiohttp `ClientResponseError` (bad status line)"
    )
    size: int = field(default=64, metadata=param({"type": "integer", "minimum": 1, "maximum": 1048576}))
    data: bytes = b""  # drawn by `resolve` from the request's seeded generator

    def resolve(self, rng: random.Random) -> Self:
        return self if self.data else replace(self, data=rng.randbytes(self.size))

    def abort(self) -> Abort:
        return Abort("close", self.data)
