"""The request pipeline as named steps: parse → authenticate → validate → normalise → select → render.

Pure apart from the counters in GatewayState: no sockets, no awaits. The web layer writes the Outcome and
records it in the journal.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from mockgw import auth, endpoints, fault_rules, faults, matching, ratelimit, replies, rules, scenarios
from mockgw.auth import ApiKey
from mockgw.catalog import Resolved
from mockgw.conversation import Conversation
from mockgw.dialects import Dialect
from mockgw.dialects.chat import CHAT, header_tags
from mockgw.dialects.codec import StreamCodec
from mockgw.dialects.messages import MESSAGES
from mockgw.errors import ApiError, invalid_request, not_found
from mockgw.fixtures import ErrorSpec, Fixture, ReplySpec
from mockgw.reply import Reply, ReplyMeta
from mockgw.state import GatewayState, SessionState

SESSION_HEADER = "x-mockgw-session"
JSON_TYPE = "application/json"
SSE_TYPE = "text/event-stream"


@dataclass(frozen=True)
class RawRequest:
    """A request as received: header names lower-cased, body as bytes."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes = b""
    query: Mapping[str, str] = field(default_factory=dict)

    @property
    def session(self) -> str:
        return self.headers.get(SESSION_HEADER, "")


@dataclass(frozen=True)
class Delivery:
    """How the answer goes out: waits in milliseconds (applied by the web layer)."""

    delay_ms: float = 0.0
    ttft_ms: float = 0.0
    chunk_ms: float = 0.0
    gaps: tuple[float, ...] = ()  # per-event waits (before events 2..n) when the chunk wait is jittered
    fault: faults.Fault | None = None  # applied at the socket by the injector
    fault_source: str | None = None  # "fixture" or "rule '<name>'"
    hold: faults.Hold | None = None


@dataclass(frozen=True)
class Outcome:
    """The answer to send and what the journal should say about it."""

    status: int
    body: bytes = b""
    events: tuple[bytes, ...] | None = None
    codec: StreamCodec = CHAT.codec  # the events' wire format, for the stream faults
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = JSON_TYPE
    delivery: Delivery = Delivery()
    parsed: Any = None  # the request body as the journal shows it
    conversation: Conversation | None = None
    fixture: str | None = None
    error: ApiError | None = None
    near_misses: tuple[Mapping[str, Any], ...] = ()
    summary: Mapping[str, Any] = field(default_factory=dict)


def error_outcome(error: ApiError, parsed: Any = None, **extra: Any) -> Outcome:
    summary = {"error": {"code": error.code, "message": error.message}}
    return Outcome(
        status=error.status,
        body=error.body(),
        headers=error.headers,
        parsed=parsed,
        error=error,
        summary=summary,
        **extra,
    )


# serde_json's default recursion limit, which the real (Rust) gateway inherits; deeper bodies are refused
# before they can exhaust Python's stack anywhere downstream (validation, journal copies, JSON output).
MAX_JSON_DEPTH = 128


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


_DECODER = json.JSONDecoder(parse_constant=_no_constant)


def _too_deep(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > limit:
                return True
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return False


def loads_strict(data: bytes) -> Any:
    """JSON as RFC 8259 has it (NaN and Infinity refused), at most MAX_JSON_DEPTH deep; else ValueError."""
    try:
        # json.loads(data, parse_constant=...) without the new JSONDecoder it builds per call when given options
        value = _DECODER.decode(data.decode(json.detect_encoding(data), "surrogatepass"))
    except RecursionError:
        value = None
        too_deep = True
    else:
        # nesting needs one `[` or `{` per level: with at most MAX_JSON_DEPTH of them in the whole body (strings
        # included, so this over-counts) the walk over every node cannot find anything, and is skipped
        # (also in UTF-16/32 bodies, which json.loads accepts: each `[` or `{` still has its 0x5B/0x7B byte)
        too_deep = data.count(b"[") + data.count(b"{") > MAX_JSON_DEPTH and _too_deep(value, MAX_JSON_DEPTH)
    if too_deep:
        raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep")
    return value


def parse_request(raw: RawRequest) -> dict[str, Any] | ApiError:
    """The body as a JSON object, or 400 invalid_json saying what is wrong with it."""
    try:
        body = loads_strict(raw.body)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        detail = str(exc) if raw.body.strip() else "the body is empty"
        return invalid_request(
            f"The request body is not valid JSON ({detail}). Send a JSON object with Content-Type: application/json.",
            code="invalid_json",
        )
    if not isinstance(body, dict):
        kind = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean"}.get(
            type(body), "null"
        )
        return invalid_request(f"The request body must be a JSON object, got {kind}.", code="invalid_json")
    return body


def journal_body(raw: RawRequest) -> Any:
    """The body as the journal keeps it: parsed JSON when possible, else text."""
    try:
        return loads_strict(raw.body) if raw.body else None
    except ValueError:
        return raw.body.decode("utf-8", "replace")[:4096]


def normalise(
    state: GatewayState, dialect: Dialect, body: dict[str, Any], raw: RawRequest, key: ApiKey
) -> tuple[Conversation, Resolved] | ApiError:
    """The Conversation and the resolved model, or the gateway's model errors."""
    conv = dialect.parse(body, raw.headers)
    resolved = state.settings.catalog.resolve(conv.model)
    if isinstance(resolved, ApiError):
        return resolved
    refused = auth.model_allowed(key, resolved.model.id)
    if refused is not None:
        return refused
    return conv, resolved


def choose_reply(session: SessionState, fixture: Fixture) -> ReplySpec:
    """The fixture's next reply (the last one repeats), counting the use."""
    used = session.uses.get(fixture.name, 0)
    session.uses[fixture.name] = used + 1
    return fixture.replies[min(used, len(fixture.replies) - 1)]


def handle_models(state: GatewayState, raw: RawRequest) -> Outcome:
    """`GET /v1/models`: the catalog (no key needed)."""
    body = json.dumps(state.settings.catalog.list_json(), separators=(",", ":")).encode()
    outcome = Outcome(status=200, body=body, summary={"models": len(state.settings.catalog.models)})
    return with_rule_faults(state, raw, "models", outcome)


@dataclass(frozen=True)
class Admitted:
    """A request that passed every check: ready to be answered."""

    body: dict[str, Any]
    conversation: Conversation
    resolved: Resolved
    key: ApiKey


def handle_completion(state: GatewayState, raw: RawRequest, dialect: Dialect = CHAT) -> Outcome:
    """Every step for a model request; the first step that refuses gives the outcome."""
    admitted = admit(state, raw, dialect)
    if isinstance(admitted, Outcome):
        return admitted
    return answer(state, raw, dialect, admitted)


def accept(
    state: GatewayState,
    raw: RawRequest,
    schema: str,
    precheck: Callable[[Mapping[str, Any]], ApiError | None] | None = None,
) -> tuple[ApiKey, dict[str, Any]] | Outcome:
    """The first steps of every API request: authenticate, parse the JSON body, validate it against `schema`.

    `precheck` runs before the schema, for errors with their own code (count_tokens' invalid_tokenizer)."""
    key = auth.authenticate(raw.headers, state.settings.keys)
    if isinstance(key, ApiError):
        return error_outcome(key, journal_body(raw))
    body = parse_request(raw)
    if isinstance(body, ApiError):
        return error_outcome(body, journal_body(raw))
    invalid = (precheck(body) if precheck else None) or state.validators.check(schema, body)
    if invalid is not None:
        return error_outcome(invalid, body)
    return key, body


def admit(state: GatewayState, raw: RawRequest, dialect: Dialect) -> Admitted | Outcome:
    """Authenticate, parse, validate and normalise, in the gateway's order; an error outcome on refusal."""
    accepted = accept(state, raw, dialect.schema)
    if isinstance(accepted, Outcome):
        return accepted
    key, body = accepted
    normalised = normalise(state, dialect, body, raw, key)
    if isinstance(normalised, ApiError):
        return error_outcome(normalised, body)
    conv, resolved = normalised
    refused = endpoints.refuse_stream(conv, resolved)
    if refused is not None:
        return error_outcome(refused, body, conversation=conv)
    broken = rules.check(conv, state.settings.conversation_rules)
    if broken is not None:
        return error_outcome(broken, body, conversation=conv)
    limited = rate_limit(state, raw, key, conv)
    if limited is not None:
        return error_outcome(limited, body, conversation=conv)
    return Admitted(body, conv, resolved, key)


def rate_limit(state: GatewayState, raw: RawRequest, key: ApiKey, conv: Conversation) -> ApiError | None:
    """429 usage_limit_exceeded when the key is over its requests or tokens per minute (counted when admitted)."""
    limits = ratelimit.limits_for(key, state.settings.rate_limit)
    if limits.unlimited:
        return None
    return state.rate_limiter.admit(raw.session, key.key, limits, replies.prompt_tokens(conv))


def answer(state: GatewayState, raw: RawRequest, dialect: Dialect, admitted: Admitted) -> Outcome:
    """Select the fixture, build the reply and render it in the dialect (or the fixture's error)."""
    body, conv = admitted.body, admitted.conversation
    session = state.session(raw.session)
    sequence = next(session.sequence)
    ruled = choose_rule_fault(state, raw.session, conv)
    if isinstance(ruled.fault, faults.ErrorFault):
        return fault_error_outcome(ruled, body, conv)
    selection = matching.select(state.fixtures(raw.session), conv, uses=session.uses, states=session.scenarios)
    near = tuple(matching.near_misses_json(selection))
    if selection.winner is None and state.settings.strict:
        error = not_found(matching.near_miss_report(selection), code="no_matching_fixture")
        return error_outcome(error, body, conversation=conv, near_misses=near)
    fixture = selection.winner.fixture if selection.winner else None
    spec = choose_reply(session, fixture) if fixture else None
    if selection.winner is not None and spec is not None:  # the fixture answers: move its scenario, fill templates
        scenarios.advance(session.scenarios, selection.winner.fixture)
        spec = replies.render_templates(spec, conv, selection.winner.captures)
    name = fixture.name if fixture else None
    if spec is not None and spec.error is not None:
        delivery = plan_delivery(state, raw.session, sequence, spec, ruled, conv.stream, events=0)
        return replace(spec_error_outcome(spec.error, body, conv), fixture=name, delivery=delivery)
    key = f"{state.settings.seed}:{raw.session}:{sequence}"
    rng = random.Random(key) if replies.draws_ids(spec) else None
    reply = replies.build(spec, conv, rng, state.settings.seed, state.settings.generated_words)
    meta = ReplyMeta(
        id=replies.seeded_id(key, dialect.id_prefix),
        created=int(time.time()),
        model=conv.model,
        include_usage=conv.include_usage,
        chunk_tokens=(spec.chunk_tokens if spec and spec.chunk_tokens else 1),
        separate_usage_chunk=state.settings.stream_usage == "separate_chunk",
    )
    headers = {"X-Edgee-Provider": admitted.resolved.provider, **(spec.headers if spec else {})}
    if conv.stream:
        events = tuple(dialect.stream(reply, meta))
        delivery = plan_delivery(state, raw.session, sequence, spec, ruled, True, len(events))
        body_or_events: dict[str, Any] = {"events": events, "codec": dialect.codec, "content_type": SSE_TYPE}
    else:
        rendered = _ENCODE_JSON(dialect.render(reply, meta)).encode()
        delivery = plan_delivery(state, raw.session, sequence, spec, ruled, False, events=0)
        body_or_events = {"body": rendered}
    return Outcome(  # built once (dataclasses.replace on a frozen Outcome costs as much again)
        status=200,
        headers=headers,
        delivery=delivery,
        parsed=body,
        conversation=conv,
        fixture=name,
        near_misses=() if fixture else near,
        summary=reply_summary(reply),
        **body_or_events,
    )


# json.dumps(..., separators=(",", ":"), ensure_ascii=False) without building a new encoder per answer
_ENCODE_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def choose_rule_fault(state: GatewayState, session_name: str, conv: Conversation) -> fault_rules.Choice:
    """The fault rule that fires on this request (if any); every matching rule counts it."""
    session = state.session(session_name)
    active = state.fault_rules(session_name)
    if not active:
        return fault_rules.Choice(None, None, session.fault_counts)
    choice = fault_rules.choose_fault(active, session.fault_counts, conv, state.settings.seed, session_name)
    session.fault_counts = dict(choice.counts)
    return choice


def spec_error_outcome(spec: ErrorSpec, parsed: Any, conv: Conversation | None) -> Outcome:
    """A scripted error: the gateway's envelope, or the custom body (e.g. a proxy's HTML page) as given."""
    error = replies.error_for(spec)
    if spec.body is None:
        return error_outcome(error, parsed, conversation=conv)
    return Outcome(
        status=spec.status,
        body=spec.body.encode(),
        headers=error.headers,
        content_type=spec.content_type or JSON_TYPE,
        parsed=parsed,
        conversation=conv,
        error=error,
        summary={"error": {"status": spec.status, "body": spec.body[:200]}},
    )


def fault_error_outcome(choice: fault_rules.Choice, parsed: Any, conv: Conversation) -> Outcome:
    """The error answer of a rule's `{type: error}` fault; no fixture is consulted (nor used up)."""
    assert isinstance(choice.fault, faults.ErrorFault) and choice.rule is not None
    fault = choice.fault
    spec = ErrorSpec(
        fault.status,
        fault.code,
        fault.message,
        fault.type,
        fault.param,
        fault.retry_after,
        fault.body,
        fault.content_type,
    )
    delivery = Delivery(fault=fault, fault_source=f"rule '{choice.rule.name}'")
    return replace(spec_error_outcome(spec, parsed, conv), delivery=delivery)


def plan_delivery(
    state: GatewayState,
    session: str,
    sequence: int,
    spec: ReplySpec | None,
    ruled: fault_rules.Choice,
    stream: bool,
    events: int,
) -> Delivery:
    """Concrete waits and the fault for one answer: a rule's fault wins over the fixture's; all drawn from the seed."""
    timing = spec.timing if spec else faults.Timing()
    fault, source = (spec.fault, "fixture") if spec and spec.fault else (None, None)
    if ruled.fault is not None and ruled.rule is not None:
        if isinstance(ruled.fault, faults.Latency):
            timing = timing.overridden(ruled.fault)
        else:
            fault, source = ruled.fault, f"rule '{ruled.rule.name}'"
    if fault is not None and not faults.applies(fault, stream):
        fault, source = None, None
    seed = state.settings.seed
    # seeding a generator from a string costs ~6 us: only when some wait is drawn at random
    drawn = faults.fixed_timing(timing) or faults.draw_timing(
        timing, events, random.Random(f"{seed}:timing:{session}:{sequence}")
    )
    if fault is not None:
        fault = faults.resolve(fault, random.Random(f"{seed}:fault-data:{session}:{sequence}"))
    if isinstance(ruled.fault, faults.Latency) and fault is None and ruled.rule is not None:
        fault, source = ruled.fault, f"rule '{ruled.rule.name}'"
    return Delivery(
        delay_ms=drawn.delay_ms,
        ttft_ms=drawn.ttft_ms,
        chunk_ms=drawn.chunk_ms,
        gaps=drawn.gaps,
        fault=fault,
        fault_source=source,
        hold=spec.hold if spec else None,
    )


def reply_summary(reply: Reply) -> dict[str, Any]:
    """What the journal shows of a reply."""
    return {
        "finish_reason": reply.finish_reason,
        "content": (reply.content or "")[:200],
        "tool_calls": [c.name for c in reply.tool_calls],
        "usage": {"prompt_tokens": reply.usage.prompt_tokens, "completion_tokens": reply.usage.completion_tokens},
        **({"warnings": list(reply.warnings)} if reply.warnings else {}),
    }


JsonHandler = Callable[[Mapping[str, Any], Mapping[str, str]], Mapping[str, Any] | ApiError]


def handle_json(
    state: GatewayState,
    raw: RawRequest,
    endpoint: str,
    schema: str,
    compute: JsonHandler,
    precheck: Callable[[Mapping[str, Any]], ApiError | None] | None = None,
) -> Outcome:
    """Endpoints that call no model (count_tokens, compress): authenticate, parse, validate, compute."""
    accepted = accept(state, raw, schema, precheck)
    if isinstance(accepted, Outcome):
        return accepted
    _, body = accepted
    result = compute(body, raw.headers)
    if isinstance(result, ApiError):
        return error_outcome(result, body)
    rendered = json.dumps(result, separators=(",", ":"), ensure_ascii=False).encode()
    summary = {k: v for k, v in result.items() if k in ("input_tokens", "compression")}
    return with_rule_faults(state, raw, endpoint, Outcome(status=200, body=rendered, parsed=body, summary=summary))


def with_rule_faults(state: GatewayState, raw: RawRequest, endpoint: str, outcome: Outcome) -> Outcome:
    """Fault rules on the endpoints that call no model (models, count_tokens, compress).

    They match on a conversation without messages (endpoint, model, headers, tags, body); a rule's error
    replaces the answer, its latency or connection fault goes with it.
    """
    if not state.fault_rules(raw.session):
        return outcome
    body = outcome.parsed if isinstance(outcome.parsed, dict) else {}
    model = body.get("model")
    conv = Conversation(
        endpoint=endpoint,
        model=model if isinstance(model, str) else "",
        messages=(),
        tags=header_tags(raw.headers),
        headers=raw.headers,
        body=body,
    )
    ruled = choose_rule_fault(state, raw.session, conv)
    if ruled.fault is None:
        return outcome
    if isinstance(ruled.fault, faults.ErrorFault):
        return fault_error_outcome(ruled, outcome.parsed, conv)
    sequence = next(state.session(raw.session).sequence)
    return replace(outcome, delivery=plan_delivery(state, raw.session, sequence, None, ruled, False, events=0))


def handle_count_tokens(state: GatewayState, raw: RawRequest) -> Outcome:
    """`POST /v1/count_tokens` (`invalid_tokenizer` is checked before the schema, for its own code)."""
    return handle_json(
        state, raw, "count_tokens", "count_tokens_request", endpoints.count_tokens, endpoints.check_tokenizer
    )


def handle_compress(state: GatewayState, raw: RawRequest) -> Outcome:
    """`POST /v1/compress`."""
    return handle_json(state, raw, "compress", "compress_request", endpoints.compress)


def anthropic_credentials(raw: RawRequest) -> RawRequest:
    """On the Anthropic-style routes `x-api-key` wins over `Authorization` when both are sent (documented for
    /v1/messages); `x-edgee-api-key` still wins over both."""
    if raw.headers.get("x-api-key") and "authorization" in raw.headers:
        return replace(raw, headers={k: v for k, v in raw.headers.items() if k != "authorization"})
    return raw


def handle_messages(state: GatewayState, raw: RawRequest) -> Outcome:
    """`POST /v1/messages`: the completion steps in the Anthropic dialect."""
    return handle_completion(state, anthropic_credentials(raw), MESSAGES)


def handle_message_tokens(state: GatewayState, raw: RawRequest) -> Outcome:
    """`POST /v1/messages/count_tokens`."""
    return handle_json(
        state,
        anthropic_credentials(raw),
        "count_tokens",
        "messages_count_tokens_request",
        endpoints.count_message_tokens,
    )
