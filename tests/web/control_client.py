"""The control endpoint as the tests call it: plain urllib, so no client library stands between test and server."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from mockgw.server import MockGateway


def control(gateway: MockGateway, method: str, path: str, payload: Any = None) -> Any:
    """`METHOD /__mockgw/<path>` with an optional JSON payload; the decoded JSON answer."""
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(
        f"{gateway.url}/__mockgw/{path}", data=data, method=method, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)
