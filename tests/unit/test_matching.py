"""The conversation-position match keys, scenario progress and near-miss reports, table by table."""

from __future__ import annotations

from typing import Any

import pytest

from mockgw.core.conversation import Conversation, Message, ToolCall
from mockgw.fixtures import matching
from mockgw.fixtures.load import Fixture, parse_fixture

WEATHER_CALL = ToolCall("call_1", "get_weather", '{"city": "Paris"}')
TIME_CALL = ToolCall("call_2", "get_time", "{}")

FRESH = Conversation("chat", "openai/gpt-4o", (Message("system", "Be brief."), Message("user", "weather in Paris?")))
CALLED = Conversation(
    "chat",
    "openai/gpt-4o",
    (
        Message("system", "Be brief."),
        Message("user", "weather in Paris?"),
        Message("assistant", "", (WEATHER_CALL, TIME_CALL)),
        Message("tool", "18C and sunny", tool_call_id="call_1"),
        Message("tool", "12:00", tool_call_id="call_2"),
    ),
)
ANSWERED = Conversation(
    "messages",
    "anthropic/claude-sonnet-4",
    (
        *CALLED.messages,
        Message("assistant", "It is 18C in Paris."),
        Message("user", "thanks"),
    ),
)
ORPHAN = Conversation("chat", "openai/gpt-4o", (Message("user", "hi"), Message("tool", "x", tool_call_id="nope")))


def fixture(match: dict[str, Any], **extra: Any) -> Fixture:
    return parse_fixture({"name": "f", "match": match, "reply": {"content": "ok"}, **extra})


def failed(match: dict[str, Any], conv: Conversation) -> list[str]:
    return [m.describe() for m in matching.mismatches(fixture(match).match, conv)[0]]


@pytest.mark.parametrize(
    ("match", "conv"),
    [
        ({"turn": 0}, FRESH),
        ({"turn": 1}, CALLED),
        ({"turn": {"min": 1}}, ANSWERED),
        ({"turn": {"max": 0}}, FRESH),
        ({"turn": {"min": 1, "max": 2}}, ANSWERED),
        ({"messages": 2}, FRESH),
        ({"messages": {"min": 5, "max": 5}}, CALLED),
        ({"tool_result": True}, CALLED),
        ({"tool_result": False}, FRESH),
        ({"tool_result": {"name": "get_time"}}, CALLED),
        ({"tool_result": {"name": "get_time", "equals": "12:00"}}, CALLED),
        ({"tool_result": {"contains": "12"}}, CALLED),
        ({"tool_result": {"regex": r"^\d+:\d+$"}}, CALLED),
        ({"after_tool_call": "get_weather"}, CALLED),
        ({"after_tool_call": "get_time"}, CALLED),
        ({"user": "Paris"}, CALLED),
        ({"user": {"equals": "thanks"}}, ANSWERED),
        ({"assistant": {"contains": "18C"}}, ANSWERED),
        ({"tool": {"contains": "sunny"}}, CALLED),
        ({"endpoint": "chat"}, FRESH),
        ({"endpoint": "messages"}, ANSWERED),
        ({"turn": 1, "tool_result": {"name": "get_time"}, "after_tool_call": "get_weather"}, CALLED),
    ],
)
def test_match_keys_that_hold(match: dict[str, Any], conv: Conversation) -> None:
    assert failed(match, conv) == []


@pytest.mark.parametrize(
    ("match", "conv", "expected"),
    [
        ({"turn": 0}, CALLED, "turn: expected 0, got 1"),
        ({"turn": {"min": 2}}, CALLED, "turn: expected at least 2, got 1"),
        ({"turn": {"max": 0}}, ANSWERED, "turn: expected at most 0, got 2"),
        ({"turn": {"min": 3, "max": 4}}, ANSWERED, "turn: expected between 3 and 4, got 2"),
        ({"messages": 3}, FRESH, "messages: expected 3, got 2"),
        ({"tool_result": True}, FRESH, "tool_result: expected a tool result, got the last message is a user message"),
        ({"tool_result": True}, Conversation("chat", "m", ()), "tool_result: expected a tool result, got no messages"),
        ({"tool_result": False}, CALLED, "tool_result: expected the last message is not a tool result, got it is"),
        (
            {"tool_result": {"name": "get_weather"}},
            CALLED,
            "tool_result: expected a tool result for 'get_weather', got a result for 'get_time'",
        ),
        (
            {"tool_result": {"name": "get_time", "contains": "13"}},
            CALLED,
            "tool_result: expected a tool result for 'get_time' whose text is contains '13', "
            "got a result for 'get_time' with text '12:00'",
        ),
        (
            {"tool_result": {"name": "lookup"}},
            ORPHAN,
            "tool_result: expected a tool result for 'lookup', got a result for unknown call 'nope'",
        ),
        (
            {"after_tool_call": "search"},
            CALLED,
            "after_tool_call: expected the latest assistant message called 'search', "
            "got it called ['get_weather', 'get_time']",
        ),
        (
            {"after_tool_call": "get_weather"},
            ANSWERED,
            "after_tool_call: expected the latest assistant message called 'get_weather', got it called no tool",
        ),
        (
            {"after_tool_call": "get_weather"},
            FRESH,
            "after_tool_call: expected the latest assistant message called 'get_weather', got no assistant message yet",
        ),
        (
            {"user": "London"},
            CALLED,
            "user: expected a user message contains 'London', got 'weather in Paris?'",
        ),
        (
            {"assistant": "18C"},
            FRESH,
            "assistant: expected an assistant message contains '18C', got no assistant message",
        ),
        ({"developer": "x"}, FRESH, "developer: expected a developer message contains 'x', got no developer message"),
        ({"endpoint": "responses"}, FRESH, "endpoint: expected 'responses', got 'chat'"),
    ],
)
def test_match_keys_that_fail_say_expected_and_actual(match: dict[str, Any], conv: Conversation, expected: str) -> None:
    assert failed(match, conv) == [expected]


def test_role_and_tool_result_regexes_capture_for_templates() -> None:
    match = fixture({"user": {"regex": r"weather in (?P<city>\w+)"}, "tool_result": {"regex": r"(?P<hour>\d+):"}}).match
    assert matching.mismatches(match, CALLED) == ([], {"city": "Paris", "hour": "12"})


def test_times_used_up_is_a_near_miss_not_a_silent_skip() -> None:
    once = fixture({}, times=1)
    selection = matching.select([once], FRESH, uses={"f": 1})
    assert selection.winner is None
    assert [m.describe() for m in selection.near_misses[0].mismatches] == [
        "times: expected at most 1 uses, got already used 1 times"
    ]


@pytest.mark.parametrize(
    ("states", "wins"),
    [({}, False), ({"checkout": "started"}, False), ({"checkout": "paid"}, True), ({"other": "paid"}, False)],
)
def test_when_state_reads_the_session_scenarios(states: dict[str, str], wins: bool) -> None:
    paid = fixture({}, scenario="checkout", when_state="paid")
    selection = matching.select([paid], FRESH, states=states)
    assert (selection.winner is not None) is wins


def test_a_scenario_fixture_without_when_state_matches_in_any_state() -> None:
    mover = fixture({}, scenario="checkout", set_state="paid")
    assert matching.select([mover], FRESH, states={"checkout": "anything"}).winner is not None


def near(*fixtures: Fixture, conv: Conversation = CALLED, **progress: Any) -> str:
    return matching.near_miss_report(matching.select(fixtures, conv, **progress))


def test_near_miss_report_names_the_closest_fixture_word_for_word() -> None:
    final = parse_fixture(
        {
            "name": "weather-final-answer",
            "match": {"turn": 1, "tool_result": {"name": "get_weather"}},
            "reply": {"content": "x"},
        }
    )
    far = parse_fixture({"name": "greeting", "match": {"user": "hello", "turn": 0, "model": "x/*"}, "reply": {}})
    assert near(far, final) == (
        "No fixture matches this request. Closest: 'weather-final-answer' (<runtime>), 1 key failed: "
        "tool_result: expected a tool result for 'get_weather', got a result for 'get_time'. "
        "Next: 'greeting' (3 failed)."
    )


def test_near_miss_report_with_scenario_and_times() -> None:
    step = parse_fixture(
        {"name": "pay", "scenario": "checkout", "when_state": "cart", "times": 1, "match": {"turn": 0}, "reply": {}}
    )
    assert near(step, conv=FRESH, uses={"pay": 1}, states={"checkout": "paid"}) == (
        "No fixture matches this request. Closest: 'pay' (<runtime>), 2 keys failed: "
        "times: expected at most 1 uses, got already used 1 times; "
        "when_state: expected scenario 'checkout' in state 'cart', got 'paid'."
    )


def test_near_miss_report_without_fixtures() -> None:
    assert near() == (
        "No fixture matches this request (no fixtures are loaded). Add a fixture whose `match` accepts it."
    )


def test_near_misses_are_ranked_by_failed_keys_then_priority() -> None:
    two = parse_fixture({"name": "two", "priority": 5, "match": {"turn": 5, "messages": 1}, "reply": {}})
    one_low = parse_fixture({"name": "one-low", "match": {"turn": 5}, "reply": {}})
    one_high = parse_fixture({"name": "one-high", "priority": 1, "match": {"messages": 1}, "reply": {}})
    selection = matching.select([two, one_low, one_high], CALLED)
    assert [r.fixture.name for r in selection.near_misses] == ["one-high", "one-low", "two"]
    assert matching.near_misses_json(selection)[0] == {
        "fixture": "one-high",
        "source": "<runtime>",
        "mismatches": [{"key": "messages", "expected": "1", "actual": "5"}],
    }
