"""`hang`: the response headers never come."""

from __future__ import annotations

from typing import ClassVar

from mockgw.core.frozen import frozen
from mockgw.faults.kind import Abort, FaultKind, Scope


@frozen
class Hang(FaultKind):
    """Headers never come; the server lets go when the client disconnects, on release, or when it stops."""

    kind: ClassVar[str] = "hang"
    scope: ClassVar[Scope] = "connection"
    description: ClassVar[str] = (
        "headers never come; the server lets go when the client disconnects, on release, or when it stops. "
        "`APITimeoutError`"
    )

    def abort(self) -> Abort:
        return Abort("hang")
