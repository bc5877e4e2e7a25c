"""Matching requests to fixtures: small pure matchers that say what failed, and the choice of a winner."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mockgw.conversation import Conversation
from mockgw.fixtures import Fixture, Match, TextMatch


@dataclass(frozen=True)
class Mismatch:
    """One `match` key that did not hold: what the fixture expected and what the request had."""

    key: str
    expected: str
    actual: str

    def describe(self) -> str:
        return f"{self.key}: expected {self.expected}, got {self.actual}"


@dataclass(frozen=True)
class MatchResult:
    """The outcome of testing one fixture: the keys that failed, or the captures when all held."""

    fixture: Fixture
    mismatches: tuple[Mismatch, ...]
    captures: Mapping[str, str]

    @property
    def matched(self) -> bool:
        return not self.mismatches


@dataclass(frozen=True)
class Selection:
    """The winning fixture (if any) and the closest losers, for near-miss reports."""

    winner: MatchResult | None
    near_misses: tuple[MatchResult, ...]


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _text(key: str, test: TextMatch | None, text: str | None, captures: dict[str, str]) -> Mismatch | None:
    if test is None:
        return None
    found = test.search(text)
    if found is None:
        return Mismatch(key, test.describe(), _short(text))
    captures.update(found)
    return None


def _subset(expected: Any, actual: Any) -> bool:
    """True when `expected` is a JSON subset of `actual` (mappings by key, everything else by equality)."""
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            key in actual and _subset(value, actual[key]) for key, value in expected.items()
        )
    return bool(expected == actual)


def _any_message(match: Match, conv: Conversation, captures: dict[str, str]) -> Mismatch | None:
    if match.any_message is None:
        return None
    for message in conv.messages:
        found = match.any_message.search(message.text)
        if found is not None:
            captures.update(found)
            return None
    return Mismatch("any_message", match.any_message.describe(), f"{len(conv.messages)} messages, none matching")


def mismatches(match: Match, conv: Conversation) -> tuple[list[Mismatch], dict[str, str]]:
    """Every key of `match` that `conv` fails, and the named regex captures of the keys that held."""
    failed: list[Mismatch] = []
    captures: dict[str, str] = {}

    def check(result: Mismatch | None) -> None:
        if result is not None:
            failed.append(result)

    if match.model is not None and not fnmatch.fnmatchcase(conv.model, match.model):
        failed.append(Mismatch("model", repr(match.model), repr(conv.model)))
    if match.stream is not None and match.stream != conv.stream:
        failed.append(Mismatch("stream", repr(match.stream), repr(conv.stream)))
    check(_text("last_user_message", match.last_user_message, conv.last_user_message, captures))
    check(_text("system", match.system, conv.system, captures))
    check(_any_message(match, conv, captures))
    offered = {tool.name for tool in conv.tools}
    missing_tools = [name for name in match.tools if name not in offered]
    if missing_tools:
        failed.append(Mismatch("tools", f"offered {sorted(match.tools)}", f"offered {sorted(offered)}"))
    missing_tags = [tag for tag in match.tags if tag not in conv.tags]
    if missing_tags:
        failed.append(Mismatch("tags", f"including {list(match.tags)}", repr(list(conv.tags))))
    for name, test in match.headers.items():
        check(_text(f"headers.{name}", test, conv.headers.get(name), captures))
    if match.body is not None and not _subset(match.body, conv.body):
        failed.append(Mismatch("body", f"a body containing {_short(match.body)}", _short(dict(conv.body))))
    return failed, captures


def select(
    fixtures: Sequence[Fixture],
    conv: Conversation,
    available: Callable[[Fixture], bool],
    keep: int = 3,
) -> Selection:
    """The highest-priority available fixture that matches (first loaded on a tie), and the nearest misses."""
    ordered = sorted(enumerate(fixtures), key=lambda item: (-item[1].priority, item[0]))
    losers: list[MatchResult] = []
    for _, fixture in ordered:
        if not available(fixture):
            continue
        failed, captures = mismatches(fixture.match, conv)
        result = MatchResult(fixture, tuple(failed), captures)
        if result.matched:
            return Selection(result, ())
        losers.append(result)
    losers.sort(key=lambda r: len(r.mismatches))  # stable: priority order breaks ties
    return Selection(None, tuple(losers[:keep]))


def near_miss_report(selection: Selection) -> str:
    """A sentence naming the closest fixture and the keys that failed, for the strict-mode 404."""
    if not selection.near_misses:
        return "No fixture matches this request (no fixtures are loaded)."
    closest = selection.near_misses[0]
    details = "; ".join(m.describe() for m in closest.mismatches)
    return f"No fixture matches this request. Closest: '{closest.fixture.name}' ({details})."


def near_misses_json(selection: Selection) -> list[dict[str, Any]]:
    return [
        {
            "fixture": result.fixture.name,
            "mismatches": [{"key": m.key, "expected": m.expected, "actual": m.actual} for m in result.mismatches],
        }
        for result in selection.near_misses
    ]
