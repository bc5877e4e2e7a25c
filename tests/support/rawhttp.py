"""Raw HTTP over a real socket (`http.client`), for the exact status, headers and bytes a client sees."""

from __future__ import annotations

import http.client
import json
import socket
import urllib.parse
from dataclasses import dataclass
from typing import Any

from tests.conftest import API_KEY

CHAT = "/v1/chat/completions"


@dataclass(frozen=True)
class Answer:
    """What came back: status, headers (case-insensitive lookups) and the body bytes."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error(self) -> dict[str, Any]:
        """The error envelope's inner object (asserting the envelope has exactly the documented keys)."""
        envelope = self.json()
        assert list(envelope) == ["error"], envelope
        assert set(envelope["error"]) == {"code", "message", "type", "param"}, envelope
        assert self.headers.get_content_type() == "application/json"
        error: dict[str, Any] = envelope["error"]
        return error


def request(
    port: int,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    key: str | None = API_KEY,
) -> Answer:
    """One request on a fresh connection. `body` may be bytes (sent as is) or JSON data."""
    sent: dict[str, str] = {"Content-Type": "application/json"}
    if key is not None:
        sent["Authorization"] = f"Bearer {key}"
    sent.update(headers or {})
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=data, headers=sent)
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def exchange(port: int, data: bytes, timeout: float = 30) -> Answer:
    """Send `data` exactly as given (malformed or not) on a fresh connection, and read the one answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return Answer(response.status, response.headers, response.read())


def chat(port: int, body: Any, headers: dict[str, str] | None = None, key: str | None = API_KEY) -> Answer:
    return request(port, "POST", CHAT, body, headers, key)


def journal(port: int, **query: Any) -> list[dict[str, Any]]:
    """The journal's calls (`GET /__mockgw/calls`) with the filters given."""
    path = "/__mockgw/calls"
    if query:
        path += "?" + urllib.parse.urlencode(query)
    answer = request(port, "GET", path, key=None)
    assert answer.status == 200, answer.body
    calls: list[dict[str, Any]] = answer.json()["calls"]
    return calls


def sse_events(body: bytes) -> list[bytes]:
    """The `data:` payloads of an SSE body, asserting the framing (`data: …\\n\\n`, `\\n` only, final newline)."""
    assert b"\r" not in body
    assert body.endswith(b"\n\n")
    events = body[:-2].split(b"\n\n")
    for event in events:
        assert event.startswith(b"data: "), event
        assert b"\n" not in event, event
    return [event[len(b"data: ") :] for event in events]
