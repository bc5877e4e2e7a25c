"""The fault catalogue's pure parts: parsing, seeded draws, and what a faulted stream sends."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from mockgw.core.errors import FixtureError
from mockgw.dialects import sse_data
from mockgw.dialects.chat import CHAT
from mockgw.faults import catalogue as faults
from mockgw.faults.kinds.cut import Cut
from mockgw.faults.kinds.cut_mid_event import CutMidEvent
from mockgw.faults.kinds.error_event import ErrorEvent
from mockgw.faults.kinds.garbage import Garbage
from mockgw.faults.kinds.keepalive import KeepAlive
from mockgw.faults.kinds.malformed import Malformed
from mockgw.faults.kinds.no_done import NoDone
from mockgw.faults.kinds.no_finish_reason import NoFinishReason
from mockgw.faults.kinds.reset import Reset
from mockgw.faults.kinds.slow_body import SlowBody
from mockgw.faults.kinds.stall import Stall
from mockgw.fixtures.load import parse_fixture

DONE = b"data: [DONE]\n\n"
EVENTS = (
    sse_data({"choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]}),
    sse_data({"choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}]}),
    sse_data({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
    DONE,
)
NO_WAITS = faults.Drawn(0.0, 0.0, 0.0)


def plan(fault: faults.Fault | None, drawn: faults.Drawn = NO_WAITS) -> faults.StreamPlan:
    return faults.plan_stream(EVENTS, drawn, fault, CHAT.codec)


def sent(result: faults.StreamPlan) -> bytes:
    return b"".join(part.data for part in result.parts)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (250, faults.Fixed(250.0)),
        ({"uniform": [30, 10]}, faults.Uniform(10.0, 30.0)),
        ({"lognormal": {"median": 100, "sigma": 0.2}}, faults.LogNormal(100.0, 0.2)),
        ({"lognormal": {"median": 100}}, faults.LogNormal(100.0, 0.5)),
    ],
)
def test_parse_distribution(raw: Any, expected: faults.Distribution) -> None:
    assert faults.parse_distribution(raw) == expected


@pytest.mark.parametrize(
    "dist", [faults.Fixed(5), faults.Uniform(10, 20), faults.LogNormal(100, 0.5), faults.LogNormal(0, 1)]
)
def test_draws_are_seeded_and_in_range(dist: faults.Distribution) -> None:
    first = [dist.draw(random.Random("s:1")) for _ in range(5)]
    assert first == [dist.draw(random.Random("s:1")) for _ in range(5)]
    values = [dist.draw(random.Random(f"s:{i}")) for i in range(50)]
    assert all(v >= 0 for v in values)
    if isinstance(dist, faults.Uniform):
        assert all(10 <= v <= 20 for v in values)


def test_jittered_chunk_wait_gives_a_gap_per_event() -> None:
    timing = faults.Timing(chunk_ms=faults.Uniform(1, 9))
    drawn = faults.draw_timing(timing, 4, random.Random("x"))
    assert len(drawn.gaps) == 3 and all(1 <= g <= 9 for g in drawn.gaps)
    assert drawn == faults.draw_timing(timing, 4, random.Random("x"))
    assert drawn != faults.draw_timing(timing, 4, random.Random("y"))
    assert [p.wait_ms for p in plan(None, drawn).parts][1:] == list(drawn.gaps)


def test_fixed_waits_have_no_gaps() -> None:
    drawn = faults.draw_timing(faults.Timing(faults.Fixed(1), faults.Fixed(2), faults.Fixed(3)), 4, random.Random())
    assert drawn == faults.Drawn(1.0, 2.0, 3.0)
    assert [p.wait_ms for p in plan(None, drawn).parts] == [2.0, 3.0, 3.0, 3.0]


@pytest.mark.parametrize(
    ("fault", "events", "ending"),
    [
        (None, [1, 2, 3, 4], "eof"),
        (Cut(after_events=2), [1, 2], "close"),
        (Cut(after_events=0, rst=True), [], "reset"),
        (Cut(after_events=9), [1, 2, 3, 4], "eof"),
        (ErrorEvent(at_event=2), [1, 2], "eof"),
        (NoDone(), [1, 2, 3], "eof"),
        (CutMidEvent(at_event=3, rst=True), [1, 2, 3], "reset"),
    ],
)
def test_stream_plan_events_and_ending(fault: faults.Fault | None, events: list[int], ending: str) -> None:
    result = plan(fault)
    assert [p.event for p in result.parts] == events
    assert result.ending == ending


def test_cut_mid_event_sends_half_a_data_line() -> None:
    last = plan(CutMidEvent(at_event=2)).parts[-1].data
    assert last.startswith(b"data: {") and b"\n" not in last and len(last) < len(EVENTS[1])


def test_malformed_event_is_one_event_that_is_not_json() -> None:
    result = plan(Malformed(at_event=2))
    bad = result.parts[1].data
    assert bad.startswith(b"data: ") and bad.endswith(b"\n\n") and bad.count(b"\n\n") == 1
    with pytest.raises(json.JSONDecodeError):
        json.loads(bad[6:])
    assert sent(result).endswith(DONE)


def test_error_event_carries_the_envelope() -> None:
    last = plan(ErrorEvent(at_event=3, code="boom", message="it broke")).parts[-1].data
    assert json.loads(last[6:]) == {
        "error": {"code": "boom", "message": "it broke", "type": "provider_error", "param": None}
    }


def test_no_finish_reason_nulls_every_finish_reason() -> None:
    data = sent(plan(NoFinishReason()))
    assert b'"finish_reason":"stop"' not in data and data.count(b'"finish_reason":null') == 3


def test_stall_and_keepalive_plans() -> None:
    assert plan(Stall(after_events=2)).stall_after == 2
    assert plan(Stall(after_events=10)).stall_after == 4
    spaced = plan(KeepAlive(every_events=1))
    assert [p.data for p in spaced.parts].count(faults.KEEPALIVE) == 3  # none after the last event
    assert plan(KeepAlive(every_ms=100)).keepalive_ms == 100


def test_dribble_cuts_a_body_into_pieces() -> None:
    parts = SlowBody(chunk_bytes=3, every_ms=7).pieces(b"abcdefgh")
    assert [(p.wait_ms, p.data) for p in parts] == [(0.0, b"abc"), (7, b"def"), (7, b"gh")]


def test_garbage_is_drawn_once_from_the_seed() -> None:
    first = faults.resolve(Garbage(size=16), random.Random("a"))
    assert isinstance(first, Garbage) and len(first.data) == 16
    assert first == faults.resolve(Garbage(size=16), random.Random("a"))
    assert first != faults.resolve(Garbage(size=16), random.Random("b"))


@pytest.mark.parametrize(
    ("fault", "stream", "applies"),
    [(Cut(1), False, False), (Cut(1), True, True), (Reset(), False, True)],
)
def test_stream_faults_only_touch_streams(fault: faults.Fault, stream: bool, applies: bool) -> None:
    assert faults.applies(fault, stream) is applies


@pytest.mark.parametrize(
    ("reply", "field", "words"),
    [
        ({"fault": {"type": "explode"}}, "reply.fault.type", "unknown fault type"),
        ({"fault": {"type": "cut"}}, "reply.fault", "after_events"),
        ({"fault": {"type": "malformed", "at_event": 0}}, "reply.fault.at_event", "must be at least 1, got 0"),
        ({"fault": {"type": "error", "status": 500}}, "reply.fault.type", "unknown fault type"),
        ({"delay_ms": {"uniform": [1]}}, "reply.delay_ms.uniform", "needs at least 2 items, got 1"),
        ({"hold": {"timeout": 5}}, "reply.hold", "unknown key 'timeout'; did you mean 'timeout_ms'?"),
    ],
)
def test_broken_fixture_faults_name_the_field(reply: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(FixtureError) as caught:
        parse_fixture({"name": "broken", "reply": reply})
    assert caught.value.fixture == "broken"
    assert caught.value.field_path == field
    assert words in caught.value.problem


def test_fixture_reply_with_fault_hold_and_distributions() -> None:
    spec = parse_fixture(
        {
            "name": "ok",
            "reply": {
                "ttft_ms": {"lognormal": {"median": 200, "sigma": 0.3}},
                "chunk_ms": {"uniform": [5, 15]},
                "fault": {"type": "stall", "after_events": 3},
                "hold": {"timeout_ms": 500},
                "error": {"status": 502, "body": {"detail": "bad gateway"}},
            },
        }
    ).replies[0]
    assert spec.timing.ttft_ms == faults.LogNormal(200, 0.3)
    assert spec.chunk_ms == 10.0  # the nominal value kept for readers of the float
    assert spec.fault == Stall(after_events=3)
    assert spec.hold == faults.Hold(500)
    assert spec.error is not None and spec.error.body == '{"detail":"bad gateway"}'
    assert spec.error.content_type == "application/json"
