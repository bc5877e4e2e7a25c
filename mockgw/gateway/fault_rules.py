"""Fault rules: which requests get which fault and when (nth, every, times, seeded probability), as pure choices.

A rule has a `match` (the same keys as a fixture's), a `fault` from the catalogue, and a schedule. The counters live
in the session's state; `choose_fault` takes them and returns the new ones, so a run is a pure function of the seed
and the order of the requests.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Mapping, Sequence
from dataclasses import field
from typing import Any

import jsonschema_rs

from mockgw.core import explain
from mockgw.core.conversation import Conversation
from mockgw.core.errors import FixtureError
from mockgw.core.explain import Issue, Problem, Where
from mockgw.core.frozen import frozen
from mockgw.faults import catalogue as faults
from mockgw.fixtures import check, matching
from mockgw.fixtures.load import Match, parse_match
from mockgw.fixtures.schema import FAULT_RULE, FILE_SCHEMA

RULE = "fault rule"
RULE_SCHEMA: dict[str, Any] = {**FAULT_RULE, "$defs": FILE_SCHEMA["$defs"]}


@functools.cache
def _rule_validator() -> Any:
    """Compiled on first use, so that importing mockgw stays fast."""
    return jsonschema_rs.validator_for(RULE_SCHEMA)


@frozen
class FaultRule:
    """Give `fault` to the requests `match` accepts, on the schedule given (all conditions must hold)."""

    name: str
    fault: faults.Fault
    match: Match = field(default_factory=Match)
    match_json: Mapping[str, Any] = field(default_factory=dict)  # `match` as written, for the listing
    nth: tuple[int, ...] = ()  # the 1-based numbers of the matching requests that fire
    every: int | None = None  # every k-th matching request fires
    times: int | None = None  # at most this many firings
    probability: float | None = None  # seeded chance of firing, per matching request
    source: str = "<runtime>"


@frozen
class RuleCount:
    """How many requests a rule has matched, and how many times it fired."""

    matched: int = 0
    fired: int = 0


@frozen
class Choice:
    """The rule that fired (if any), its fault, and every rule's counters afterwards."""

    rule: FaultRule | None
    fault: faults.Fault | None
    counts: Mapping[str, RuleCount]


NO_FAULT = Choice(None, None, {})  # no rule is active (counts are only read when a rule is)


def rule_issues(raw: Any, at: Where = ()) -> list[Issue]:
    """Every mistake of one rule object at `at` in its document (empty when it loads)."""
    match = raw.get("match") if isinstance(raw, Mapping) else None
    return explain.check(_rule_validator(), RULE_SCHEMA, raw, at) + check.match_issues(match, (*at, "match"))


def _label(raw: Any, index: int) -> str:
    name = raw.get("name") if isinstance(raw, Mapping) else None
    return name if isinstance(name, str) and name else f"#{index}"


def _build(raw: Mapping[str, Any], source: str, index: int) -> FaultRule:
    nth = raw.get("nth")
    return FaultRule(
        name=raw.get("name", f"rule-{index + 1}"),
        fault=faults.parse_fault(raw["fault"]),
        match=parse_match(raw.get("match", {})),
        match_json=raw.get("match", {}),
        nth=tuple(nth) if isinstance(nth, list) else ((nth,) if nth is not None else ()),
        every=raw.get("every"),
        times=raw.get("times"),
        probability=raw.get("probability"),
        source=source,
    )


def parse_rule(raw: Any, source: str = "<runtime>", index: int = 0) -> FaultRule:
    """One rule object, schema-checked; raises FixtureError with every mistake, naming the rule and the field."""
    problems = explain.problems_of(source, rule_issues(raw), _label(raw, index), kind=RULE)
    if problems:
        raise FixtureError.of(problems)
    return _build(raw, source, index)


def _items(raw: Any) -> tuple[list[Any], Where]:
    """The rules of a payload and where its list sits: a list, one rule, or `{faults: [...]}`."""
    if isinstance(raw, Mapping) and "faults" in raw and "fault" not in raw:
        return (raw["faults"] if isinstance(raw["faults"], list) else [raw["faults"]]), ("faults",)
    if isinstance(raw, list):
        return raw, ()
    return [raw], ()


def rules_problems(raw: Any, source: str = "<runtime>", first_index: int = 0, at: Where = ()) -> list[Problem]:
    """Every mistake of every rule of a payload (a list of rules, one rule, or `{faults: [...]}`)."""
    items, inside = _items(raw)
    listed = isinstance(raw, list) or bool(inside)
    problems: list[Problem] = []
    for index, item in enumerate(items):
        where = (*at, *inside, index) if listed else at
        found = rule_issues(item, where)
        problems += explain.problems_of(source, found, _label(item, first_index + index), len(where), RULE)
    return problems


def parse_rules(raw: Any, source: str = "<runtime>", first_index: int = 0, at: Where = ()) -> tuple[FaultRule, ...]:
    """A list of rules, one rule, or `{faults: [...]}`; raises FixtureError with every mistake of every rule.

    `at` is where the payload sits in a larger document (a config file's rules are at `faults`).
    """
    problems = rules_problems(raw, source, first_index, at)
    if problems:
        raise FixtureError.of(problems)
    items, _ = _items(raw)
    return tuple(_build(item, source, first_index + i) for i, item in enumerate(items))


def rule_rng(seed: int, session: str, rule: str, matched: int) -> random.Random:
    """The generator of one rule's decision for its n-th matching request: independent of every other request."""
    return random.Random(f"{seed}:fault:{session}:{rule}:{matched}")


def fires(rule: FaultRule, count: RuleCount, rng: random.Random) -> bool:
    """Whether the rule fires on its `count.matched`-th matching request (already counted)."""
    if rule.times is not None and count.fired >= rule.times:
        return False
    if rule.nth and count.matched not in rule.nth:
        return False
    if rule.every is not None and count.matched % rule.every != 0:
        return False
    return rule.probability is None or rng.random() < rule.probability


def choose_fault(
    rules: Sequence[FaultRule],
    counts: Mapping[str, RuleCount],
    conv: Conversation,
    seed: int,
    session: str = "",
) -> Choice:
    """The first rule (in order) that matches the request and fires; every matching rule counts the request."""
    updated = dict(counts)
    chosen: FaultRule | None = None
    for rule in rules:
        if not faults.applies(rule.fault, conv.stream):
            continue
        failed, _ = matching.mismatches(rule.match, conv)
        if failed:
            continue
        before = updated.get(rule.name, RuleCount())
        count = RuleCount(before.matched + 1, before.fired)
        if chosen is None and fires(rule, count, rule_rng(seed, session, rule.name, count.matched)):
            chosen = rule
            count = RuleCount(count.matched, count.fired + 1)
        updated[rule.name] = count
    return Choice(chosen, chosen.fault if chosen else None, updated)
