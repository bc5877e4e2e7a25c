"""The pure parts of record & replay: SSE splitting, repeats and names, the mode table, schema lookups."""

from __future__ import annotations

import pytest

from mockgw.record import cassette
from mockgw.record.capture import split_events
from mockgw.record.drift import documented
from mockgw.record.modes import decide


@pytest.mark.parametrize(
    ("buffer", "events", "rest"),
    [
        (b"data: a\n\ndata: b\n\ndata: c", [b"data: a\n\n", b"data: b\n\n"], b"data: c"),
        (
            b": keep-alive\r\n\r\nevent: x\r\ndata: y\r\n\r\n",
            [b": keep-alive\r\n\r\n", b"event: x\r\ndata: y\r\n\r\n"],
            b"",
        ),
        (b"data: a\r\rdata: b\r", [b"data: a\r\r"], b"data: b\r"),
        (b"data: a\r\n\r", [], b"data: a\r\n\r"),  # a CRLF blank line split across reads waits for its end
    ],
)
def test_events_are_split_verbatim_whatever_the_line_endings(buffer: bytes, events: list[bytes], rest: bytes) -> None:
    assert split_events(buffer) == (events, rest)
    assert b"".join(events) + rest == buffer


def test_repeats_become_replies_and_names_stay_unique() -> None:
    first = {"name": "chat-hi", "match": {"last_user_message": {"equals": "hi"}}, "reply": {"content": "1"}}
    second = {"name": "chat-hi", "match": {"last_user_message": {"equals": "hi"}}, "reply": {"content": "2"}}
    other = {"name": "chat-hi", "match": {"last_user_message": {"equals": "hi!"}}, "reply": {"content": "3"}}
    fixtures = cassette.add(cassette.add(cassette.add([], first), second), other)
    assert [f["name"] for f in fixtures] == ["chat-hi", "chat-hi-2"]
    assert fixtures[0]["replies"] == [{"content": "1"}, {"content": "2"}]


@pytest.mark.parametrize(
    ("mode", "matched", "existed", "forward", "record", "refused"),
    [
        ("proxy", True, True, True, False, False),
        ("all", True, True, True, True, False),
        ("new", True, False, False, False, False),
        ("new", False, True, True, True, False),
        ("once", False, False, True, True, False),
        ("once", True, True, False, False, False),
        ("once", False, True, False, False, True),
    ],
)
def test_the_modes(mode: str, matched: bool, existed: bool, forward: bool, record: bool, refused: bool) -> None:
    action = decide(mode, matched, existed)
    assert (action.forward, action.record, action.refuse is not None) == (forward, record, refused)


def test_documented_fields_come_from_the_published_schemas() -> None:
    assert documented("chat_response", "choices[].message.content").known
    assert documented("chat_response", "choices").required
    assert not documented("chat_response", "x_foreign_trace").known
    assert documented("chat_chunk#items", "[].choices[].delta.content").known
