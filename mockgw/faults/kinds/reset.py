"""`reset`: a TCP reset before any response byte."""

from __future__ import annotations

from typing import ClassVar

from mockgw.core.frozen import frozen
from mockgw.faults.kind import Abort, FaultKind, Scope


@frozen
class Reset(FaultKind):
    """TCP reset (SO_LINGER 0, then close) before any response byte."""

    kind: ClassVar[str] = "reset"
    scope: ClassVar[Scope] = "connection"
    description: ClassVar[str] = (
        "TCP RST (SO_LINGER 0, then close) before any byte. openai `APIConnectionError` (cause `httpx.ReadError`), "
        "aiohttp `ClientOSError`"
    )

    def abort(self) -> Abort:
        return Abort("reset")
