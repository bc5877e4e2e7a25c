"""Matching requests to fixtures: small pure matchers that say what failed, and the choice of a winner."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mockgw.conversation import Conversation, Message
from mockgw.fixtures import CountRange, Fixture, Match, TextMatch, ToolResultMatch
from mockgw.frozen import frozen

STARTED = "started"  # the state every scenario starts in


@frozen
class Mismatch:
    """One `match` key that did not hold: what the fixture expected and what the request had."""

    key: str
    expected: str
    actual: str

    def describe(self) -> str:
        return f"{self.key}: expected {self.expected}, got {self.actual}"


@frozen
class MatchResult:
    """The outcome of testing one fixture: the keys that failed, or the captures when all held."""

    fixture: Fixture
    mismatches: tuple[Mismatch, ...]
    captures: Mapping[str, str]

    @property
    def matched(self) -> bool:
        return not self.mismatches


@frozen
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


def _count(key: str, test: CountRange | None, count: int) -> Mismatch | None:
    if test is None or test.holds(count):
        return None
    return Mismatch(key, test.describe(), str(count))


def _role(role: str, test: TextMatch, conv: Conversation, captures: dict[str, str]) -> Mismatch | None:
    texts = [m.text for m in conv.messages if m.role == role]
    expected = f"{'an' if role == 'assistant' else 'a'} {role} message {test.describe()}"
    for text in reversed(texts):  # the latest matching message gives the captures
        found = test.search(text)
        if found is not None:
            captures.update(found)
            return None
    if not texts:
        return Mismatch(role, expected, f"no {role} message")
    if len(texts) == 1:
        return Mismatch(role, expected, _short(texts[0]))
    return Mismatch(role, expected, f"{len(texts)} {role} messages, none matching (the latest: {_short(texts[-1])})")


def answered_tool(conv: Conversation, message: Message) -> str | None:
    """The name of the tool a tool result answers, through the assistant call its tool_call_id names."""
    call = conv.tool_call_named(message.tool_call_id)
    return call.name if call else None


def _describe_last(conv: Conversation) -> str:
    if not conv.messages:
        return "no messages"
    return f"the last message is a {conv.messages[-1].role} message"


def _tool_result(test: ToolResultMatch | None, conv: Conversation, captures: dict[str, str]) -> Mismatch | None:
    if test is None:
        return None
    last = conv.last_tool_result
    if not test.present:
        return None if last is None else Mismatch("tool_result", "the last message is not a tool result", "it is")
    expected = "a tool result" + (f" for {test.name!r}" if test.name else "")
    expected += f" whose text is {test.text.describe()}" if test.text else ""
    if last is None:
        return Mismatch("tool_result", expected, _describe_last(conv))
    name = answered_tool(conv, last)
    if test.name is not None and name != test.name:
        actual = f"a result for {name!r}" if name else f"a result for unknown call {last.tool_call_id!r}"
        return Mismatch("tool_result", expected, actual)
    if test.text is not None:
        found = test.text.search(last.text)
        if found is None:
            return Mismatch("tool_result", expected, f"a result for {name!r} with text {_short(last.text)}")
        captures.update(found)
    return None


def _after_tool_call(name: str | None, conv: Conversation) -> Mismatch | None:
    if name is None:
        return None
    expected = f"the latest assistant message called {name!r}"
    assistant = next((m for m in reversed(conv.messages) if m.role == "assistant"), None)
    if assistant is None:
        return Mismatch("after_tool_call", expected, "no assistant message yet")
    called = [call.name for call in assistant.tool_calls]
    if name in called:
        return None
    return Mismatch("after_tool_call", expected, f"it called {called}" if called else "it called no tool")


def mismatches(match: Match, conv: Conversation, first_only: bool = False) -> tuple[list[Mismatch], dict[str, str]]:
    """Every key of `match` that `conv` fails, and the named regex captures of the keys that held.

    `first_only`: stop at the first group of keys that fails (enough to know the fixture loses); a fixture
    that matches gets the same (empty) list and captures either way."""
    failed: list[Mismatch] = []
    captures: dict[str, str] = {}
    # runs for every fixture on every request: keys the fixture does not use are skipped without a call
    if match.model is not None and not fnmatch.fnmatchcase(conv.model, match.model):
        failed.append(Mismatch("model", repr(match.model), repr(conv.model)))
    if match.stream is not None and match.stream != conv.stream:
        failed.append(Mismatch("stream", repr(match.stream), repr(conv.stream)))
    if match.endpoint is not None and match.endpoint != conv.endpoint:
        failed.append(Mismatch("endpoint", repr(match.endpoint), repr(conv.endpoint)))
    if first_only and failed:
        return failed, captures
    miss: Mismatch | None
    if match.turn is not None and (miss := _count("turn", match.turn, conv.turn)) is not None:
        failed.append(miss)
    if match.messages is not None and (miss := _count("messages", match.messages, len(conv.messages))) is not None:
        failed.append(miss)
    if match.tool_result is not None and (miss := _tool_result(match.tool_result, conv, captures)) is not None:
        failed.append(miss)
    if match.after_tool_call is not None and (miss := _after_tool_call(match.after_tool_call, conv)) is not None:
        failed.append(miss)
    for role, test in match.roles.items():
        if (miss := _role(role, test, conv, captures)) is not None:
            failed.append(miss)
    if match.last_user_message is not None:
        miss = _text("last_user_message", match.last_user_message, conv.last_user_message, captures)
        if miss is not None:
            failed.append(miss)
    if match.system is not None and (miss := _text("system", match.system, conv.system, captures)) is not None:
        failed.append(miss)
    if match.any_message is not None and (miss := _any_message(match, conv, captures)) is not None:
        failed.append(miss)
    if first_only and failed:
        return failed, captures
    if match.tools:
        offered = {tool.name for tool in conv.tools}
        if any(name not in offered for name in match.tools):
            failed.append(Mismatch("tools", f"offered {sorted(match.tools)}", f"offered {sorted(offered)}"))
    if match.tags and any(tag not in conv.tags for tag in match.tags):
        failed.append(Mismatch("tags", f"including {list(match.tags)}", repr(list(conv.tags))))
    for name, test in match.headers.items():
        header = _text(f"headers.{name}", test, conv.headers.get(name), captures)
        if header is not None:
            failed.append(header)
    if match.body is not None and not _subset(match.body, conv.body):
        failed.append(Mismatch("body", f"a body containing {_short(match.body)}", _short(dict(conv.body))))
    return failed, captures


def _fails_at_once(match: Match, conv: Conversation) -> bool:
    """The cheapest keys of `match` (model, stream, endpoint, tags; the same tests as `mismatches`) fail.

    Most losing fixtures lose on one of these: `select` skips them without building and describing a Mismatch."""
    return (
        (match.model is not None and not fnmatch.fnmatchcase(conv.model, match.model))
        or (match.stream is not None and match.stream != conv.stream)
        or (match.endpoint is not None and match.endpoint != conv.endpoint)
        or (bool(match.tags) and any(tag not in conv.tags for tag in match.tags))
    )


def progress_mismatches(fixture: Fixture, uses: Mapping[str, int], states: Mapping[str, str]) -> list[Mismatch]:
    """Where the session stands against the fixture: its `times` used up, or its scenario in another state."""
    failed: list[Mismatch] = []
    used = uses.get(fixture.name, 0)
    if fixture.times is not None and used >= fixture.times:
        failed.append(Mismatch("times", f"at most {fixture.times} uses", f"already used {used} times"))
    if fixture.scenario is not None and fixture.when_state is not None:
        state = states.get(fixture.scenario, STARTED)
        if state != fixture.when_state:
            failed.append(
                Mismatch("when_state", f"scenario {fixture.scenario!r} in state {fixture.when_state!r}", repr(state))
            )
    return failed


def select(
    fixtures: Sequence[Fixture],
    conv: Conversation,
    available: Callable[[Fixture], bool] | None = None,
    keep: int = 3,
    *,
    uses: Mapping[str, int] | None = None,
    states: Mapping[str, str] | None = None,
    ordered: bool = False,
) -> Selection:
    """The highest-priority fixture that matches (first loaded on a tie), and the nearest misses.

    `uses` (fixture name -> answers so far) and `states` (scenario -> state) are the session's progress: a fixture
    whose `times` are used up or whose scenario is elsewhere does not match, and says so in the near misses.
    `available` can exclude fixtures outright (they are not even near misses). `ordered=True`: `fixtures` are
    already highest priority first, load order on a tie (`GatewayState.fixtures_by_priority`).
    """
    if not ordered:
        fixtures = [f for _, f in sorted(enumerate(fixtures), key=lambda item: (-item[1].priority, item[0]))]
    uses, states = uses or {}, states or {}
    candidates = fixtures if available is None else [f for f in fixtures if available(f)]
    # a winner discards the losers: find it first without describing every key each loser fails
    for fixture in candidates:
        if _fails_at_once(fixture.match, conv):
            continue
        failed, captures = mismatches(fixture.match, conv, first_only=True)
        if not failed and not progress_mismatches(fixture, uses, states):
            return Selection(MatchResult(fixture, (), captures), ())
    losers: list[MatchResult] = []
    for fixture in candidates:  # no winner: every key each fixture fails, for the near misses
        failed, captures = mismatches(fixture.match, conv)
        failed.extend(progress_mismatches(fixture, uses, states))
        losers.append(MatchResult(fixture, tuple(failed), captures))
    losers.sort(key=lambda r: len(r.mismatches))  # stable: priority order breaks ties
    return Selection(None, tuple(losers[:keep]))


def near_miss_report(selection: Selection) -> str:
    """The strict-mode 404 message: the closest fixture, each key that failed (expected vs actual), the runners-up."""
    if not selection.near_misses:
        return "No fixture matches this request (no fixtures are loaded). Add a fixture whose `match` accepts it."
    closest, *others = selection.near_misses
    count = len(closest.mismatches)
    details = "; ".join(m.describe() for m in closest.mismatches)
    text = (
        f"No fixture matches this request. Closest: '{closest.fixture.name}' ({closest.fixture.source}), "
        f"{count} key{'s' if count != 1 else ''} failed: {details}."
    )
    if others:
        text += " Next: " + ", ".join(f"'{r.fixture.name}' ({len(r.mismatches)} failed)" for r in others) + "."
    return text


def near_misses_json(selection: Selection) -> list[dict[str, Any]]:
    return [
        {
            "fixture": result.fixture.name,
            "source": result.fixture.source,
            "mismatches": [{"key": m.key, "expected": m.expected, "actual": m.actual} for m in result.mismatches],
        }
        for result in selection.near_misses
    ]
