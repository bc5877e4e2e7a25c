"""The fast path: a plain answer written by the connection itself, as soon as its request has arrived whole.

Most requests of a test suite or a load test are answered in one piece at once: a JSON body, or a stream without
waits or faults, on an HTTP/1.1 connection (kept alive, or closed after it when the request asks for `Connection:
close`). For those, aiohttp's per-request machinery (a task, a Request, the router, a Response and its writer)
costs about as much as mockgw's whole pipeline. So the connection (server/connections.py) hands such a request here
from `data_received`: the pipeline runs, the answer's bytes go to the transport, and the call is journaled, as
server/app.py does. The bytes are aiohttp's own: the same headers in the same order, through aiohttp's header
serializer (tests/server/test_fast_path.py compares both ways byte for byte). A faultless timed stream is answered
here too, its body paced by the ticker (server/fast_stream.py). A request that came whole in one read, in the plainest
form, is not even parsed by aiohttp (server/plain_head.py reads it).

Anything else goes the usual way: a hold, a delay, a fault, `Expect`, HTTP/1.0, a path that is not exactly an API
route (a session path `/s/<name>/…`, a trailing slash, a query), or a server that records. A request whose body was
read, or whose outcome was made, goes on with it (`Taken`), so the pipeline never runs twice for one request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiohttp import hdrs, web
from aiohttp.helpers import rfc822_formatted_time
from aiohttp.http import SERVER_SOFTWARE, HttpVersion11
from aiohttp.http_parser import RawRequestMessage
from aiohttp.http_writer import _serialize_headers  # aiohttp internal: the serializer its responses use
from aiohttp.streams import StreamReader
from aiohttp.web_response import REASON_PHRASES
from multidict import CIMultiDictProxy

from mockgw.core.frozen import frozen
from mockgw.gateway.outcome import Outcome, RawRequest, error_outcome
from mockgw.server import app as web_app
from mockgw.server.batch import WriteBatch
from mockgw.server.inject import TICKER, Sent
from mockgw.server.keys import FORWARD, STATE
from mockgw.server.offload import OFFLOADER
from mockgw.server.plain_head import PlainRequest
from mockgw.server.watchdog import WATCHDOG

# Headers aiohttp sets on an answer itself: an outcome naming one goes the usual way, which decides what wins.
OWN_HEADERS = frozenset(
    name.lower()
    for name in (hdrs.CONTENT_TYPE, hdrs.CONTENT_LENGTH, hdrs.TRANSFER_ENCODING, hdrs.CACHE_CONTROL, hdrs.DATE)
) | frozenset(name.lower() for name in (hdrs.SERVER, hdrs.CONNECTION, hdrs.CONTENT_ENCODING))
WAITED_BYTES = 32 * 1024  # a body the fast path waits for (aiohttp's reader buffers 64 KiB before pausing)
NO_BODY = frozenset({204, 304})  # answers aiohttp writes without a body or its length
LAST_CHUNK = b"0\r\n\r\n"


@frozen
class Taken:
    """A request the connection read before aiohttp's handler runs: its body, and its outcome when already made."""

    message: RawRequestMessage | None  # None: read whole without aiohttp's parser (server/plain_head.py)
    raw: RawRequest
    outcome: Outcome | None
    started: float  # time.perf_counter() when the request was taken


@frozen
class Written:
    """A plain answer as bytes, and what the journal says the client received."""

    data: bytes
    sent: Sent


class FastPath:
    """One server's fast path: what it needs of the app, looked up once."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.state = app[STATE]
        self.watch = app[WATCHDOG]
        self.offloader = app[OFFLOADER]
        self.limit = self.state.settings.max_body_bytes
        self.ticker = app[TICKER]  # paces the timed streams answered here (server/fast_stream.py)
        self.batch = WriteBatch(asyncio.get_running_loop())  # the answers written here (server/batch.py)
        self.ticker.before_pass = self.batch.write_pending  # a stream's events never overtake its head

    @classmethod
    def of(cls, app: web.Application) -> FastPath | None:
        """The app's fast path; None when it forwards requests upstream (recording), which only the app does."""
        return None if app.get(FORWARD) is not None else cls(app)

    def routed(self, message: RawRequestMessage) -> web_app.Handler | None:
        """The API handler of a request head the fast path may answer (HTTP/1.1, exactly an API route, no `Expect`),
        else None. A request that asks for `Connection: close` is answered, then its connection closed."""
        if message.version != HttpVersion11 or message.upgrade:
            return None
        routed = web_app.API_ROUTES.get(message.path, {}).get(message.method)
        return None if routed is None or hdrs.EXPECT in message.headers else routed

    def awaits_body(self, message: RawRequestMessage, payload: StreamReader) -> bool:
        """Whether the head is one the fast path may answer once the rest of its small body has come.

        Clients write the head and the body apart (httpx, the openai and anthropic SDKs' transport), so they often
        arrive apart. Only a body of known length, small enough to wait in aiohttp's buffer, is waited for."""
        length = message.headers.get(hdrs.CONTENT_LENGTH, "")
        return (
            length.isdigit()
            and int(length) <= WAITED_BYTES
            and payload.exception() is None
            and self.routed(message) is not None
        )

    def take(self, message: RawRequestMessage, payload: StreamReader) -> Taken | None:
        """Read a request that may be answered here, and run the pipeline on it when it is light.

        None leaves the request to aiohttp untouched: not a plain API request, or its body has not all arrived."""
        if not payload.is_eof() or payload.exception() is not None:
            return None
        routed = self.routed(message)
        if routed is None:
            return None
        return self._run(message, routed, message.method, message.path, message.headers, payload.read_nowait())

    def take_plain(self, plain: PlainRequest) -> Taken | None:
        """The same for a request read whole without aiohttp's parser; None when it is not exactly an API route."""
        routed = web_app.API_ROUTES.get(plain.path, {}).get(plain.method)
        if routed is None:
            return None
        return self._run(None, routed, plain.method, plain.path, plain.headers, plain.body)

    def _run(
        self,
        message: RawRequestMessage | None,
        routed: web_app.Handler,
        method: str,
        path: str,
        headers: CIMultiDictProxy[str],
        body: bytes,
    ) -> Taken:
        started = time.perf_counter()
        if len(body) > self.limit:  # as the app: refused before the body is read, so the journal has no body
            raw = RawRequest.received(method, path, headers)
            return Taken(message, raw, error_outcome(web_app.too_large(self.limit)), started)
        raw = RawRequest.received(method, path, headers, body)
        if not self.offloader.inline(body):  # heavy: the app runs it on the worker thread
            return Taken(message, raw, None, started)
        self.watch.current = raw
        return Taken(message, raw, web_app.run_pipeline(self.state, routed, raw), started)

    def left(self, message: RawRequestMessage, received: bytes) -> None:
        """Journal a request whose client left before sending its whole body, as the app does."""
        raw = RawRequest.received(message.method, message.path, message.headers, received)
        length = message.headers.get(hdrs.CONTENT_LENGTH, "")
        outcome = web_app.left_outcome(len(received), int(length) if length.isdigit() else None)
        self.watch.finished(raw, web_app.record(self.app, raw, outcome, time.perf_counter(), web_app.client_left()))

    def finish(self, taken: Taken, sent: Sent) -> None:
        """Journal an answered request, as the app does at the end of every request."""
        assert taken.outcome is not None
        self.watch.finished(taken.raw, web_app.record(self.app, taken.raw, taken.outcome, taken.started, sent))


def plain(outcome: Outcome) -> bool:
    """Whether the fast path may send the answer: no fault, hold or delay, a body, no header aiohttp sets itself."""
    delivery = outcome.delivery
    if delivery.fault is not None or delivery.hold is not None or delivery.delay_ms > 0 or outcome.status in NO_BODY:
        return False
    headers = outcome.headers
    return not headers or not any(name.lower() in OWN_HEADERS for name in headers)


def serialized(status: int, head: dict[str, str]) -> bytes | None:
    """The status line and headers as aiohttp writes them; None for a header aiohttp refuses (a line break)."""
    try:  # aiohttp's own serializer: the same bytes, and the same refusal of a header carrying a line break
        # (typed for aiohttp's CIMultiDict; it reads any mapping's items())
        return _serialize_headers(f"HTTP/1.1 {status} {REASON_PHRASES.get(status, '')}", head)  # type: ignore[arg-type]
    except ValueError:  # the usual way answers it as aiohttp does
        return None


def written(outcome: Outcome, date: Callable[[], str] = rfc822_formatted_time, close: bool = False) -> Written | None:
    """The bytes of an answer that goes out whole at once (a JSON body, or a stream without waits), as aiohttp
    writes them on an HTTP/1.1 connection (`close`: the request asked for `Connection: close`); None for any other
    answer."""
    if not plain(outcome):
        return None
    delivery = outcome.delivery
    headers = outcome.headers
    events = outcome.events
    if events is None:
        body = outcome.body
        head = {
            **headers,
            hdrs.CONTENT_TYPE: outcome.content_type,
            hdrs.CONTENT_LENGTH: str(len(body)),
            hdrs.DATE: date(),
            hdrs.SERVER: SERVER_SOFTWARE,
        }
        sent = Sent(bytes=len(body), completed=True, answered=True)
    else:
        if outcome.ending != "eof" or delivery.ttft_ms or delivery.chunk_ms or any(delivery.gaps):
            return None
        data = b"".join(events)
        body = b"%x\r\n%b\r\n%b" % (len(data), data, LAST_CHUNK) if data else LAST_CHUNK  # chunked, as aiohttp
        head = {
            **headers,
            hdrs.CONTENT_TYPE: outcome.content_type,
            hdrs.CACHE_CONTROL: "no-cache",
            hdrs.TRANSFER_ENCODING: "chunked",
            hdrs.DATE: date(),
            hdrs.SERVER: SERVER_SOFTWARE,
        }
        sent = Sent(events=len(events), bytes=len(data), completed=True, answered=True)
    if close:
        head[hdrs.CONNECTION] = "close"
    line = serialized(outcome.status, head)
    return None if line is None else Written(line + body, sent)
