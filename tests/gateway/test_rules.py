"""The conversation rules: each one, broken and kept, with the param and message a user sees."""

from __future__ import annotations

import pytest

from mockgw.core.conversation import Conversation, Message, Tool, ToolCall, ToolChoice
from mockgw.gateway import conversation_rules as rules
from mockgw.gateway.config import enabled_rules, settings_from

CALL = ToolCall("call_1", "get_weather", "{}")
USER = Message("user", "weather?")
ASKS = Message("assistant", "", (CALL,))
ANSWER = Message("tool", "sunny", tool_call_id="call_1")
WEATHER = Tool("get_weather")


def conv(*messages: Message, tools: tuple[Tool, ...] = (), choice: ToolChoice | None = None) -> Conversation:
    return Conversation("chat", "openai/gpt-4o", messages, tools=tools, tool_choice=choice)


@pytest.mark.parametrize(
    "request_",
    [
        conv(USER),
        conv(USER, ASKS, ANSWER),
        conv(USER, ASKS, ANSWER, Message("assistant", "It is sunny."), Message("user", "thanks")),
        conv(
            USER,
            Message("assistant", "", (CALL, ToolCall("call_2", "get_time", "{}"))),
            Message("tool", "12:00", tool_call_id="call_2"),
            ANSWER,
        ),
        conv(USER, tools=(WEATHER,), choice=ToolChoice("function", "get_weather")),
        conv(USER, tools=(WEATHER,), choice=ToolChoice("required")),
        conv(USER, choice=ToolChoice("auto")),
        conv(USER, choice=ToolChoice("none")),
        conv(USER, tools=(WEATHER, Tool("get_time"))),
    ],
)
def test_conversations_the_providers_accept(request_: Conversation) -> None:
    assert rules.check(request_) is None


@pytest.mark.parametrize(
    ("request_", "param", "message_start"),
    [
        (
            conv(USER, ASKS, Message("user", "and?")),
            "messages[1].tool_calls[0].id",
            "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
            "'tool_call_id'. The following tool_call_ids did not have response messages: 'call_1'.",
        ),
        (
            conv(USER, ASKS),
            "messages[1].tool_calls[0].id",
            "An assistant message with 'tool_calls' must be followed",
        ),
        (
            conv(USER, ASKS, Message("assistant", "done")),
            "messages[1].tool_calls[0].id",
            "An assistant message with 'tool_calls' must be followed",
        ),
        (
            conv(USER, ASKS, ANSWER, Message("tool", "again", tool_call_id="call_9")),
            "messages[3].tool_call_id",
            "Invalid parameter: messages with role 'tool' must be a response to a preceding message with "
            "'tool_calls'. messages[3].tool_call_id is 'call_9'; the tool calls so far are: 'call_1'.",
        ),
        (
            conv(USER, Message("tool", "x", tool_call_id="call_1")),
            "messages[1].tool_call_id",
            "Invalid parameter: messages with role 'tool' must be a response to a preceding message with "
            "'tool_calls'. messages[1].tool_call_id is 'call_1'; the tool calls so far are: none.",
        ),
        (
            conv(USER, tools=(WEATHER,), choice=ToolChoice("function", "search")),
            "tool_choice",
            "Invalid value for 'tool_choice': tool 'search' is not among the tools offered ('get_weather').",
        ),
        (
            conv(USER, choice=ToolChoice("required")),
            "tool_choice",
            "Invalid value for 'tool_choice': 'required' is only allowed when 'tools' are specified.",
        ),
        (
            conv(USER, tools=(WEATHER, Tool("get_time"), WEATHER)),
            "tools[2].function.name",
            "Invalid 'tools': the tool name 'get_weather' is used by tools[0] and tools[2].",
        ),
    ],
)
def test_violations_are_400_invalid_request_at_the_message_at_fault(
    request_: Conversation, param: str, message_start: str
) -> None:
    error = rules.check(request_)
    assert error is not None
    assert (error.status, error.code, error.type, error.param) == (
        400,
        "invalid_request",
        "invalid_request_error",
        param,
    )
    assert error.message.startswith(message_start)


def test_unanswered_call_message_says_what_to_send() -> None:
    error = rules.tool_calls_answered(conv(USER, ASKS, Message("user", "and?")))
    assert error is not None
    assert error.message.endswith(
        "Send a message {role: 'tool', tool_call_id: 'call_1', content: ...} after messages[1]."
    )


@pytest.mark.parametrize(
    ("value", "enabled"),
    [
        (True, rules.RULE_NAMES),
        (False, ()),
        ({"tool_calls_answered": False}, ("tool_call_ids_known", "tool_choice_offered", "tool_names_unique")),
        ({"tool_names_unique": True}, rules.RULE_NAMES),
    ],
)
def test_config_turns_rules_on_and_off(value: bool | dict[str, bool], enabled: tuple[str, ...]) -> None:
    assert enabled_rules(value) == enabled
    assert settings_from({"conversation_rules": value}).conversation_rules == enabled


def test_a_disabled_rule_is_not_checked() -> None:
    broken = conv(USER, ASKS, Message("user", "and?"))
    assert rules.check(broken, enabled=("tool_call_ids_known",)) is None
