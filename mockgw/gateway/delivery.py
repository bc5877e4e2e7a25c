"""How an answer goes out: the fault rules that fire, the scripted error answers, and the seeded waits.

Pure decisions; the injector (inject.py) applies them at the socket.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

from mockgw.answers import build as replies
from mockgw.core.conversation import Conversation
from mockgw.dialects.chat import header_tags
from mockgw.faults import catalogue as faults
from mockgw.faults.kinds.error import ErrorFault
from mockgw.faults.kinds.latency import Latency
from mockgw.fixtures.load import ReplySpec
from mockgw.gateway import fault_rules
from mockgw.gateway.outcome import JSON_TYPE, Delivery, Outcome, RawRequest, error_outcome
from mockgw.gateway.state import GatewayState, SessionState


def choose_rule_fault(
    state: GatewayState, session_name: str, conv: Conversation, session: SessionState | None = None
) -> fault_rules.Choice:
    """The fault rule that fires on this request (if any); every matching rule counts it.

    `session`: the state of `session_name` when the caller has it already (else it is looked up)."""
    if session is None:
        session = state.session(session_name)
    if not state.config_fault_rules and not session.fault_rules:  # most requests: no rule to try
        return fault_rules.NO_FAULT
    active = state.fault_rules(session_name)
    choice = fault_rules.choose_fault(active, session.fault_counts, conv, state.settings.seed, session_name)
    session.fault_counts = dict(choice.counts)
    return choice


def spec_error_outcome(spec: ErrorFault, parsed: Any, conv: Conversation | None) -> Outcome:
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
    assert isinstance(choice.fault, ErrorFault) and choice.rule is not None
    fault = choice.fault
    delivery = Delivery(fault=fault, fault_source=f"rule '{choice.rule.name}'")
    return replace(spec_error_outcome(fault, parsed, conv), delivery=delivery)


NO_DELIVERY = Delivery()  # no wait, no fault, no hold


def _plain(spec: ReplySpec) -> bool:
    timing = spec.timing
    return spec.fault is None and spec.hold is None and (timing is faults.NO_TIMING or timing == faults.NO_TIMING)


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
    if ruled.fault is None and (spec is None or _plain(spec)):  # most answers: nothing to draw or apply
        return NO_DELIVERY
    timing = spec.timing if spec else faults.NO_TIMING
    fault, source = (spec.fault, "fixture") if spec and spec.fault else (None, None)
    if ruled.fault is not None and ruled.rule is not None:
        if isinstance(ruled.fault, Latency):
            timing = timing.overridden(ruled.fault)
        else:
            fault, source = ruled.fault, f"rule '{ruled.rule.name}'"
    if fault is not None and not faults.applies(fault, stream):
        fault, source = None, None
    seed = state.settings.seed
    # seeding a generator from a string is not free (docs/bench.md): only when some wait is drawn at random
    drawn = faults.fixed_timing(timing) or faults.draw_timing(
        timing, events, random.Random(f"{seed}:timing:{session}:{sequence}")
    )
    if fault is not None:
        fault = faults.resolve(fault, random.Random(f"{seed}:fault-data:{session}:{sequence}"))
    if isinstance(ruled.fault, Latency) and fault is None and ruled.rule is not None:
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
    if isinstance(ruled.fault, ErrorFault):
        return fault_error_outcome(ruled, outcome.parsed, conv)
    sequence = next(state.session(raw.session).sequence)
    return replace(outcome, delivery=plan_delivery(state, raw.session, sequence, None, ruled, False, events=0))
