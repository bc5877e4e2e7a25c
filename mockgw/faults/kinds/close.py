"""`close`: the connection closes (FIN) without a response."""

from __future__ import annotations

from typing import ClassVar

from mockgw.core.frozen import frozen
from mockgw.faults.kind import Abort, FaultKind, Scope


@frozen
class Close(FaultKind):
    """Close the connection (FIN) without sending any response."""

    kind: ClassVar[str] = "close"
    scope: ClassVar[Scope] = "connection"
    description: ClassVar[str] = (
        "FIN without a response. `APIConnectionError` (`RemoteProtocolError: Server disconnected…`), aiohttp "
        "`ServerDisconnectedError`"
    )

    def abort(self) -> Abort:
        return Abort("close")
