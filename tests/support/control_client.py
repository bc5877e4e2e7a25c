"""The control endpoint as the tests call it, with no client library between test and server.

`control` is plain urllib and gives the decoded JSON (an error status raises `urllib.error.HTTPError`);
`control_answer` is raw `http.client` and gives whatever came back, for the tests of error statuses.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from mockgw.server.runner import MockGateway
from tests.support import rawhttp


def control(gateway: MockGateway, method: str, path: str, payload: Any = None) -> Any:
    """`METHOD /__mockgw/<path>` with an optional JSON payload; the decoded JSON answer."""
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(
        f"{gateway.url}/__mockgw/{path}", data=data, method=method, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def control_answer(gateway: MockGateway, method: str, path: str, payload: Any = None) -> rawhttp.Answer:
    """`METHOD /__mockgw/<path>` whatever the status: status, headers and body. `payload` may be bytes (sent as is)."""
    return rawhttp.request(gateway.port, method, f"/__mockgw/{path}", payload, key=None)
