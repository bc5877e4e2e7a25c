"""Requests refused before mockgw's handler sees them, in the documented envelope.

aiohttp refuses some requests while parsing them (a malformed request line, an oversized header, an unsupported
`Content-Encoding`) and over the connection cap mockgw refuses them itself (server/connections.py). Here: what such
a request was, as far as its first bytes tell (for the journal), and the error it gets.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from aiohttp import http_exceptions
from multidict import CIMultiDict

from mockgw.core.errors import ApiError, gateway_error, not_found
from mockgw.core.frozen import frozen
from mockgw.core.names import SESSION_HEADER
from mockgw.gateway.outcome import RawRequest

HEAD_SAMPLE = 16 * 1024  # bytes of a request's first chunk kept to journal it if aiohttp refuses it
MAX_LINE = 8190  # aiohttp's limits (RequestHandler's defaults, kept): request line, header line, header count
MAX_HEADERS = 128
SHOWN_PATH = 1024  # a longer path is journaled cut to this many characters and "..."
SESSION_PATH = re.compile(r"/s/([A-Za-z0-9._~-]{1,128})(/.*)", re.DOTALL)  # the `/s/<session>/...` routes


@frozen
class Head:
    """What the first bytes of a request say: its method and path (as sent, cut when huge), and its whole header
    lines (the incomplete last one left out)."""

    method: str = ""
    path: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    line_length: int = 0  # of the request line, in bytes
    line_complete: bool = False  # the request line ended (CRLF) within the bytes seen

    def request(self) -> RawRequest:
        """The journal's request: the session from `X-Mockgw-Session`, or from a `/s/<session>/` path."""
        headers: CIMultiDict[str] = CIMultiDict(self.headers)
        path = self.path
        routed = SESSION_PATH.fullmatch(path)
        if routed is not None:
            headers[SESSION_HEADER] = routed.group(1)
            path = routed.group(2)
        return RawRequest.received(self.method, path, headers)


def read_head(sample: bytes | None) -> Head:
    """The method, path and header lines in the first bytes of a request (nothing of what cannot be read)."""
    if not sample:
        return Head()
    line, newline, rest = sample.partition(b"\r\n")
    parts = line.split(b" ")
    method = parts[0][:32].decode("latin-1")
    target = parts[1].decode("latin-1") if len(parts) > 1 else ""
    path = unquote(target.partition("?")[0]) if target.startswith("/") else target
    if len(path) > SHOWN_PATH:
        path = path[:SHOWN_PATH] + "..."
    headers: list[tuple[str, str]] = []
    head = rest.partition(b"\r\n\r\n")[0] if b"\r\n\r\n" in rest else rest.rpartition(b"\r\n")[0]
    for field in head.split(b"\r\n") if head else ():
        name, colon, value = field.partition(b":")
        if colon and name and len(headers) < MAX_HEADERS:
            headers.append((name.decode("latin-1").strip(), value.decode("latin-1").strip()))
    return Head(method, path, tuple(headers), len(line), bool(newline))


def _said(exc: BaseException) -> str:
    """aiohttp's message on one line, without its caret line."""
    text = getattr(exc, "message", "") or str(exc)
    words = [line.strip() for line in str(text).splitlines() if line.strip() and set(line.strip()) != {"^"}]
    return " ".join(words)


def parse_refusal(exc: BaseException, head: Head, encodings: tuple[str, ...]) -> ApiError:
    """The error for a request aiohttp's parser refused with `exc`; `encodings` are the Content-Encodings it
    decodes."""
    said = _said(exc)
    if isinstance(exc, http_exceptions.ContentEncodingError):  # an encoding aiohttp cannot decode (zstd, ...)
        sent = dict((name.lower(), value) for name, value in head.headers).get("content-encoding", "?")
        accepted = ", ".join(encodings)
        return ApiError(
            415,
            "unsupported_content_encoding",
            f"Content-Encoding: {sent} is not supported: mockgw decodes request bodies in {accepted}. "
            "Send the body uncompressed or in one of those.",
            "invalid_request_error",
            "Content-Encoding",
            headers={"Accept-Encoding": accepted},
        )
    if isinstance(exc, http_exceptions.LineTooLong):
        if not head.line_complete or head.line_length > MAX_LINE:
            return ApiError(
                414,
                "request_line_too_long",
                f"The request line is longer than {MAX_LINE} bytes. Send a shorter path and query string.",
                "invalid_request_error",
            )
        return ApiError(
            431,
            "header_too_large",
            f"A request header line is longer than {MAX_LINE} bytes. Send shorter headers.",
            "invalid_request_error",
        )
    if said == "Too many headers received" or len(head.headers) >= MAX_HEADERS:
        return ApiError(
            431,
            "too_many_headers",
            f"The request has more than {MAX_HEADERS} headers. Send fewer headers.",
            "invalid_request_error",
        )
    if "HTTPS traffic" in said:
        return ApiError(
            400,
            "malformed_request",
            "TLS (https://) was sent to mockgw's plain HTTP port. Use an http:// URL.",
            "invalid_request_error",
        )
    return ApiError(
        400,
        "malformed_request",
        f"The request is not valid HTTP/1.1: {said or type(exc).__name__}. Send a well-formed HTTP request.",
        "invalid_request_error",
    )


def http_refusal(status: int, said: str, target: str, allow: str | None = None) -> ApiError:
    """The error for an answer aiohttp's application made itself (`said` in plain text) outside mockgw's handlers:
    a request target no route takes (`*`, `host:port`), an `Expect` it does not know, a control body too large."""
    if status == 404:
        return not_found(
            f"Unknown request target '{target[:SHOWN_PATH]}'. mockgw serves the API under /v1/ and its control "
            "endpoint under /__mockgw/."
        )
    if status == 417:
        return ApiError(
            417,
            "expectation_failed",
            f"{said}: mockgw only understands `Expect: 100-continue`. Send the request without this Expect header.",
            "invalid_request_error",
            "Expect",
        )
    if status == 413:
        return gateway_error(413, message=f"{said} Send a smaller request body.")
    return gateway_error(status, message=said or None, headers={"Allow": allow} if allow else None)


def too_many_connections(cap: int) -> ApiError:
    """The refusal of a request on a connection over the cap."""
    return ApiError(
        503,
        "too_many_connections",
        f"mockgw serves at most {cap} connections at once and this one is over the cap; it is closed. Close idle "
        "connections, or raise the cap with --max-connections or `max_connections:` in the config file.",
        "server_error",
        headers={"Retry-After": "1"},
    )
