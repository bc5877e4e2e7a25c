"""Reply templates: the syntax, rendering (JSON stays JSON) and load-time errors with file, fixture and field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mockgw.answers import build as replies
from mockgw.core.conversation import Conversation, Message, ToolCall
from mockgw.core.errors import FixtureError
from mockgw.fixtures import templates
from mockgw.fixtures.load import load_file, parse_fixture

CONV = Conversation(
    "chat",
    "openai/gpt-4o",
    (
        Message("user", 'weather in Paris, "quoted"\nplease'),
        Message("assistant", "", (ToolCall("call_1", "get_weather", "{}"),)),
        Message("tool", '{"temp": 18}', tool_call_id="call_1"),
    ),
    tags=("team-a", "ci"),
)


@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        ("plain", "plain"),
        ("{{ city }}", "Paris"),
        ("{{city}} / {{   city   }}", "Paris / Paris"),
        ("Model {{ request.model }} tags {{ request.tags }}", "Model openai/gpt-4o tags team-a,ci"),
        ("via {{ request.endpoint }}", "via chat"),
        ("Result: {{ tool_result }}", 'Result: {"temp": 18}'),
        ("You said: {{ last_user_message }}", 'You said: weather in Paris, "quoted"\nplease'),
        ("literal {{ '{{' }} braces }}", "literal {{ braces }}"),
        ("{{ missing_optional }}!", "!"),
    ],
)
def test_render(text: str, rendered: str) -> None:
    template = templates.parse(text, known=("city", "missing_optional"))
    values = replies.template_values(CONV, {"city": "Paris"})
    assert template.render(values) == rendered


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{{ town }}", "unknown template name 'town'; known here: city, last_user_message, request.endpoint"),
        ("{{ city", "malformed placeholder at '{{ city': write {{ name }}, or {{ '{{' }} for a literal '{{'"),
        ("{{ 1x }}", "malformed placeholder at '{{ 1x }}'"),
        ("{{ a b }}", "malformed placeholder"),
    ],
)
def test_parse_errors(text: str, problem: str) -> None:
    with pytest.raises(templates.TemplateError) as raised:
        templates.parse(text, known=("city",))
    assert str(raised.value).startswith(problem)


@pytest.mark.parametrize(
    "arguments",
    [
        {"query": "{{ last_user_message }}", "n": 3, "nested": {"list": ["{{ tool_result }}", True]}},
        json.dumps({"query": "{{ last_user_message }}", "n": 3, "nested": {"list": ["{{ tool_result }}", True]}}),
    ],
)
def test_inserted_values_keep_tool_arguments_valid_json(arguments: Any) -> None:
    fixture = parse_fixture(
        {"name": "t", "match": {}, "reply": {"tool_calls": [{"name": "search", "arguments": arguments}]}}
    )
    spec = replies.render_templates(fixture.replies[0], CONV, {})
    assert json.loads(spec.tool_calls[0].arguments) == {
        "query": 'weather in Paris, "quoted"\nplease',
        "n": 3,
        "nested": {"list": ['{"temp": 18}', True]},
    }


def test_arguments_without_placeholders_are_sent_as_written() -> None:
    fixture = parse_fixture(
        {"name": "t", "reply": {"tool_calls": [{"name": "f", "arguments": '{"a":  1}'}], "content": "hi"}}
    )
    spec = replies.render_templates(fixture.replies[0], CONV, {})
    assert spec is fixture.replies[0]
    assert spec.tool_calls[0].arguments == '{"a":  1}'


def test_captures_come_from_the_fixture_regexes() -> None:
    fixture = parse_fixture(
        {
            "name": "weather",
            "match": {"last_user_message": {"regex": r"weather in (?P<city>\w+)"}},
            "reply": {"content": "Sunny in {{ city }}.", "tool_calls": [{"name": "f", "arguments": {"c": "{{city}}"}}]},
        }
    )
    spec = replies.render_templates(fixture.replies[0], CONV, {"city": "Paris"})
    assert spec.content == "Sunny in Paris."
    assert spec.tool_calls[0].arguments == '{"c": "Paris"}'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agent.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("fixture_yaml", "field", "problem"),
    [
        (
            "{name: greet, match: {user: {regex: 'hi (?P<who>\\w+)'}}, reply: {content: 'Hi {{ whom }}'}}",
            "reply.content",
            "unknown template name 'whom'; known here: last_user_message, request.endpoint, request.model, "
            "request.tags, tool_result, who",
        ),
        (
            "{name: greet, replies: [{content: ok}, {tool_calls: [{name: f, arguments: {q: '{{ nope }}'}}]}]}",
            "replies[1].tool_calls[0].arguments",
            "q: unknown template name 'nope'",
        ),
        (
            '{name: greet, reply: {tool_calls: [{name: f, arguments: \'{"q": ["{{ x"]}\'}]}}',
            "reply.tool_calls[0].arguments",
            "q[0]: malformed placeholder",
        ),
        (
            "{name: greet, when_state: paid, reply: {content: ok}}",
            "when_state",
            "`when_state` needs `scenario: NAME`",
        ),
        (
            "{name: greet, set_state: paid, reply: {content: ok}}",
            "set_state",
            "`set_state` needs `scenario: NAME`",
        ),
        ("{name: greet, scenario: '', reply: {content: ok}}", "scenario", "must not be empty"),
        ("{name: greet, match: {turn: -1}, reply: {content: ok}}", "match.turn", "must be at least 0, got -1"),
        ("{name: greet, match: {turn: {min: 3, max: 1}}, reply: {content: ok}}", "match.turn", "min is greater"),
        (
            "{name: greet, match: {tool_result: {contains: a, regex: b}}, reply: {content: ok}}",
            "match.tool_result",
            "give at most one of equals, contains, regex",
        ),
        ("{name: greet, match: {tool: {regex: '(('}}, reply: {content: ok}}", "match.tool.regex", "invalid regular"),
        ("{name: greet, match: {endpoint: embeddings}, reply: {content: ok}}", "match.endpoint", ""),
    ],
)
def test_fixture_load_errors_name_file_fixture_and_field(
    tmp_path: Path, fixture_yaml: str, field: str, problem: str
) -> None:
    path = write(tmp_path, f"version: 1\nfixtures:\n  - {fixture_yaml}\n")
    with pytest.raises(FixtureError) as raised:
        load_file(path)
    error = raised.value
    assert (error.source, error.fixture, error.field_path) == (str(path), "greet", field)
    assert error.problem.startswith(problem)
    assert str(error).startswith(f"{path}, fixture 'greet': fixtures[0].{field}: ")
