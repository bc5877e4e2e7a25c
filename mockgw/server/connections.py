"""Bounded connections, and aiohttp's own refusals in the envelope.

aiohttp's HTTP server (`web.Server` making one `RequestHandler` per connection) gets three things here:
- a header timeout: a request head must arrive whole within `header_timeout_s` of its first byte (a new connection
  must start its first request within `header_timeout_s` of being accepted), else the connection is closed
  (slowloris); an idle keep-alive connection is closed after `idle_timeout_s` (aiohttp's `keepalive_timeout`);
- a cap on the connections served at once: a connection over `max_connections` gets 503 `too_many_connections` for
  its request, journaled, and is closed;
- requests aiohttp's parser refuses (malformed request line, oversized header, unsupported Content-Encoding) get
  the documented envelope instead of aiohttp's plain text, and are journaled with what their first bytes say.

Per request this costs a few attribute reads: the header deadline reuses aiohttp's own keep-alive timer (one per
connection, re-armed only when a head arrives in pieces), and nothing is copied unless the head is incomplete or
refused. It relies on aiohttp internals, each marked "aiohttp internal" below (checked against aiohttp 3.14).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, cast

from aiohttp import http_exceptions, web, web_protocol
from aiohttp.compression_utils import HAS_BROTLI, HAS_ZSTD  # aiohttp internal: what its parser decodes
from aiohttp.http_parser import RawRequestMessage

from mockgw.core.errors import ApiError, gateway_error
from mockgw.core.names import CONTROL_PREFIX
from mockgw.gateway.config import Settings
from mockgw.gateway.outcome import RawRequest
from mockgw.server.refusals import (
    HEAD_SAMPLE,
    Head,
    http_refusal,
    parse_refusal,
    read_head,
    too_many_connections,
)

LOG = logging.getLogger("mockgw")

ENCODINGS = ("gzip", "deflate", *(("br",) if HAS_BROTLI else ()), *(("zstd",) if HAS_ZSTD else ()))

Refused = Callable[[RawRequest, ApiError], None]  # journals a request refused before mockgw's handler


class GatewayServer(web.Server):
    """aiohttp's server with mockgw's connection handler, counting the connections it serves."""

    def __init__(
        self,
        handler: Any,
        *,
        request_factory: Any,
        settings: Settings,
        refused: Refused,
        **handler_kwargs: Any,
    ) -> None:
        super().__init__(handler, request_factory=request_factory)
        self.settings = settings
        self.refused = refused
        self.open = 0  # connections served now (not those refused over the cap)
        self._handler_loop = asyncio.get_running_loop()
        self._handler_kwargs = {**handler_kwargs, "keepalive_timeout": settings.idle_timeout_s}

    def __call__(self) -> GatewayHandler:
        """The protocol of one accepted connection (asyncio's protocol factory)."""
        # Counted here, not at connection_made: a burst of accepts makes every protocol before any is connected.
        refuse = self.open >= self.settings.max_connections
        if not refuse:
            self.open += 1
        return GatewayHandler(self, refuse, loop=self._handler_loop, **self._handler_kwargs)

    def journal(self, raw: RawRequest, error: ApiError) -> None:
        """Journal a refused API request (the control endpoint's own requests are not journaled)."""
        LOG.debug("refused %s %s: %s %s", raw.method, raw.path, error.status, error.code)
        if not raw.path.startswith(CONTROL_PREFIX + "/"):
            self.refused(raw, error)


class GatewayHandler(web_protocol.RequestHandler):
    """One connection: aiohttp's RequestHandler with a header deadline and refusals in the envelope."""

    __slots__ = ("_counted", "_gateway", "_head")

    def __init__(self, gateway: GatewayServer, refuse: bool, **kwargs: Any) -> None:
        super().__init__(gateway, **kwargs)
        self._gateway = gateway
        self._head: bytes | None = None  # the first bytes of a request head still incomplete, or refused
        self._counted = not refuse
        if refuse:  # aiohttp internal: the coroutine start() awaits for each request of this connection
            self._request_handler = self._refuse

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._deadline(self._loop.time() + self._gateway.settings.header_timeout_s)

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._counted:
            self._counted = False
            self._gateway.open -= 1
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # aiohttp internals: `_waiter` is pending exactly while start() waits for the next request head (and before
        # start() first runs, no request has been counted yet); `_messages` holds the parsed heads, or the
        # parser's refusal (not a RawRequestMessage), until start() takes them.
        waiter = self._waiter
        head = self._request_count == 0 or (waiter is not None and not waiter.done())
        web_protocol.RequestHandler.data_received(self, data)
        if not head:  # busy with a request (these are body bytes, or a pipelined request)
            return
        messages = self._messages
        if not messages:  # a head began and is not whole yet: it has header_timeout_s from its first bytes
            if self._head is None:
                self._head = data[:HEAD_SAMPLE]
                self._deadline(self._loop.time() + self._gateway.settings.header_timeout_s)
        elif type(messages[-1][0]) is not RawRequestMessage:  # refused: keep what it was, for handle_error
            if self._head is None:
                self._head = data[:HEAD_SAMPLE]
        else:
            self._head = None

    def _deadline(self, when: float) -> None:
        """Close the connection at `when` if it is still waiting for a request head then.

        aiohttp internal: its keep-alive timer does just that at `_next_keepalive_close_time` (an early firing
        re-arms itself for the later time), so the deadline moves it instead of adding a timer of its own."""
        self._next_keepalive_close_time = when
        # made by call_at: a TimerHandle (uvloop's has the same when(), without subclassing asyncio's)
        handle = cast(asyncio.TimerHandle | None, self._keepalive_handle)
        if handle is not None:
            if handle.when() <= when:
                return
            handle.cancel()
        self._keepalive_handle = self._loop.call_at(when, self._process_keepalive)

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """aiohttp's answer to a request it refused (`exc` from its parser) or whose handler raised: the envelope."""
        if isinstance(exc, http_exceptions.HttpProcessingError):  # refused by the parser, before mockgw's handler
            head = read_head(self._head)
            error = parse_refusal(exc, head, ENCODINGS)
            self._gateway.journal(head.request(), error)
        else:  # a bug: mockgw's handlers catch their own errors
            self.log_exception("Error handling request from %s", request.remote, exc_info=exc)
            error = gateway_error(status)
        if request.writer.output_size > 0:  # as aiohttp: an answer has begun, the connection is broken
            raise ConnectionError("Response is sent already, cannot send another response with the error message")
        return _answer(error)

    def finish_response(
        self, request: web.BaseRequest, resp: web.StreamResponse, start_time: float | None
    ) -> Coroutine[Any, Any, tuple[web.StreamResponse, bool]]:
        # aiohttp answers some requests itself, in plain text, outside mockgw's handlers and middlewares: a target
        # no route takes (`OPTIONS *`), an unknown `Expect`, a control body over client_max_size. In the envelope.
        # Not `async`, and the base class named, not super(): the hot path pays no coroutine and no super object.
        if resp.status >= 400 and isinstance(resp, web.HTTPException):
            error = http_refusal(resp.status, resp.text or "", request.raw_path, resp.headers.get("Allow"))
            target = request.path or request.raw_path  # `CONNECT host:port` has no path
            self._gateway.journal(Head(request.method, target, tuple(request.headers.items())).request(), error)
            resp = _answer(error)
        return web_protocol.RequestHandler.finish_response(self, request, resp, start_time)

    async def _refuse(self, request: web.BaseRequest) -> web.StreamResponse:
        """The one answer of a connection over the cap."""
        error = too_many_connections(self._gateway.settings.max_connections)
        self._gateway.journal(Head(request.method, request.path, tuple(request.headers.items())).request(), error)
        return _answer(error)


def _answer(error: ApiError) -> web.Response:
    """The error in the envelope; the connection is closed after it."""
    response = web.Response(
        status=error.status, body=error.body(), content_type="application/json", headers=dict(error.headers)
    )
    response.force_close()
    return response


class GatewayRunner(web.AppRunner):
    """aiohttp's AppRunner serving through a GatewayServer."""

    def __init__(self, app: web.Application, settings: Settings, refused: Refused) -> None:
        super().__init__(app, access_log=None, handle_signals=False)
        self._settings = settings
        self._refused = refused

    async def _make_server(self) -> web.Server:
        # aiohttp internal: BaseRunner's hook for the server its sites listen with. aiohttp's own does the app's
        # startup and gives the app's handler and request factory, which the GatewayServer takes over.
        made = await super()._make_server()
        return GatewayServer(
            made.request_handler,
            request_factory=made.request_factory,
            settings=self._settings,
            refused=self._refused,
            access_log=None,
        )
