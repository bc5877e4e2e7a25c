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
from collections.abc import Callable
from dataclasses import replace
from typing import Any, cast

from aiohttp import http_exceptions, web, web_protocol
from aiohttp.base_protocol import BaseProtocol
from aiohttp.compression_utils import HAS_BROTLI, HAS_ZSTD  # aiohttp internal: what its parser decodes
from aiohttp.http_parser import RawRequestMessage
from aiohttp.streams import StreamReader
from aiohttp.tcp_helpers import tcp_keepalive

from mockgw.core.errors import ApiError, gateway_error
from mockgw.core.names import CONTROL_PREFIX
from mockgw.gateway.config import Settings
from mockgw.gateway.outcome import RawRequest
from mockgw.server.fast import FastPath, Taken, Written, written
from mockgw.server.fast_stream import FastStream, Timed, timed
from mockgw.server.loop import DUST_S, timer_at
from mockgw.server.plain_head import read_plain
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

NEVER_S = 10.0**9  # a timer moved this far never fires
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
        fast: FastPath | None = None,
        **handler_kwargs: Any,
    ) -> None:
        super().__init__(handler, request_factory=request_factory)
        self.settings = settings
        self.refused = refused
        self.fast = fast if settings.fast_path else None  # plain answers written by the connection (server/fast.py)
        self.answered_here = 0  # requests the fast path answered
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

    async def shutdown(self, timeout: float | None = None) -> None:
        """aiohttp's, once the answers kept for the loop's turn end are written (server/batch.py)."""
        if self.fast is not None:
            self.fast.batch.write_pending()
        await super().shutdown(timeout)

    def journal(self, raw: RawRequest, error: ApiError) -> None:
        """Journal a refused API request (the control endpoint's own requests are not journaled)."""
        LOG.debug("refused %s %s: %s %s", raw.method, raw.path, error.status, error.code)
        if not raw.path.startswith(CONTROL_PREFIX + "/"):
            self.refused(raw, error)


class GatewayHandler(web_protocol.RequestHandler):
    """One connection: aiohttp's RequestHandler with a header deadline and refusals in the envelope."""

    __slots__ = ("_counted", "_done", "_fast", "_gateway", "_head", "_streaming", "_waiting", "taken")

    def __init__(self, gateway: GatewayServer, refuse: bool, **kwargs: Any) -> None:
        super().__init__(gateway, **kwargs)
        self._gateway = gateway
        self._head: bytes | None = None  # the first bytes of a request head still incomplete, or refused
        self._counted = not refuse
        self._done = 0  # requests answered on this connection
        self._waiting = False  # the body of a request the fast path may answer is coming (start() is not woken)
        self._fast = None if refuse else gateway.fast
        self.taken: Taken | None = None  # a request read here and left to the app (server/app.py takes it)
        # a timed stream answered here whose body the ticker is writing, its request, and whether it closes after
        self._streaming: tuple[FastStream, Taken, bool] | None = None
        if refuse:  # aiohttp internal: the coroutine start() awaits for each request of this connection
            self._request_handler = self._refuse

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._fast is None:  # aiohttp's own, but for the one timer armed (the header deadline, below)
            idle = self._keepalive_timeout
            self._keepalive_timeout = 0  # aiohttp arms its idle timer when this is set
            try:
                super().connection_made(transport)
            finally:
                self._keepalive_timeout = idle
        else:  # aiohttp's own but for start(), made only when a request goes the usual way (`_hand_over`)
            BaseProtocol.connection_made(self, transport)  # aiohttp internal: the transport, TCP_NODELAY
            if self._tcp_keepalive:
                tcp_keepalive(cast(asyncio.Transport, transport))
            assert self._manager is not None
            self._manager.connection_made(self, cast(asyncio.Transport, transport))
        self._deadline(self._loop.time() + self._gateway.settings.header_timeout_s)

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._waiting and self._messages and self._fast is not None:
            # the client left while its body was coming: journaled as the app journals it (server/fast.py)
            message, payload = self._kept()
            self._messages.popleft()
            self._waiting = False
            self._fast.left(message, payload.read_nowait())
        if self._counted:
            self._counted = False
            self._gateway.open -= 1
        super().connection_lost(exc)
        if self._streaming is not None:  # the client left a timed stream answered here: it ends now, journaled
            self._streaming[0].left()

    def data_received(self, data: bytes) -> None:
        # aiohttp internals: `_request_count` counts the heads parsed on this connection, `_messages` holds those
        # (or the parser's refusal, not a RawRequestMessage) until start() takes them, and `_waiter` is pending
        # while start() waits for one. `_done` counts the requests answered (here, or by finish_response).
        if self._request_count != self._done:  # busy with a request (these are body bytes, or a pipelined request)
            if self._streaming is not None:  # pipelined behind a stream answered here: start() waits until it ends
                waiter, self._waiter = self._waiter, None
                web_protocol.RequestHandler.data_received(self, data)
                self._waiter = waiter
                return
            web_protocol.RequestHandler.data_received(self, data)
            if self._waiting:
                self._body_came()
            return
        # every request so far is answered: this begins a head. Parse it without waking start(), so that a plain
        # request can be answered here (the fast path), unless the transport's buffer is full.
        answer_here = self._fast is not None and not self._paused
        # a request that came whole in the plainest form needs no parser: read here (server/plain_head.py)
        if (
            answer_here
            and self._head is None
            and not self._messages
            and self._parser_idle()
            and self._answer_plain(data)
        ):
            return
        waiter = self._waiter
        if answer_here:
            self._waiter = None
        web_protocol.RequestHandler.data_received(self, data)
        if answer_here:
            self._waiter = waiter
        messages = self._messages
        if not messages:  # a head began and is not whole yet: it has header_timeout_s from its first bytes
            if self._head is None:
                self._head = data[:HEAD_SAMPLE]
                self._deadline(self._loop.time() + self._gateway.settings.header_timeout_s)
            return
        message, payload = messages[-1]
        if not isinstance(message, RawRequestMessage):  # refused: keep what it was, for handle_error
            if self._head is None:
                self._head = data[:HEAD_SAMPLE]
        else:
            self._head = None
            if answer_here and len(messages) == 1:
                # a body still coming is waited for here unless start() is about to take the request itself (it is
                # made, and between two requests: not waiting)
                if (
                    not payload.is_eof()
                    and (self._task_handler is None or waiter is not None)
                    and self._fast is not None
                    and self._fast.awaits_body(message, payload)
                ):
                    self._wait_for_body()
                    return
                if self._answer(message, payload):
                    return
        self._hand_over()  # start() takes it from here

    def _parser_idle(self) -> bool:
        """Whether aiohttp's parser waits for a new head (aiohttp internals: no body or upgrade being read, and the
        connection not closing), so that a request it does not see leaves it as it was."""
        return self._payload_parser is None and not self._upgraded and not (self._force_close or self._close)

    def _hand_over(self) -> None:
        """Let start() take the queued requests the usual way: wake it, or make it if this connection has none yet
        (aiohttp makes one per connection; here it is made for the first request the fast path does not answer)."""
        if self._task_handler is None:
            if self.transport is not None and not self._force_close:  # aiohttp internal: the task running start()
                self._task_handler = self._loop.create_task(self.start())
            return
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _process_keepalive(self) -> None:
        """aiohttp's idle and header timer: it closes a connection whose start() waits for a request. Until start()
        is made, the connection waits when no request is being answered here.

        Timed on the loop's clock (server/loop.py): a timer that fired before the close time, as uvloop's do by up
        to half a millisecond, is armed again for the first millisecond at or after it. aiohttp's own re-arms for the
        close time itself, which fires at once again, on every turn of the loop until the clock moves on."""
        self._keepalive_handle = None
        if self._force_close or not self._keepalive:
            return
        loop = self._loop
        close_time = self._next_keepalive_close_time
        if loop.time() + DUST_S < close_time:  # fired early, or moved later meanwhile (a request was answered)
            self._keepalive_handle = loop.call_at(timer_at(loop, close_time), self._process_keepalive)
        elif self._task_handler is not None:  # aiohttp's: start() waiting for a request head
            waiter = self._waiter
            if waiter is not None and not waiter.done():
                self.force_close()
        elif self._streaming is None and not self._waiting:
            self.force_close()

    def _wait_for_body(self) -> None:
        """Keep a head whose small body is still coming, to answer it here once it has come (`_body_came`).

        start() is not woken meanwhile, so nothing times the wait: as in the usual way, a body sent slowly is not
        timed (the idle and header timers only close a connection while start() waits for a head)."""
        self._waiting = True
        self._next_keepalive_close_time = self._loop.time() + NEVER_S

    def _kept(self) -> tuple[RawRequestMessage, StreamReader]:
        """The request kept while its body comes: the first in the queue, a head the parser took (not a refusal)."""
        return cast(tuple[RawRequestMessage, StreamReader], self._messages[0])

    def _body_came(self) -> None:
        """More bytes of a kept request came: answer it once its body is whole, or leave it to start()."""
        messages = self._messages
        message, payload = self._kept()
        whole = payload.is_eof()
        if not whole and payload.exception() is None and len(messages) == 1:
            return  # still coming
        self._waiting = False  # first: reading the body calls data_received again
        if whole and len(messages) == 1 and self._answer(message, payload):
            return
        if self.transport is not None:  # start() takes it from here, and re-arms the idle timer after it
            self._deadline(self._loop.time() + self._keepalive_timeout)
        self._hand_over()

    def _answer(self, message: RawRequestMessage, payload: StreamReader) -> bool:
        """Answer a plain request here (server/fast.py), as start() would have; False leaves it to start().

        A timed stream (server/fast_stream.py) gets its headers now and its body from the ticker; the connection is
        busy with it until it ends (`_stream_ended`)."""
        assert self._fast is not None
        taken = self._fast.take(message, payload)
        if taken is None:
            return False
        answer = self._sendable(taken, message.should_close)
        if answer is None:
            self.taken = taken  # the app goes on with it: the body is read, the outcome maybe made
            return False
        # aiohttp internals: what start() does around each request it takes from the queue
        self._messages.popleft()
        if self._parser is not None:
            self._parser.message_consumed()
        self._send(taken, answer, message.should_close)
        return True

    def _answer_plain(self, data: bytes) -> bool:
        """Take a plain request that came whole in `data`, read without aiohttp's parser (server/plain_head.py):
        answered here, or, when its answer goes the usual way, parsed by aiohttp and handed to start() with its
        outcome already made. False when `data` is not such a request: aiohttp parses it as usual."""
        plain = read_plain(data)
        if plain is None:
            return False
        assert self._fast is not None
        taken = self._fast.take_plain(plain)
        if taken is None:
            return False
        answer = self._sendable(taken, plain.should_close)
        if answer is not None:
            self._request_count += 1  # aiohttp internal: the heads parsed on this connection
            self._send(taken, answer, plain.should_close)
            return True
        # the app goes on with it (a fault, a hold, a heavy body): aiohttp parses the same bytes into its request
        waiter, self._waiter = self._waiter, None
        web_protocol.RequestHandler.data_received(self, data)
        self._waiter = waiter
        message = self._messages[-1][0] if self._messages else None
        if isinstance(message, RawRequestMessage):
            self.taken = replace(taken, message=message)
        self._hand_over()
        return True

    def _sendable(self, taken: Taken, close: bool) -> Written | Timed | None:
        """A taken request's answer when the fast path may send it: whole (server/fast.py) or as a timed stream
        (server/fast_stream.py); None when it goes the usual way."""
        outcome = taken.outcome
        if outcome is None or self.transport is None:
            return None
        return written(outcome, close=close) or timed(outcome, close)

    def _send(self, taken: Taken, answer: Written | Timed, close: bool) -> None:
        """Write a plain answer, or a timed stream's head now and its body from the ticker."""
        fast, transport = self._fast, self.transport
        assert fast is not None and transport is not None and self._manager is not None
        self._manager.requests_count += 1  # aiohttp internal: as start() counts each request
        self._gateway.answered_here += 1
        if isinstance(answer, Written):
            self._done += 1
            closing = self._closing(close)
            fast.batch.send(transport, answer.data, closing)
            fast.finish(taken, answer.sent)
            if closing:  # closed once written (server/batch.py): aiohttp internal, no more bytes are read meanwhile
                self._close = True
            else:
                self._deadline(self._loop.time() + self._keepalive_timeout)  # the idle timeout starts again
            return
        # busy until the stream ends: neither the idle timer nor start() may take the connection meanwhile
        self._next_keepalive_close_time = self._loop.time() + NEVER_S
        streaming = FastStream(transport, answer, self._stream_ended)
        self._streaming = (streaming, taken, close)
        streaming.begin(answer.head, fast.ticker, self._loop.time(), fast.batch.send)

    def _stream_ended(self, stream: FastStream, why: str) -> None:
        """A timed stream answered here ended (every event sent, or its client left): journal it, then go on with
        the connection as start() would after an answer."""
        streaming, self._streaming = self._streaming, None
        assert streaming is not None and streaming[0] is stream and self._fast is not None
        _, taken, close = streaming
        self._done += 1
        self._fast.finish(taken, stream.sent)
        if why != "elapsed":  # as the usual way: the connection of a client that left is closed
            if self.transport is not None:
                self.transport.close()
            return
        if self._next_request(close) and self._messages:  # requests that came meanwhile, in order
            message, payload = self._messages[0]
            if len(self._messages) == 1 and isinstance(message, RawRequestMessage) and self._answer(message, payload):
                return
            self._hand_over()  # start() takes it from here

    def _closing(self, close: bool) -> bool:
        """Whether the connection closes after the answer just given: asked to (`close`), or the server is
        stopping (aiohttp internals)."""
        return close or self._close or self._force_close

    def _next_request(self, close: bool) -> bool:
        """After an answer written here: close the connection when asked to (`close`, or the server is stopping),
        else restart its idle timer; whether it stays open."""
        transport = self.transport
        if transport is None:
            return False
        if self._closing(close):
            transport.close()
            return False
        self._deadline(self._loop.time() + self._keepalive_timeout)  # the idle timeout starts again
        return True

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
        self._keepalive_handle = self._loop.call_at(timer_at(self._loop, when), self._process_keepalive)

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

    async def finish_response(
        self, request: web.BaseRequest, resp: web.StreamResponse, start_time: float | None
    ) -> tuple[web.StreamResponse, bool]:
        # aiohttp answers some requests itself, in plain text, outside mockgw's handlers and middlewares: a target
        # no route takes (`OPTIONS *`), an unknown `Expect`, a control body over client_max_size. In the envelope.
        if resp.status >= 400 and isinstance(resp, web.HTTPException):
            error = http_refusal(resp.status, resp.text or "", request.raw_path, resp.headers.get("Allow"))
            target = request.path or request.raw_path  # `CONNECT host:port` has no path
            self._gateway.journal(Head(request.method, target, tuple(request.headers.items())).request(), error)
            resp = _answer(error)
        try:
            return await web_protocol.RequestHandler.finish_response(self, request, resp, start_time)
        finally:  # written: the next bytes begin a new head (data_received)
            self._done += 1
            # aiohttp internal: start() arms its idle timer after this only if none is armed; the header deadline's,
            # armed at connect for later, would stand in for it (an idle close up to header_timeout_s late)
            handle = self._keepalive_handle
            if handle is not None:
                handle.cancel()
                self._keepalive_handle = None

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
            fast=FastPath.of(self._app),
            access_log=None,
        )
