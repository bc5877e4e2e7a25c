"""mockgw: a local emulator of the Edgee AI Gateway API for testing integrations.

The documented names are importable from here (`from mockgw import MockGateway`); they are loaded on first use, so
`import mockgw` (and the pytest plugin's start) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mockgw.core.version import VERSION as __version__

# name -> the module that defines it
_EXPORTS = {
    "MockGateway": "mockgw.server.runner",
    "Settings": "mockgw.gateway.config",
    "MockgwHandle": "mockgw.handle",
    "Call": "mockgw.journal.calls",
    "FixtureError": "mockgw.core.errors",
    "MockgwError": "mockgw.core.errors",
    "LocalServer": "mockgw.handle",
    "RemoteServer": "mockgw.handle",
}

__all__ = [
    "Call",
    "FixtureError",
    "LocalServer",
    "MockGateway",
    "MockgwError",
    "MockgwHandle",
    "RemoteServer",
    "Settings",
    "__version__",
]

if TYPE_CHECKING:
    from mockgw.core.errors import FixtureError, MockgwError
    from mockgw.gateway.config import Settings
    from mockgw.handle import LocalServer, MockgwHandle, RemoteServer
    from mockgw.journal.calls import Call
    from mockgw.server.runner import MockGateway


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mockgw' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
