"""The explainer: every mistake of a user-written document, word for word, as users meet them.

One table of typos across the four kinds of document (fixture files, fault rules, config files, control payloads),
each checked through the entry point a user goes through, and properties over the whole schemas: the explainer
agrees with the compiled validator, and "is not valid under any of the schemas" never reaches a user.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml

from mockgw.core.errors import ConfigError, FixtureError
from mockgw.core.explain import ONE_OF_NOISE, Issue, explain, render
from mockgw.fixtures.load import FILE_SCHEMA, load_file, parse_fixture
from mockgw.gateway.config import CONFIG_SCHEMA, Settings, read_config
from mockgw.gateway.fault_rules import parse_rules
from mockgw.server.runner import MockGateway
from tests.support.rawhttp import request

REPO = Path(__file__).resolve().parents[2]

# (id, config file, every line of the ConfigError after "mockgw.yaml")
CONFIG_TYPOS: list[tuple[str, str, list[str]]] = [
    (
        "after_event-in-a-rule",  # the issue's own example
        "faults:\n  - {fault: {type: cut, after_event: 3}}\n",
        [": faults[0].fault: unknown key 'after_event'; did you mean 'after_events'?"],
    ),
    ("top-level-key", "sede: 3\n", [": unknown key 'sede'; did you mean 'seed'?"]),
    (
        "enum-value",
        "stream_usage: final\n",
        [
            ": stream_usage: must be one of 'final_chunk', 'separate_chunk', got the string 'final'; "
            "did you mean 'final_chunk'?"
        ],
    ),
    (
        "nested-rate-limit",
        "keys:\n  - {key: sk-1, rate_limit: {request_per_minute: 5}}\n",
        [": keys[0].rate_limit: unknown key 'request_per_minute'; did you mean 'requests_per_minute'?"],
    ),
    (
        "fault-type",
        "faults:\n  - {name: down, fault: {type: eror, status: 503}}\n",
        [", fault rule 'down': faults[0].fault.type: unknown fault type 'eror'; did you mean 'error'?"],
    ),
    (
        "conversation-rule-name",
        "conversation_rules: {tool_calls_answerd: false}\n",
        [": conversation_rules: unknown key 'tool_calls_answerd'; did you mean 'tool_calls_answered'?"],
    ),
    (
        "clock-that-is-not-a-time",
        "clock: tomorrow\nseed: 1\n",
        [": clock: 'tomorrow' is not an ISO 8601 time such as 2026-01-01T00:00:00Z"],
    ),
    (
        "every-mistake-of-the-file",
        "strict: yes please\nseed: '3'\nfaults:\n  - {fault: {type: stall, after_event: 2}, probablity: 0.5}\n",
        [
            ": strict: expected true or false, got the string 'yes please'",
            ": seed: expected an integer, got the string '3'",
            ": faults[0].fault: unknown key 'after_event'; did you mean 'after_events'?",
            ": faults[0]: unknown key 'probablity'; did you mean 'probability'?",
        ],
    ),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CONFIG_TYPOS], ids=[c[0] for c in CONFIG_TYPOS])
def test_config_file_typos_word_for_word(tmp_path: Path, text: str, expected: list[str]) -> None:
    path = tmp_path / "mockgw.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        read_config(path)
    assert str(caught.value).splitlines() == [f"{path}{line}" for line in expected]
    assert [p.line() for p in caught.value.problems] == [f"{path}{line}" for line in expected]


# (id, one fixture in YAML, every line of the FixtureError after "fx.yaml")
FIXTURE_TYPOS: list[tuple[str, str, list[str]]] = [
    (
        "after_event-in-a-reply-fault",  # the issue's own example: the same words as in a config file's rule
        "{name: slow, reply: {fault: {type: cut, after_event: 3}}}",
        [", fixture 'slow': fixtures[0].reply.fault: unknown key 'after_event'; did you mean 'after_events'?"],
    ),
    (
        "reply-key",
        "{name: hi, reply: {contnt: hello}}",
        [", fixture 'hi': fixtures[0].reply: unknown key 'contnt'; did you mean 'content'?"],
    ),
    (
        "match-key",
        "{name: hi, match: {last_user_mesage: hi}, reply: {content: hello}}",
        [", fixture 'hi': fixtures[0].match: unknown key 'last_user_mesage'; did you mean 'last_user_message'?"],
    ),
    (
        "tool-call-key-in-a-second-reply",
        "{name: tool, replies: [{content: a}, {tool_calls: [{nme: get_weather}]}]}",
        [", fixture 'tool': fixtures[0].replies[1].tool_calls[0]: unknown key 'nme'; did you mean 'name'?"],
    ),
    (
        "finish-reason",
        "{name: stop, reply: {finish_reason: stp}}",
        [
            ", fixture 'stop': fixtures[0].reply.finish_reason: must be one of 'stop', 'length', 'tool_calls', "
            "'content_filter', got the string 'stp'; did you mean 'stop'?"
        ],
    ),
    (
        "latency-distribution",  # a oneOf of a number and two mappings: the branch meant is the `uniform` one
        "{name: jitter, reply: {delay_ms: {unifrom: [1, 2]}}}",
        [", fixture 'jitter': fixtures[0].reply.delay_ms: unknown key 'unifrom'; did you mean 'uniform'?"],
    ),
    (
        "reply-itself",
        "{name: none, repy: {content: x}}",
        [", fixture 'none': fixtures[0]: unknown key 'repy'; did you mean 'reply'?"],
    ),
    (
        "fault-type-in-a-fixture",
        "{name: cut, reply: {fault: {type: cutt, after_events: 1}}}",
        [", fixture 'cut': fixtures[0].reply.fault.type: unknown fault type 'cutt'; did you mean 'cut'?"],
    ),
]


@pytest.mark.parametrize(("fixture", "expected"), [c[1:] for c in FIXTURE_TYPOS], ids=[c[0] for c in FIXTURE_TYPOS])
def test_fixture_file_typos_word_for_word(tmp_path: Path, fixture: str, expected: list[str]) -> None:
    path = tmp_path / "fx.yaml"
    path.write_text(f"version: 1\nfixtures:\n  - {fixture}\n")
    with pytest.raises(FixtureError) as caught:
        load_file(path)
    assert str(caught.value).splitlines() == [f"{path}{line}" for line in expected]
    name = yaml.safe_load(fixture)["name"]
    assert (caught.value.source, caught.value.fixture) == (str(path), name)  # file, fixture and field
    assert caught.value.field_path == caught.value.problems[0].path.removeprefix("fixtures[0]").lstrip(".")


def test_the_same_typo_reads_the_same_in_a_config_rule_and_a_fixture(tmp_path: Path) -> None:
    config = tmp_path / "mockgw.yaml"
    config.write_text("faults:\n  - {fault: {type: cut, after_event: 3}}\n")
    fixtures = tmp_path / "fx.yaml"
    fixtures.write_text("version: 1\nfixtures:\n  - {name: slow, reply: {fault: {type: cut, after_event: 3}}}\n")
    with pytest.raises(ConfigError) as in_config:
        read_config(config)
    with pytest.raises(FixtureError) as in_fixture:
        load_file(fixtures)
    (from_config,) = in_config.value.problems
    (from_fixture,) = in_fixture.value.problems
    assert from_config.message == from_fixture.message == "unknown key 'after_event'; did you mean 'after_events'?"
    assert (from_config.path, from_fixture.path) == ("faults[0].fault", "fixtures[0].reply.fault")


# (id, rule payload as the handle takes it, every line of the FixtureError)
RULE_TYPOS: list[tuple[str, Any, list[str]]] = [
    (
        "schedule-key",
        {"fault": {"type": "reset"}, "nht": 2},
        ["<runtime>: unknown key 'nht'; did you mean 'nth'?"],
    ),
    (
        "latency-key",
        {"name": "slow", "fault": {"type": "latency", "ttft": 500}},
        ["<runtime>, fault rule 'slow': fault: unknown key 'ttft'; did you mean 'ttft_ms'?"],
    ),
    (
        "second-rule-of-a-list",
        [{"fault": {"type": "reset"}}, {"fault": {"type": "keepalive", "every_event": 2}}],
        ["<runtime>: [1].fault: unknown key 'every_event'; did you mean 'every_events'?"],
    ),
    (
        "required-key-of-the-type-named",  # the oneOf branch the user meant, by its `type`
        {"fault": {"type": "cut"}},
        ["<runtime>: fault: missing required key 'after_events' for type 'cut'"],
    ),
    (
        "key-no-type-takes",
        {"name": "drop", "fault": {"type": "reset", "colour": "red"}},
        ["<runtime>, fault rule 'drop': fault: unknown key 'colour' for type 'reset'; the keys are type"],
    ),
    (
        "error-status-and-key",
        {"faults": [{"fault": {"type": "error", "staus": 503}}]},
        ["<runtime>: faults[0].fault: unknown key 'staus'; did you mean 'status'?"],
    ),
]


@pytest.mark.parametrize(("payload", "expected"), [c[1:] for c in RULE_TYPOS], ids=[c[0] for c in RULE_TYPOS])
def test_fault_rule_typos_word_for_word(payload: Any, expected: list[str]) -> None:
    with pytest.raises(FixtureError) as caught:
        parse_rules(payload)
    assert str(caught.value).splitlines() == expected


@pytest.fixture(scope="module")
def gateway() -> Iterator[MockGateway]:
    with MockGateway(Settings(port=0)) as started:
        yield started


# (id, control route, payload, the 400's message, its param)
CONTROL_TYPOS: list[tuple[str, str, Any, str, str | None]] = [
    (
        "fixture-tool-call-arguments",
        "fixtures",
        {"name": "call", "reply": {"tool_calls": [{"name": "f", "argument": {}}]}},
        "POST /__mockgw/fixtures, fixture 'call': reply.tool_calls[0]: unknown key 'argument'; "
        "did you mean 'arguments'?",
        "reply.tool_calls[0]",
    ),
    (
        "fault-type-in-a-list",
        "faults",
        [{"fault": {"type": "reset"}}, {"fault": {"type": "stal", "after_events": 2}}],
        "POST /__mockgw/faults: [1].fault.type: unknown fault type 'stal'; did you mean 'stall'?",
        "[1].fault.type",
    ),
    (
        "after_event-under-faults",
        "faults",
        {"faults": [{"fault": {"type": "cut", "after_event": 3}}]},
        "POST /__mockgw/faults: faults[0].fault: unknown key 'after_event'; did you mean 'after_events'?",
        "faults[0].fault",
    ),
    (
        "fixture-document",
        "fixtures",
        {"version": 1, "fixtures": [{"name": "a", "reply": {"content": "x", "hold": {"timeout": 5}}}]},
        "POST /__mockgw/fixtures, fixture 'a': fixtures[0].reply.hold: unknown key 'timeout'; "
        "did you mean 'timeout_ms'?",
        "fixtures[0].reply.hold",
    ),
]


@pytest.mark.parametrize(
    ("route", "payload", "message", "param"), [c[1:] for c in CONTROL_TYPOS], ids=[c[0] for c in CONTROL_TYPOS]
)
def test_control_payload_typos_are_400s_word_for_word(
    gateway: MockGateway, route: str, payload: Any, message: str, param: str | None
) -> None:
    answer = request(gateway.port, "POST", "/__mockgw/" + route, payload, key=None)
    assert answer.status == 400
    code = "invalid_fixture" if route == "fixtures" else "invalid_fault"
    assert answer.error == {"code": code, "message": message, "type": "invalid_request_error", "param": param}


def test_there_are_at_least_fifteen_typo_cases() -> None:
    assert len(CONFIG_TYPOS) + len(FIXTURE_TYPOS) + len(RULE_TYPOS) + len(CONTROL_TYPOS) >= 15


def test_every_mistake_of_a_fixture_is_reported_at_once() -> None:
    with pytest.raises(FixtureError) as caught:
        parse_fixture(
            {
                "name": "many",
                "match": {"modle": "x", "system": {"regex": "(("}},
                "reply": {"content": 5, "tool_calls": [{"name": "f", "arguments": "{x"}]},
            }
        )
    assert str(caught.value).splitlines() == [
        "<runtime>, fixture 'many': match: unknown key 'modle'; did you mean 'model'?",
        "<runtime>, fixture 'many': reply.content: expected a string or null, got 5",
        "<runtime>, fixture 'many': match.system.regex: invalid regular expression: "
        "missing ), unterminated subpattern at position 1",
        "<runtime>, fixture 'many': reply.tool_calls[0].arguments: not valid JSON: "
        "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
    ]


@pytest.mark.parametrize(
    ("schema", "value", "issues"),
    [
        ({"oneOf": [{"required": ["a"]}, {"required": ["b"]}]}, {}, [((), "needs 'a' or 'b'")]),
        (
            {"oneOf": [{"required": ["a"]}, {"required": ["b"]}]},
            {"a": 1, "b": 2},
            [((), "give only one of 'a' or 'b', not both")],
        ),
        (
            {"oneOf": [{"type": "boolean"}, {"type": "object"}]},
            "yes",
            [((), "expected true or false or a mapping, got the string 'yes'")],
        ),
        (
            {
                "type": "object",
                "properties": {"a": {"type": "integer"}},
                "additionalProperties": False,
                "required": ["a"],
            },
            {"b": 1},
            [((), "unknown key 'b'; the keys are a"), ((), "missing required key 'a'")],
        ),
        (
            {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": 1},
            ["", 3],
            [((), "takes at most 1 item, got 2"), ((0,), "must not be empty"), ((1,), "expected a string, got 3")],
        ),
        ({"type": "number", "exclusiveMinimum": 0}, 0, [((), "must be more than 0, got 0")]),
        ({"const": 1}, True, [((), "must be 1, got true")]),
    ],
)
def test_the_walker_words(schema: dict[str, Any], value: Any, issues: list[tuple[tuple[Any, ...], str]]) -> None:
    assert explain(schema, value) == [Issue(path, message) for path, message in issues]


def test_paths_have_one_format() -> None:
    assert render(("fixtures", 2, "reply", "tool_calls", 0, "name")) == "fixtures[2].reply.tool_calls[0].name"
    assert render((1, "fault", "type")) == "[1].fault.type"
    assert render(()) == ""


# --- properties over the whole schemas: the walker agrees with the validator, and no oneOf noise ---------------


def _valid_documents() -> list[tuple[str, dict[str, Any], Any]]:
    """Every fixture file of the repository and a full config, with their schemas."""
    documents: list[tuple[str, dict[str, Any], Any]] = []
    for path in sorted(
        [*REPO.glob("fixtures/**/*.yaml"), *REPO.glob("examples/**/*.yaml"), *REPO.glob("tests/**/*.yaml")]
    ):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(document, dict) and "fixtures" in document:  # not a verdict matrix (`cells:`)
            documents.append((str(path.relative_to(REPO)), FILE_SCHEMA, document))
    config = {
        "seed": 1,
        "strict": True,
        "fixtures": ["fx"],
        "stream_usage": "final_chunk",
        "models": [{"id": "openai/gpt-4o", "providers": ["openai"], "created": 1}],
        "keys": [{"key": "k", "state": "active", "models": ["openai/*"], "rate_limit": {"requests_per_minute": 2}}],
        "rate_limit": {"tokens_per_minute": 100},
        "conversation_rules": {"tool_calls_answered": False},
        "faults": [
            {"name": "a", "fault": {"type": "cut", "after_events": 2, "rst": True}, "nth": [1, 2]},
            {"fault": {"type": "error", "status": 429, "retry_after": 1}, "every": 2, "match": {"model": "x/*"}},
            {"fault": {"type": "latency", "ttft_ms": {"lognormal": {"median": 5, "sigma": 0.2}}}, "probability": 0.5},
            {"fault": {"type": "keepalive", "every_events": 1}, "match": {"turn": {"min": 1}, "user": "hi"}},
        ],
    }
    documents.append(("config", CONFIG_SCHEMA, config))
    return documents


def _mutations(document: Any) -> Iterator[tuple[str, Any]]:
    """One mistake at a time: each key dropped, misspelt, and each value swapped for a list (or text) and for -1."""

    def walk(node: Any, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], str, Any]]:
        if isinstance(node, dict):
            for key, value in node.items():
                yield (*path, key), "drop", None
                yield (*path, key), "typo", None
                yield from walk(value, (*path, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from walk(value, (*path, index))
        yield path, "swap", [] if not isinstance(node, list) else "text"
        yield path, "negative", -1

    for path, how, value in walk(document, ()):
        if not path:
            continue
        changed = copy.deepcopy(document)
        parent = changed
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        if how == "drop":
            del parent[last]
        elif how == "typo":
            parent[last[:-1] + "x"] = parent.pop(last)
        else:
            parent[last] = value
        yield f"{how} {render(path)}", changed


def test_the_walker_agrees_with_the_validator_and_never_says_oneof_noise() -> None:
    checked = 0
    for name, schema, document in _valid_documents():
        validator = jsonschema_rs.validator_for(schema)
        assert validator.is_valid(document), name
        assert explain(schema, document) == [], name
        for how, changed in _mutations(document):
            issues = explain(schema, changed)
            assert bool(issues) == (not validator.is_valid(changed)), (name, how, json.dumps(changed)[:300], issues)
            assert not [i for i in issues if ONE_OF_NOISE in i.message], (name, how)
            checked += 1
    assert checked > 500


def test_no_message_of_the_tables_says_oneof_noise(tmp_path: Path) -> None:
    messages = [line for _, _, lines in CONFIG_TYPOS + FIXTURE_TYPOS + RULE_TYPOS for line in lines]
    messages += [message for _, _, _, message, _ in CONTROL_TYPOS]
    assert messages and not [m for m in messages if ONE_OF_NOISE in m or "oneOf" in m]
