"""Fault rules: parsing and the pure, seeded choice of which rule fires."""

from __future__ import annotations

from typing import Any

import pytest

from mockgw.core.conversation import Conversation, Message
from mockgw.core.errors import FixtureError
from mockgw.faults import catalogue as faults
from mockgw.faults.kinds.close import Close
from mockgw.faults.kinds.cut import Cut
from mockgw.faults.kinds.error import ErrorFault
from mockgw.faults.kinds.latency import Latency
from mockgw.faults.kinds.reset import Reset
from mockgw.gateway.fault_rules import FaultRule, RuleCount, choose_fault, parse_rules

ERROR = ErrorFault(status=503)


def conv(text: str = "hi", stream: bool = False, model: str = "openai/gpt-4o") -> Conversation:
    return Conversation(endpoint="chat", model=model, messages=(Message("user", text),), stream=stream)


def run(rules: list[FaultRule], requests: int, seed: int = 0, request: Conversation | None = None) -> list[str | None]:
    counts: dict[str, RuleCount] = {}
    fired: list[str | None] = []
    for _ in range(requests):
        choice = choose_fault(rules, counts, request or conv(), seed)
        counts = dict(choice.counts)
        fired.append(choice.rule.name if choice.rule else None)
    return fired


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ({}, [1, 1, 1, 1, 1, 1]),
        ({"nth": (2, 5)}, [0, 1, 0, 0, 1, 0]),
        ({"every": 2}, [0, 1, 0, 1, 0, 1]),
        ({"times": 2}, [1, 1, 0, 0, 0, 0]),
        ({"every": 2, "times": 2}, [0, 1, 0, 1, 0, 0]),
        ({"probability": 0.0}, [0, 0, 0, 0, 0, 0]),
        ({"probability": 1.0}, [1, 1, 1, 1, 1, 1]),
    ],
)
def test_schedules(schedule: dict[str, Any], expected: list[int]) -> None:
    fired = run([FaultRule("r", ERROR, **schedule)], len(expected))
    assert [1 if name else 0 for name in fired] == expected


def test_probability_is_a_function_of_the_seed() -> None:
    rules = [FaultRule("coin", ERROR, probability=0.5)]
    first = run(rules, 40, seed=1)
    assert first == run(rules, 40, seed=1)
    assert first != run(rules, 40, seed=2)
    assert 5 < first.count("coin") < 35


def test_first_firing_rule_wins_and_every_matching_rule_counts() -> None:
    rules = [FaultRule("first", ERROR, times=1), FaultRule("second", Reset())]
    choice = choose_fault(rules, {}, conv(), 0)
    assert choice.rule is not None and choice.rule.name == "first"
    assert choice.counts == {"first": RuleCount(1, 1), "second": RuleCount(1, 0)}
    again = choose_fault(rules, choice.counts, conv(), 0)
    assert again.rule is not None and again.rule.name == "second"


def test_rules_match_like_fixtures() -> None:
    (rule,) = parse_rules({"match": {"model": "anthropic/*", "last_user_message": "boom"}, "fault": {"type": "close"}})
    assert choose_fault([rule], {}, conv("boom", model="anthropic/claude"), 0).fault == Close()
    missed = choose_fault([rule], {}, conv("boom"), 0)
    assert missed.fault is None and missed.counts == {}


def test_stream_faults_skip_json_requests() -> None:
    rule = FaultRule("cut", Cut(after_events=1))
    assert choose_fault([rule], {}, conv(stream=False), 0).counts == {}
    assert choose_fault([rule], {}, conv(stream=True), 0).fault == Cut(after_events=1)


def test_parse_rules_forms_and_defaults() -> None:
    rules = parse_rules(
        {
            "faults": [
                {"fault": {"type": "error", "status": 429, "retry_after": 2, "error_type": "rate_limit_error"}},
                {"name": "slow", "fault": {"type": "latency", "ttft_ms": {"uniform": [1, 2]}}, "nth": 3},
            ]
        },
        first_index=4,
    )
    assert [r.name for r in rules] == ["rule-5", "slow"]
    assert rules[0].fault == ErrorFault(status=429, retry_after=2, type="rate_limit_error")
    assert rules[1].nth == (3,)
    assert rules[1].fault == Latency(ttft_ms=faults.Uniform(1, 2))


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"fault": {"type": "nope"}}, "fault.type"),
        ({"fault": {"type": "error"}}, "fault"),
        ({"fault": {"type": "reset"}, "probability": 2}, "probability"),
        ({"fault": {"type": "reset"}, "match": {"colour": "red"}}, "match"),
        ({"match": {}}, ""),
    ],
)
def test_broken_rules_name_the_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(FixtureError) as caught:
        parse_rules(raw)
    assert caught.value.field_path == field
