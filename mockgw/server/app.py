"""The aiohttp edge: routes, reading bodies, writing JSON and SSE, waits, and the journal hook.

The only module (with control.py and server.py) that knows about sockets and awaits.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

from aiohttp import web

from mockgw.core.codec import StreamCodec
from mockgw.core.errors import ApiError, gateway_error, internal_error, invalid_request, not_found
from mockgw.core.frozen import frozen
from mockgw.core.names import CONTROL_PREFIX, SESSION_HEADER
from mockgw.core.reply import Reply
from mockgw.dialects import Dialect
from mockgw.dialects.chat import CHAT
from mockgw.dialects.messages import MESSAGES
from mockgw.dialects.responses import RESPONSES
from mockgw.gateway import pipeline
from mockgw.gateway.auth import redact
from mockgw.gateway.bodies import journal_body
from mockgw.gateway.outcome import Delivery, Outcome, RawRequest, error_outcome
from mockgw.gateway.problems import request_problem
from mockgw.gateway.sent_answer import answer_json
from mockgw.gateway.state import GatewayState
from mockgw.journal.calls import Call, reply_summary, request_line
from mockgw.record.export import SCRIPTED, scripted
from mockgw.server import clock, control, guard, inject, offload, ui, watchdog
from mockgw.server.keys import CALL_LISTENERS, FORWARD, SESSION_PREFIX, STATE

LOG = logging.getLogger("mockgw")
REQUEST_LOG = logging.getLogger("mockgw.requests")

Handler = Callable[[GatewayState, RawRequest], Outcome]

# The API's routes: path -> {method: handler}. Anything else is 404 (or 405 on a known path).
API_ROUTES: dict[str, dict[str, Handler]] = {
    "/v1/chat/completions": {"POST": pipeline.handle_completion},
    "/v1/models": {"GET": pipeline.handle_models},
    "/v1/messages": {"POST": pipeline.handle_messages},
    "/v1/responses": {"POST": partial(pipeline.handle_completion, dialect=RESPONSES)},
    "/v1/messages/count_tokens": {"POST": pipeline.handle_message_tokens},
    "/v1/count_tokens": {"POST": pipeline.handle_count_tokens},
    "/v1/compress": {"POST": pipeline.handle_compress},
}


@frozen
class ClientLeft:
    """The client closed the connection before sending the whole body: these bytes arrived."""

    received: bytes


def left_outcome(received: int, expected: int | None) -> Outcome:
    """A call nobody answered, `received` of `expected` body bytes in: the journal shows `status: null`,
    `ending: client_disconnected` (with CLIENT_LEFT as what was sent)."""
    of = f" of {expected}" if expected is not None else ""
    message = f"The client closed the connection after {received}{of} body bytes; nothing was answered."
    return Outcome(status=499, summary={"error": {"code": "client_disconnected", "message": message}})


def client_left() -> inject.Sent:
    """What a client that left mid-upload received: nothing."""
    return inject.Sent(ending="client_disconnected", client_disconnected=True)


def too_large(limit: int) -> ApiError:
    """The refusal of a body over `max_body_bytes`."""
    return gateway_error(413, message=f"Request body exceeds {limit} bytes. Send a smaller request.")


async def _read_body(request: web.Request, limit: int) -> bytes | ApiError | ClientLeft:
    if request.content_length is not None and request.content_length > limit:
        return too_large(limit)
    body = bytearray()
    try:
        if request.content.is_eof():  # the whole body has arrived (small bodies): take it without awaiting
            whole = request.content.read_nowait()
            return too_large(limit) if len(whole) > limit else whole
        async for chunk in request.content.iter_any():
            body.extend(chunk)
            if len(body) > limit:
                return too_large(limit)
    except ConnectionError:  # the client left mid-upload (aiohttp ends the body with ConnectionResetError)
        return ClientLeft(bytes(body))
    except web.RequestPayloadError as exc:  # e.g. a Content-Encoding the bytes do not follow: the client's fault
        if request.transport is None or request.transport.is_closing():  # or the body was cut by the client leaving
            return ClientLeft(bytes(body))
        encoding = request.headers.get("Content-Encoding", "identity")
        return invalid_request(
            f"The request body could not be read (Content-Encoding: {encoding}): "
            f"{getattr(exc.__cause__, 'message', '') or exc}. "
            "Send a JSON object, compressed as Content-Encoding says or not at all.",
            code="invalid_json",
        )
    return bytes(body)


def _route(path: str, method: str) -> Handler | ApiError:
    methods = API_ROUTES.get(path.rstrip("/") or path)
    if methods is None:
        return not_found(f"Unknown path '{path}'. mockgw serves {', '.join(sorted(API_ROUTES))}.")
    handler = methods.get(method)
    if handler is None:
        allowed = ", ".join(sorted(methods))
        return ApiError(
            405,
            "method_not_allowed",
            f"Method {method} is not allowed on '{path}'. Use {allowed}.",
            "invalid_request_error",
            headers={"Allow": allowed},
        )
    return handler


_unknown_control = guard.guarded(control.unknown)


def run_pipeline(state: GatewayState, routed: Handler, raw: RawRequest) -> Outcome:
    """The pipeline's outcome; a bug in mockgw answers 500, is logged, and is kept for the test to raise."""
    try:
        return routed(state, raw)
    except Exception as exc:
        LOG.exception("mockgw failed on %s %s", raw.method, raw.path)
        state.add_problem(raw.session, f"internal error on {raw.method} {raw.path}: {exc!r}")
        return error_outcome(internal_error(), journal_body(raw))


def _taken(request: web.Request) -> Any:
    """What the connection already read of this request (server/fast.py's Taken), or None."""
    protocol = request.protocol
    taken = getattr(protocol, "taken", None)
    # aiohttp internal: `_message` is the parsed head the request was made of
    if taken is None or taken.message is not request._message:
        return None
    protocol.taken = None  # type: ignore[attr-defined]
    return taken


async def api(request: web.Request) -> web.StreamResponse:
    """Every API request: route, run the pipeline, deliver, and record, whatever happens."""
    if request.path.startswith(CONTROL_PREFIX + "/"):  # the control endpoint's own mistakes are not API calls
        return await _unknown_control(request)
    state = request.app[STATE]
    taken = _taken(request)
    started = time.perf_counter() if taken is None else taken.started
    # the watchdog's marker, set where this handler resumes (server/watchdog.py): the request, or what the connection
    # took of it (the marker it set while the pipeline ran there)
    marker: web.Request | RawRequest = request if taken is None else taken.raw
    watch = request.app[watchdog.WATCHDOG]
    watch.current = marker
    method, path = request.method, request.path
    headers = request.headers  # kept as aiohttp made them (any-case lookups): no copy per request
    raw: RawRequest | None = None  # made once the body is read (or without it, when it never is)
    outcome: Outcome | None = None
    try:
        routed = _route(path, method)
        if isinstance(routed, ApiError):
            outcome = error_outcome(routed)
            return await deliver(request, outcome)
        if taken is not None:  # read by the connection (server/fast.py), its outcome maybe made too
            raw, outcome = taken.raw, taken.outcome
            if outcome is not None:
                return await deliver(request, outcome)
        else:
            body = await _read_body(request, state.settings.max_body_bytes)
            watch.current = marker
            if isinstance(body, ApiError):
                outcome = error_outcome(body)
                return await deliver(request, outcome)
            if isinstance(body, ClientLeft):
                raw = RawRequest.received(method, path, headers, body.received)
                outcome = left_outcome(len(body.received), request.content_length)
                request[inject.SENT_KEY] = client_left()
                return web.Response(status=outcome.status)  # written to nobody: aiohttp drops it quietly
            raw = RawRequest.received(method, path, headers, body)
        forward = request.app.get(FORWARD)
        if forward is not None:
            forwarded = await forward(request, raw)
            if forwarded is not None:
                response, outcome = forwarded
                return response
        offloader = request.app[offload.OFFLOADER]
        if offloader.inline(raw.body):
            outcome = run_pipeline(state, routed, raw)
        else:
            outcome = await offloader.run(True, partial(run_pipeline, state, routed, raw))
            watch.current = marker
        return inject.plain_response(request, outcome) or await deliver(request, outcome)
    finally:
        if raw is None:
            raw = RawRequest.received(method, path, headers)
        watch.finished(marker, record(request.app, raw, outcome, started, request.get(inject.SENT_KEY)))


async def deliver(request: web.Request, outcome: Outcome) -> web.StreamResponse:
    """Write the outcome: JSON in one piece, or SSE events one write each, with its waits, hold and fault."""
    return await inject.deliver(request, outcome)


def record(
    app: web.Application, raw: RawRequest, outcome: Outcome | None, started: float, sent: inject.Sent | None = None
) -> int:
    """Append the call to the journal and wake whoever waits for calls; its number (its id is `call-<number>`).

    Only the facts are taken here (on every request); the Call is made when the journal is first read.
    """
    state = app[STATE]
    duration_s = time.perf_counter() - started  # rounded when the Call is made, off the hot path
    outcome = outcome or error_outcome(internal_error())
    conv = outcome.conversation
    size = len(raw.body) + len(outcome.body) + sum(map(len, outcome.events or ()))
    size += sum(map(len, raw.headers.keys())) + sum(map(len, raw.headers.values()))  # the byte cap counts headers
    number = state.journal.total + 1
    # the facts, as the arguments of the call that makes the Call when the journal is first read (one partial: a
    # frozen object of 18 fields costs several times more to make, on every request)
    facts = partial(
        journal_call,
        number,
        time.time(),
        raw,
        outcome.status,
        outcome.fixture,
        conv.model if conv else None,
        conv.tags if conv else (),
        conv.endpoint if conv else None,
        outcome.reply,
        outcome.summary,
        outcome.near_misses,
        outcome.delivery,
        duration_s,
        state.settings.seed,
        sent,
        outcome.body,
        outcome.events,
        outcome.codec if outcome.events is not None else None,
    )
    state.journal.append(facts, size, raw.session)
    if state.settings.log_requests:  # off by default: the Call is only made when somebody reads it
        REQUEST_LOG.info(request_line(facts()))
    if outcome.error is not None:  # only refusals can be problems: nothing more to decide on a normal answer
        problem = request_problem(raw, outcome)
        if problem is not None:
            state.add_problem(raw.session, problem, server_wide=False)
    for event in app[CALL_LISTENERS]:
        event.set()
    return number


def journal_call(
    number: int,
    when: float,
    raw: RawRequest,
    status: int,
    fixture: str | None,
    model: str | None,
    tags: tuple[str, ...],
    endpoint: str | None,
    reply: Reply | None,
    summary: Mapping[str, Any],
    near_misses: tuple[Mapping[str, Any], ...],
    delivery: Delivery,
    duration_s: float,
    seed: int,
    sent: inject.Sent | None,
    answer: bytes = b"",
    events: tuple[bytes, ...] | None = None,
    codec: StreamCodec | None = None,
) -> Call:
    """The journal's Call from what `record` kept of a call until somebody reads it.

    Not the parsed body or the conversation, which can be derived again: a kept call holds a few objects instead of
    dozens (the journal keeps 1,000 by default). The body is parsed again from `raw`, its Conversation again by the
    dialect that parsed it (`endpoint`: the same parser, not a second one), and the reply summarised here. `model`
    is the model the request named (None when it was never parsed); `when` is time.time() at the record; `summary`
    is the error's when there is no reply. The answer's bytes (`answer`, `events`) are kept by reference, for the
    inspector (their tuple exists already, and the journal's byte budget counts them)."""
    parsed = journal_body(raw)
    if model is None and isinstance(parsed, dict) and isinstance(parsed.get("model"), str):
        model = parsed["model"]
    dialect = DIALECTS.get(endpoint) if endpoint else None
    conversation = dialect.parse(parsed, raw.headers) if dialect and isinstance(parsed, dict) else None
    fault = delivery.fault
    return Call(
        id=f"call-{number}",
        time=datetime.fromtimestamp(when, UTC).isoformat(timespec="milliseconds"),
        method=raw.method,
        path=raw.path,
        status=status if sent is None or sent.answered else None,
        ending=sent.ending if sent is not None else "eof",
        session=raw.session,
        model=model,
        fixture=fixture,
        fault=fault.kind if fault else None,
        tags=tags,
        duration_ms=round(duration_s * 1000, 3),
        seed=seed,
        headers={name.lower(): redact(name, value) for name, value in raw.headers.items()},
        body=parsed,
        **Call.conversation_fields(conversation),
        response=(  # the whole reply under `scripted`, for export
            {**reply_summary(reply), **summary, SCRIPTED: scripted(reply)} if reply is not None else summary
        ),
        near_misses=near_misses,
        delivered={
            **inject.delivered_json(delivery, sent),
            **answer_json(answer, events, delivery, codec),
        },
    )


DIALECTS: dict[str, Dialect] = {dialect.endpoint: dialect for dialect in (CHAT, MESSAGES, RESPONSES)}


async def session_api(request: web.Request) -> web.StreamResponse:
    """`/s/<session>/v1/...`: the API as if the `X-Mockgw-Session` header named <session>.

    Lets unmodified clients be isolated on a shared server by their base URL alone.
    """
    tail = "/" + request.match_info["tail"]
    rel_url = request.rel_url.with_path(tail).with_query(request.rel_url.query)
    headers = request.headers.copy()
    headers[SESSION_HEADER] = request.match_info["session"]
    return await api(request.clone(rel_url=rel_url, headers=headers))


def make_app(state: GatewayState) -> web.Application:
    """The aiohttp application: the control routes under /__mockgw/, everything else through `api`."""
    allowed = frozenset({state.settings.host.lower()})  # beside loopback names and IP literals (server/guard.py)
    app = web.Application(client_max_size=state.settings.max_body_bytes + 1)
    app[guard.ALLOWED_HOSTS] = allowed  # each control route checks Host and Origin (guard.guarded)
    if state.settings.control_token is not None:  # and the control token (gateway/control_access.py)
        app[guard.CONTROL_TOKEN] = state.settings.control_token
    app[STATE] = state
    app[CALL_LISTENERS] = []
    inject.setup(app)
    offload.setup(app)
    watchdog.setup(app)
    control.add_routes(app)
    clock.add_routes(app)
    control.add_session_routes(app)
    ui.add_routes(app)  # after the session copies: the inspector is served once, at /__mockgw/ui/
    # `[\s\S]*`, not `.*`: a path with an encoded newline (`%0A`) is an unknown path in the envelope, not aiohttp's
    # plain-text 404
    app.router.add_route("*", SESSION_PREFIX + r"/{tail:[\s\S]*}", session_api)
    for path in API_ROUTES:  # the same handler as the catch-all below, found by aiohttp's exact-path index
        app.router.add_route("*", path, api)
    app.router.add_route("*", r"/{tail:[\s\S]*}", api)
    return app
