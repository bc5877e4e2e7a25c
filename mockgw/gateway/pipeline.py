"""The request pipeline as named steps: parse → authenticate → validate → normalise → select → render.

Pure apart from the counters in GatewayState: no sockets, no awaits. The web layer writes the Outcome and
records it in the journal.
"""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from mockgw.answers import build as replies
from mockgw.answers.budget import MAX_STREAM_EVENTS, BudgetExceeded, Limits
from mockgw.core import regexes
from mockgw.core.conversation import Conversation, ToolCall
from mockgw.core.errors import ApiError, not_found
from mockgw.core.frozen import frozen
from mockgw.core.reply import Reply, ReplyMeta
from mockgw.dialects import Dialect
from mockgw.dialects.chat import CHAT
from mockgw.dialects.messages import MESSAGES
from mockgw.faults.kinds.error import ErrorFault
from mockgw.faults.kinds.fallback import Fallback
from mockgw.fixtures import matching, scenarios
from mockgw.fixtures.load import Fixture, ReplySpec
from mockgw.gateway import (
    auth,
    compression,
    debug,
    edge_tools,
    edgee,
    endpoints,
    fallback,
    fault_rules,
    ratelimit,
    replay,
)
from mockgw.gateway import conversation_rules as rules
from mockgw.gateway.auth import ApiKey
from mockgw.gateway.bodies import dumps_compact, journal_body, parse_request
from mockgw.gateway.catalog import Resolved
from mockgw.gateway.delivery import (
    choose_rule_fault,
    fault_error_outcome,
    plan_delivery,
    spec_error_outcome,
    with_rule_faults,
)
from mockgw.gateway.outcome import SSE_TYPE, Outcome, RawRequest, error_outcome
from mockgw.gateway.state import GatewayState, SessionState
from mockgw.gateway.validation import check_headers


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
    outcome = replay.endpoint_recording(state, raw.session, "models", {}) or Outcome(
        status=200, body=body, summary={"models": len(state.settings.catalog.models)}
    )
    return with_rule_faults(state, raw, "models", outcome)


@frozen
class Admitted:
    """A request that passed every check: ready to be answered."""

    body: dict[str, Any]
    conversation: Conversation
    resolved: Resolved
    key: ApiKey
    features: edgee.Features = edgee.NONE
    session: SessionState | None = None  # the session's state, looked up once per request (None: look it up)


def handle_completion(state: GatewayState, raw: RawRequest, dialect: Dialect = CHAT) -> Outcome:
    """Every step for a model request; the first step that refuses gives the outcome."""
    admitted = admit(state, raw, dialect)
    if isinstance(admitted, Outcome):
        return admitted
    with regexes.collecting() as timed_out:  # a fixture's or schema's regex out of time: a problem of the session
        outcome = answer(state, raw, dialect, admitted)
    for problem in timed_out:
        state.add_problem(raw.session, problem)
    return outcome


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
    invalid = (
        (precheck(body) if precheck else None) or state.validators.check(schema, body) or check_headers(raw.headers)
    )
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
    session = state.session(raw.session)
    features = edgee.read(body, raw.headers, key, state.settings, session.pending, session.pending_used)
    if isinstance(features, ApiError):
        return error_outcome(features, body, conversation=conv)
    limited = rate_limit(state, raw, key, conv)
    if limited is not None:
        return error_outcome(limited, body, conversation=conv)
    return Admitted(body, conv, resolved, key, features, session)


def rate_limit(state: GatewayState, raw: RawRequest, key: ApiKey, conv: Conversation) -> ApiError | None:
    """429 usage_limit_exceeded when the key is over its requests or tokens per minute (counted when admitted)."""
    if key.requests_per_minute is None and key.tokens_per_minute is None and not state.settings.rate_limit:
        return None  # nearly every request: no limit anywhere (what `limits_for(...).unlimited` says)
    limits = ratelimit.limits_for(key, state.settings.rate_limit)
    if limits.unlimited:
        return None
    return state.rate_limiter.admit(raw.session, key.key, limits, replies.prompt_tokens(conv))


@frozen
class Picked:
    """One round's answer: the fixture (if any) and its reply spec, and the reply built from them."""

    fixture: str | None
    spec: ReplySpec | None
    reply: Reply | None  # None: the spec's error answers
    near: tuple[Mapping[str, Any], ...]
    error: Outcome | None = None


def pick(
    state: GatewayState,
    session: SessionState,
    conv: Conversation,
    body: dict[str, Any],
    key: str,
    words: int,
) -> Picked | Outcome:
    """Select the fixture for `conv` and build its reply (or the strict 404 / the fixture's error outcome)."""
    fixtures = state.ordered_fixtures(session)
    won = matching.winner(fixtures, conv, session.uses, session.scenarios)
    fixture: Fixture | None = None
    spec: ReplySpec | None = None
    near: tuple[Mapping[str, Any], ...] = ()
    if won is None:
        selection = matching.misses(fixtures, conv, session.uses, session.scenarios)
        near = tuple(matching.near_misses_json(selection))
        if state.settings.strict:
            error = not_found(matching.near_miss_report(selection), code="no_matching_fixture")
            return error_outcome(error, body, conversation=conv, near_misses=near)
    else:  # the fixture answers: its next reply, its scenario moved on, its templates filled
        fixture, captures = won
        spec = choose_reply(session, fixture)
        scenarios.advance(session.scenarios, fixture)
        spec = replies.render_templates(spec, conv, captures)
    name = fixture.name if fixture else None
    if spec is not None and spec.recorded is not None:  # a recording: answer() replays its bytes
        return Picked(name, spec, None, near)
    if spec is not None and spec.error is not None:
        return Picked(name, spec, None, near, replace(spec_error_outcome(spec.error, body, conv), fixture=name))
    rng = random.Random(key) if replies.draws_ids(spec) else None
    try:
        reply = replies.build(spec, conv, rng, state.settings.seed, words, _limits(state.settings.max_answer_bytes))
    except BudgetExceeded as exc:  # a client's schema asks for more than an answer may hold or cost
        return error_outcome(exc.error(), body, conversation=conv, fixture=name)
    return Picked(name, spec, reply, near)


@functools.lru_cache(maxsize=16)
def _limits(max_bytes: int) -> Limits:
    return Limits(max_bytes=max_bytes)  # frozen: one per setting, not one per request


def answer(state: GatewayState, raw: RawRequest, dialect: Dialect, admitted: Admitted) -> Outcome:
    """Select the fixture, build the reply and render it in the dialect (or the fixture's error).

    Edge Tools the reply calls run here and the model answers again (edgee.md); compression, fallback and
    debug shape what is sent."""
    body, conv, features = admitted.body, admitted.conversation, admitted.features
    session = admitted.session or state.session(raw.session)
    sequence = next(session.sequence)
    ruled = choose_rule_fault(state, raw.session, conv, session)
    if isinstance(ruled.fault, ErrorFault):
        return fault_error_outcome(ruled, body, conv)
    key = f"{state.settings.seed}:{raw.session}:{sequence}"
    words = state.settings.generated_words
    if features.compression.enabled and compression.BREVITY in features.compression.strategies:
        words = max(1, words // 2)
    if features.edge_ids:
        conv = edge_tools.offered(conv, features.edge_ids)
    if features.pending is not None:
        conv = edge_tools.inject(conv, features.pending)
    runs: tuple[edge_tools.Run, ...] = ()
    pending_id: str | None = None
    picked = pick(state, session, conv, body, key, words)
    if not isinstance(picked, Outcome) and picked.reply is not None and (picked.reply.tool_calls or features.edge_ids):
        picked, conv, runs, pending_id = edge_rounds(state, session, picked, conv, body, features, key, words)
    if isinstance(picked, Outcome):
        return picked
    if picked.spec is not None and picked.spec.recorded is not None and picked.fixture is not None:
        return replay.recorded_outcome(
            state, raw.session, sequence, picked.spec, ruled, dialect, body, conv, picked.fixture
        )
    if picked.error is not None or picked.reply is None:
        assert picked.error is not None
        delivery = plan_delivery(state, raw.session, sequence, picked.spec, ruled, conv.stream, events=0)
        return replace(picked.error, delivery=delivery)
    spec, reply = picked.spec, picked.reply
    extras_edgee = spec.edgee if spec else {}
    fixture_fallback = extras_edgee.get("fallback") if extras_edgee else None
    if fixture_fallback:
        route = fallback.route(admitted.resolved, state.settings.outages, fixture_fallback, "fixture")
    elif isinstance(ruled.fault, Fallback):
        rule = f"rule '{ruled.rule.name if ruled.rule else ''}'"
        route = fallback.route(admitted.resolved, state.settings.outages, ruled_fallback(ruled), rule)
    else:
        route = fallback.route(admitted.resolved, state.settings.outages)
    if isinstance(route, ApiError):
        return error_outcome(route, body, conversation=conv)
    if features.pending_id is not None:
        edgee.take_pending(features, session.pending, session.pending_used)
    info = None
    if features.compression.enabled or "compression" in extras_edgee:  # else compressed() changes nothing
        reply, info = compressed(reply, spec, features, body, raw, dialect)
    extras: dict[str, Any] = {}
    if info is not None:
        extras["compression"] = info
    if runs:
        extras["edgee_tools_executed"] = [r.summary() for r in runs]
    if pending_id is not None:
        extras["edgee_pending_id"] = pending_id
    meta = ReplyMeta(  # positional: id, created, model, include_usage, chunk_tokens, separate_usage_chunk
        replies.seeded_id(key, dialect.id_prefix),
        int(state.now()),
        route.model or conv.model,
        conv.include_usage,
        stream_chunk_tokens(spec.chunk_tokens if spec and spec.chunk_tokens else 1, reply),
        state.settings.stream_usage == "separate_chunk",
    )
    headers = route.headers()
    if spec and spec.headers:
        headers.update(spec.headers)
    if conv.stream:
        events = tuple(dialect.stream(reply, meta))
        delivery = plan_delivery(state, raw.session, sequence, spec, ruled, True, len(events))
    else:
        delivery = plan_delivery(state, raw.session, sequence, spec, ruled, False, events=0)
    if features.debug:
        extras["debug"] = debug.payload(
            fixture=picked.fixture,
            provider=route.provider,
            model=admitted.resolved.model.id,
            key=debug.key_id(admitted.key.key),
            route=route.as_json(),
            timings={"delay_ms": delivery.delay_ms, "ttft_ms": delivery.ttft_ms, "chunk_ms": delivery.chunk_ms},
            compression={**features.compression.as_json(), "result": info},
            edgee_tools={
                "offered": list(features.edge_ids),
                "executed": [r.summary() for r in runs],
                "injected": features.pending_id,
                "pending_id": pending_id,
            },
        )
    summary = {"edgee": {**features.journal(), **extras, "route": route.as_json()}}
    near_misses = () if picked.fixture else picked.near
    # built once, in one of two forms (dataclasses.replace on a frozen Outcome costs as much again)
    if conv.stream:
        return Outcome(
            status=200,
            events=edgee.add_to_events(events, dialect.endpoint, extras),
            codec=dialect.codec,
            content_type=SSE_TYPE,
            headers=headers,
            delivery=delivery,
            parsed=body,
            conversation=conv,
            fixture=picked.fixture,
            near_misses=near_misses,
            reply=reply,  # the journal summarises it when read
            summary=summary,
        )
    rendered = dialect.render(reply, meta)
    if extras:
        rendered = edgee.add_to_body(rendered, extras)
    return Outcome(
        status=200,
        body=dumps_compact(rendered),
        headers=headers,
        delivery=delivery,
        parsed=body,
        conversation=conv,
        fixture=picked.fixture,
        near_misses=near_misses,
        reply=reply,
        summary=summary,
    )


def edge_rounds(
    state: GatewayState,
    session: SessionState,
    picked: Picked,
    conv: Conversation,
    body: dict[str, Any],
    features: edgee.Features,
    key: str,
    words: int,
) -> tuple[Picked | Outcome, Conversation, tuple[edge_tools.Run, ...], str | None]:
    """Run the Edge Tools the reply calls and let the model answer again, for at most MAX_ROUNDS rounds.

    The last pick, the conversation it answered, the runs, and the pending id when the client's own calls went out
    first (the Edge Tool results then wait for it)."""
    runs: list[edge_tools.Run] = []
    pending_id: str | None = None
    answered: Picked | Outcome = picked
    for round_number in range(1, edge_tools.MAX_ROUNDS + 1):
        if isinstance(answered, Outcome) or answered.reply is None:
            break
        calls = edge_calls(answered, conv, features, key)
        if not calls:
            break
        scripted = answered.spec.edgee.get("edgee_tools", {}) if answered.spec else {}
        ran = [edge_tools.run(c, state.now(), f"{key}:edge", scripted.get(c.name)) for c in calls]
        runs.extend(ran)
        client = tuple(c for c in answered.reply.tool_calls if c not in calls)
        if client:  # the documented deferral: the client's calls go out, the Edge Tool results wait for it
            pending_id = replies.seeded_id(f"{key}:pending", "edgee_pending_")
            session.keep_pending(pending_id, edge_tools.Pending(tuple(c.id for c in client), tuple(ran)))
            answered = replace(answered, reply=replace(answered.reply, tool_calls=client))
            break
        conv = edge_tools.answered(conv, calls, ran)
        answered = pick(state, session, conv, body, f"{key}:{round_number}", words)
    else:  # every round called Edge Tools again: the last answer goes out as it is, and the journal says why
        if not isinstance(answered, Outcome) and answered.reply is not None and answered.reply.tool_calls:
            warning = f"Edge Tools were called {edge_tools.MAX_ROUNDS} rounds in a row; the last calls were not run"
            answered = replace(answered, reply=replace(answered.reply, warnings=(*answered.reply.warnings, warning)))
    return answered, conv, tuple(runs), pending_id


def stream_chunk_tokens(asked: int, reply: Reply) -> int:
    """Tokens per streamed event: as asked, but a huge answer streams in at most MAX_STREAM_EVENTS events (a
    1 MiB generated answer would otherwise be ~200,000 events, built while every other request waits)."""
    return max(asked, -(-reply.usage.completion_tokens // MAX_STREAM_EVENTS))


def edge_calls(picked: Picked, conv: Conversation, features: edgee.Features, key: str) -> tuple[ToolCall, ...]:
    """The Edge Tool calls of a round: the reply's calls of active Edge Tools; with no fixture answering, a
    call of every Edge Tool the request offers that has not run yet (the generator "uses" the tools offered)."""
    assert picked.reply is not None
    if not picked.reply.tool_calls and not features.edge_ids:  # nearly every request: what the lines below give
        return ()
    active = set(features.active_ids) | set(features.edge_ids)
    calls = tuple(c for c in picked.reply.tool_calls if c.name in active)
    if calls or picked.fixture is not None or picked.reply.tool_calls:
        return calls
    missing = [i for i in features.edge_ids if i not in conv.edgee_tools_executed]
    return tuple(ToolCall(replies.seeded_id(f"{key}:{i}", "call_"), i, "{}") for i in missing)


def ruled_fallback(ruled: fault_rules.Choice) -> Mapping[str, Any] | None:
    """A fault rule's `{type: fallback}` as the fallback to take (None when the rule's fault is another kind)."""
    if isinstance(ruled.fault, Fallback):
        return {"provider": ruled.fault.provider, "model": ruled.fault.model}
    return None


COMPRESS_FORMATS = {"chat": "chat", "messages": "messages", "responses": "responses"}


def compressed(
    reply: Reply,
    spec: ReplySpec | None,
    features: edgee.Features,
    body: Mapping[str, Any],
    raw: RawRequest,
    dialect: Dialect,
) -> tuple[Reply, dict[str, Any] | None]:
    """The reply with `usage.prompt_tokens` compressed, and the `compression` object (None: not compressed).

    The same compression as `/v1/compress` on the same body, so both report the same saved tokens."""
    pin = spec.edgee.get("compression") if spec else None
    if pin is False or (pin is None and not features.compression.enabled):
        return reply, None
    result = None
    if features.compression.enabled:
        fmt = COMPRESS_FORMATS[dialect.endpoint]
        result = compression.compress(body, raw.headers, fmt, endpoints.PARSERS[fmt], features.compression)
    prompt = reply.usage.prompt_tokens
    info = compression.pinned(result, pin, prompt) if isinstance(pin, Mapping) else (result.info() if result else None)
    if info is None:
        return reply, None
    fixed = spec is not None and spec.usage is not None and spec.usage.prompt_tokens is not None
    if not fixed:
        reply = replace(reply, usage=replace(reply.usage, prompt_tokens=max(0, prompt - int(info["saved_tokens"]))))
    return reply, info


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
    recording = replay.endpoint_recording(state, raw.session, endpoint, body)
    if recording is not None:
        return with_rule_faults(state, raw, endpoint, recording)
    result = compute(body, raw.headers)
    if isinstance(result, ApiError):
        return error_outcome(result, body)
    rendered = json.dumps(result, separators=(",", ":"), ensure_ascii=False).encode()
    summary = {k: v for k, v in result.items() if k in ("input_tokens", "compression")}
    return with_rule_faults(state, raw, endpoint, Outcome(status=200, body=rendered, parsed=body, summary=summary))


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
        return replace(raw, headers={k.lower(): v for k, v in raw.headers.items() if k.lower() != "authorization"})
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
