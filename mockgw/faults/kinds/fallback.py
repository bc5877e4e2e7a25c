"""`fallback`: a fault rule that says the primary provider failed and a fallback provider answered."""

from __future__ import annotations

from dataclasses import field
from typing import ClassVar

from mockgw.core.frozen import frozen
from mockgw.faults.kind import FaultKind, Scope, param

_NAME = {"type": "string", "minLength": 1}


@frozen
class Fallback(FaultKind):
    """Rules only: the answer comes from a fallback provider (`X-Edgee-Fallback-Used: 1`, its `X-Edgee-Provider`).

    The gateway decides it before the first byte (docs/edgee-features.md), so it never cuts an answer."""

    kind: ClassVar[str] = "fallback"
    scope: ClassVar[Scope] = "answer"
    description: ClassVar[str] = (
        "the primary provider failed: the answer comes from `provider` (default: the next one serving the model), "
        "reporting `model` (default: the model asked for)"
    )
    completes: ClassVar[bool] = True
    provider: str | None = field(default=None, metadata=param({**_NAME, "description": "The provider that answers."}))
    model: str | None = field(default=None, metadata=param({**_NAME, "description": "The model reported."}))
