"""Replaying a recorded reply: the recorded status, headers and bytes, paced as the fixture says (issue 14).

Pure: builds the Outcome; the injector applies its waits and any fault exactly as for a generated answer.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

from mockgw.core.conversation import Conversation
from mockgw.dialects import Dialect
from mockgw.faults import catalogue as faults
from mockgw.fixtures.load import ReplySpec
from mockgw.fixtures.recorded import Recorded
from mockgw.gateway import fault_rules
from mockgw.gateway.delivery import plan_delivery
from mockgw.gateway.outcome import JSON_TYPE, SSE_TYPE, Delivery, Outcome
from mockgw.gateway.state import GatewayState

# Not replayed: they describe the original connection, not the answer (aiohttp writes its own).
_CONNECTION_HEADERS = frozenset({"content-length", "content-encoding", "transfer-encoding", "connection", "date"})


def _waits_given(spec: ReplySpec) -> bool:
    """Whether the fixture sets its own ttft_ms / chunk_ms (they override the recorded pacing)."""
    return spec.timing.ttft_ms != faults.NO_WAIT or spec.timing.chunk_ms != faults.NO_WAIT


def paced(delivery: Delivery, recorded: Recorded, spec: ReplySpec) -> Delivery:
    """The delivery with the recorded waits (scaled), each on the event it came before."""
    if recorded.scale <= 0:
        return delivery
    scale = recorded.scale
    if recorded.events is None:
        if spec.timing.delay_ms != faults.NO_WAIT:
            return delivery
        return replace(delivery, delay_ms=round(delivery.delay_ms + recorded.ms * scale, 3))
    if _waits_given(spec) or not recorded.events:
        return delivery
    times = [event.ms for event in recorded.events]
    gaps = tuple(round(max(0.0, later - earlier) * scale, 3) for earlier, later in itertools.pairwise(times))
    return replace(delivery, ttft_ms=round(times[0] * scale, 3), chunk_ms=0.0, gaps=gaps)


def recorded_outcome(
    state: GatewayState,
    session: str,
    sequence: int,
    spec: ReplySpec,
    ruled: fault_rules.Choice,
    dialect: Dialect,
    parsed: Any,
    conv: Conversation,
    fixture: str,
) -> Outcome:
    """The recorded answer of `spec`, with the fixture's or a rule's fault and waits."""
    recorded = spec.recorded
    assert recorded is not None
    headers = {k: v for k, v in recorded.headers.items() if k.lower() not in _CONNECTION_HEADERS}
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
    headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    summary = {"recorded": {"status": recorded.status, "complete": recorded.complete}}
    # a recorded stream is replayed event by event (a cut one ends by closing); a JSON answer as its bytes
    events = None if recorded.events is None else tuple(event.data for event in recorded.events)
    streamed = events is not None
    delivery = plan_delivery(state, session, sequence, spec, ruled, streamed, len(events or ()))
    return Outcome(
        status=recorded.status,
        body=b"" if streamed else recorded.body or b"",
        events=events,
        codec=dialect.codec,
        headers=headers,
        content_type=(content_type or (SSE_TYPE if streamed else JSON_TYPE)).split(";")[0].strip(),
        delivery=paced(delivery, recorded, spec),
        parsed=parsed,
        conversation=conv,
        fixture=fixture,
        summary=summary,
        ending="close" if streamed and not recorded.complete else "eof",
    )


def subset(expected: Any, actual: Any) -> bool:
    """Whether `actual` holds every member of `expected` (recursively for objects)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and subset(v, actual[k]) for k, v in expected.items())
    return bool(expected == actual)


def endpoint_recording(state: GatewayState, session: str, endpoint: str, body: Any) -> Outcome | None:
    """A recorded answer for models, count_tokens or compress: the first fixture whose `match` names this endpoint
    (and whose `body` and `model`, if given, fit the request) and whose next reply is a recording."""
    if not state.file_fixtures and not state.session(session).runtime_fixtures:
        return None
    for fixture in state.fixtures_by_priority(session):
        match = fixture.match
        if match.endpoint != endpoint or not any(r.recorded for r in fixture.replies):
            continue
        if match.body is not None and not subset(match.body, body):
            continue
        if match.model is not None and not (isinstance(body, dict) and body.get("model") == match.model):
            continue
        progress = state.session(session)
        used = progress.uses.get(fixture.name, 0)
        if fixture.times is not None and used >= fixture.times:
            continue
        progress.uses[fixture.name] = used + 1
        spec = fixture.replies[min(used, len(fixture.replies) - 1)]
        if spec.recorded is None:
            return None
        recorded = spec.recorded
        headers = {k: v for k, v in recorded.headers.items() if k.lower() not in _CONNECTION_HEADERS}
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), JSON_TYPE)
        return Outcome(
            status=recorded.status,
            body=recorded.body or b"",
            headers={k: v for k, v in headers.items() if k.lower() != "content-type"},
            content_type=content_type.split(";")[0].strip(),
            delivery=paced(Delivery(), recorded, spec),
            parsed=body,
            fixture=fixture.name,
            summary={"recorded": {"status": recorded.status, "complete": recorded.complete}},
        )
    return None
