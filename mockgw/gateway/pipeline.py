"""The request pipeline as named steps: parse → authenticate → validate → normalise → select → render.

Pure apart from the counters in GatewayState: no sockets, no awaits. The web layer writes the Outcome and
records it in the journal.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from mockgw.answers import build as replies
from mockgw.core.conversation import Conversation
from mockgw.core.errors import ApiError, not_found
from mockgw.core.frozen import frozen
from mockgw.core.reply import ReplyMeta
from mockgw.dialects import Dialect
from mockgw.dialects.chat import CHAT
from mockgw.dialects.messages import MESSAGES
from mockgw.faults.kinds.error import ErrorFault
from mockgw.fixtures import matching, scenarios
from mockgw.fixtures.load import Fixture, ReplySpec
from mockgw.gateway import auth, endpoints, ratelimit
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


@frozen
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
    if isinstance(ruled.fault, ErrorFault):
        return fault_error_outcome(ruled, body, conv)
    selection = matching.select(
        state.fixtures_by_priority(raw.session), conv, uses=session.uses, states=session.scenarios, ordered=True
    )
    near = tuple(matching.near_misses_json(selection)) if selection.winner is None else ()
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
        rendered = dumps_compact(dialect.render(reply, meta))
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
        reply=reply,  # the journal summarises it when read
        **body_or_events,
    )


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
