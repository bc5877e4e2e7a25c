"""Each wire format's stream vocabulary, and the stream faults planned with it, on the dialects' real events."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mockgw.core.codec import event_data, event_name, half_event
from mockgw.core.errors import ApiError
from mockgw.core.reply import Reply, ReplyMeta, Usage
from mockgw.dialects import Dialect
from mockgw.dialects.chat import CHAT
from mockgw.dialects.messages import MESSAGES
from mockgw.dialects.responses import RESPONSES
from mockgw.faults import catalogue as faults
from mockgw.faults.kinds.error_event import ErrorEvent
from mockgw.faults.kinds.keepalive import KeepAlive
from mockgw.faults.kinds.malformed import Malformed
from mockgw.faults.kinds.no_done import NoDone
from mockgw.faults.kinds.no_finish_reason import NoFinishReason

DIALECTS = [CHAT, MESSAGES, RESPONSES]
REPLY = Reply("one two three", (), "length", Usage(5, 3))
META = ReplyMeta("x_abc123", 1_700_000_000, "m", include_usage=True)
NO_WAITS = faults.Drawn(0.0, 0.0, 0.0)
ERROR = ApiError(502, "provider_error", "upstream broke", "provider_error")
TERMINAL = {"chat": b"data: [DONE]\n\n", "messages": b"event: message_stop", "responses": b"event: response.completed"}


def events(dialect: Dialect) -> list[bytes]:
    return dialect.stream(REPLY, META)


def payload(event: bytes) -> Any:
    data = event_data(event)
    assert data is not None
    return json.loads(data)


def plan(dialect: Dialect, fault: faults.Fault) -> list[bytes]:
    return [part.data for part in faults.plan_stream(events(dialect), NO_WAITS, fault, dialect.codec).parts]


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.endpoint)
def test_exactly_the_last_event_is_terminal(dialect: Dialect) -> None:
    stream = events(dialect)
    assert [dialect.codec.is_terminal(e) for e in stream] == [False] * (len(stream) - 1) + [True]
    assert stream[-1].startswith(TERMINAL[dialect.endpoint])


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.endpoint)
def test_no_done_ends_without_the_terminal_event(dialect: Dialect) -> None:
    assert plan(dialect, NoDone()) == events(dialect)[:-1]


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        (
            CHAT,
            {"error": {"code": "provider_error", "message": "upstream broke", "type": "provider_error", "param": None}},
        ),
        (
            MESSAGES,
            {
                "type": "error",
                "error": {
                    "type": "provider_error",
                    "message": "upstream broke",
                    "code": "provider_error",
                    "param": None,
                },
            },
        ),
        (
            RESPONSES,
            {
                "type": "error",
                "sequence_number": 2,
                "code": "provider_error",
                "message": "upstream broke",
                "param": None,
            },
        ),
    ],
    ids=lambda d: getattr(d, "endpoint", ""),
)
def test_error_event_in_each_format(dialect: Dialect, expected: dict[str, Any]) -> None:
    event = dialect.codec.error_event(ERROR, 3)
    assert payload(event) == expected
    assert event_name(event) == (None if dialect is CHAT else "error")
    assert event.endswith(b"\n\n") and event.count(b"\n\n") == 1


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.endpoint)
def test_error_event_fault_replaces_event_k_and_ends_the_stream(dialect: Dialect) -> None:
    sent = plan(dialect, ErrorEvent(at_event=3, message="upstream broke"))
    assert sent[:2] == events(dialect)[:2]
    assert sent[2] == dialect.codec.error_event(ERROR, 3)
    assert len(sent) == 3


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.endpoint)
def test_malformed_keeps_the_framing_and_breaks_the_json(dialect: Dialect) -> None:
    original = events(dialect)[2]
    bad = plan(dialect, Malformed(at_event=3))[2]
    assert event_name(bad) == event_name(original)
    assert bad.endswith(b"\n\n") and bad.count(b"\n\n") == 1
    data = event_data(bad)
    assert data is not None and data.startswith(b"{")
    with pytest.raises(json.JSONDecodeError):
        json.loads(data)


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.endpoint)
def test_cut_mid_event_sends_the_event_line_and_half_the_data(dialect: Dialect) -> None:
    original = events(dialect)[3]
    half = half_event(original)
    assert original.startswith(half) and b"data: {" in half and not half.endswith(b"\n")
    assert half.count(b"\n") == (0 if dialect is CHAT else 1)  # Anthropic/Responses: the whole `event:` line


def finish_signals(dialect: Dialect, stream: list[bytes]) -> list[Any]:
    """Where each format says why the answer ended."""
    found: list[Any] = []
    for event in stream:
        if dialect is CHAT and not dialect.codec.is_terminal(event):
            found.extend(choice["finish_reason"] for choice in payload(event)["choices"])
        elif dialect is MESSAGES and event_name(event) == "message_delta":
            found.append(payload(event)["delta"]["stop_reason"])
        elif dialect is RESPONSES and event_name(event) == "response.completed":
            response = payload(event)["response"]
            found.append((response["status"], response["incomplete_details"]))
    return found


@pytest.mark.parametrize(
    ("dialect", "before", "after"),
    [
        (CHAT, "length", None),
        (MESSAGES, "max_tokens", None),
        (RESPONSES, ("completed", {"reason": "max_output_tokens"}), (None, None)),
    ],
    ids=lambda d: getattr(d, "endpoint", ""),
)
def test_no_finish_reason_empties_each_formats_finish_signal(dialect: Dialect, before: Any, after: Any) -> None:
    assert finish_signals(dialect, events(dialect))[-1] == before
    emptied = plan(dialect, NoFinishReason())
    assert set(map(repr, finish_signals(dialect, emptied))) == {repr(after)}
    changed = [i for i, (a, b) in enumerate(zip(events(dialect), emptied, strict=True)) if a != b]
    assert changed and (dialect is CHAT or changed == [len(emptied) - 2 if dialect is MESSAGES else len(emptied) - 1])


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.endpoint)
def test_keepalive_comments_never_follow_the_terminal_event(dialect: Dialect) -> None:
    sent = plan(dialect, KeepAlive(every_events=1))
    assert sent[-1] == events(dialect)[-1]
    assert sent.count(faults.KEEPALIVE) == len(events(dialect)) - 1
