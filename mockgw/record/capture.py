"""A capture: one request forwarded upstream and what came back, as the proxy saw it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import field

from mockgw.core.frozen import frozen
from mockgw.fixtures.recorded import RecordedEvent

# The documented API paths and the `match.endpoint` name of each.
ENDPOINTS: Mapping[str, str] = {
    "/v1/chat/completions": "chat",
    "/v1/messages": "messages",
    "/v1/responses": "responses",
    "/v1/models": "models",
    "/v1/count_tokens": "count_tokens",
    "/v1/messages/count_tokens": "count_tokens",
    "/v1/compress": "compress",
}
CONVERSATION_ENDPOINTS = frozenset({"chat", "messages", "responses"})

# An SSE event ends at a blank line, whatever the line endings (the spec allows CRLF, LF and CR).
_EVENT_END = re.compile(rb"\r\n\r\n|\n\n|\r\r(?!\n)")


@frozen
class Capture:
    """A forwarded request and the upstream's answer: its body, or each SSE event with its time."""

    method: str
    path: str  # the API path, without a /s/<session> prefix
    request_headers: Mapping[str, str]
    request_body: bytes
    status: int
    headers: Mapping[str, str]
    body: bytes | None = None
    events: tuple[RecordedEvent, ...] | None = None
    ms: float = 0.0  # when the whole answer had arrived, in ms since the request was sent
    complete: bool = True  # False: the upstream cut the answer off
    session: str = ""
    secrets: tuple[str, ...] = field(default_factory=tuple)  # key values seen on the way (never written)

    @property
    def endpoint(self) -> str:
        return ENDPOINTS.get(self.path.rstrip("/"), "chat")


def split_events(buffer: bytes) -> tuple[list[bytes], bytes]:
    """The whole SSE events at the start of `buffer` (each with its blank-line end, verbatim) and the rest."""
    events: list[bytes] = []
    start = 0
    for end in _EVENT_END.finditer(buffer):
        events.append(buffer[start : end.end()])
        start = end.end()
    return events, buffer[start:]
