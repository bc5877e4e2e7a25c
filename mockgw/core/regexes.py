"""Regular expressions that cannot hang the server: every search has a time limit.

Fixture regexes (`match: {regex: ...}`, loaded from files or sent at run time) and the `pattern`s of a client's
JSON Schema are other people's patterns. Under Python's backtracking `re`, `^(a+)+$` against 25 characters takes
seconds, and each more character doubles it. So they are compiled with the `regex` package (the same syntax as
`re`) and searched with `timeout=`: a search that runs out of time fails (no match) and is reported to whoever
is collecting (the pipeline makes it a problem of the session).

Why not Google's RE2 (linear time, no timeout needed)? Measured on the bench's fixture regex
(`weather in (?P<city>\\w+)`): `re` 4 µs a search, `regex` with a timeout 16 µs, `google-re2` 58 µs (its Python
binding's cost); and RE2 refuses back-references, look-arounds and repeats over 1000 that fixtures may use today.
RE2 still serves as the linter: `mockgw check` reports the patterns RE2 refuses (`not_linear`), the ones that
rely on the time limit alone.
"""

from __future__ import annotations

import importlib
import re
from contextvars import ContextVar, Token
from typing import Any

TIMEOUT_S = 0.01  # CPU seconds per search: a fixture regex on a chat message takes microseconds
_TIMED_OUT: ContextVar[TimedOut | None] = ContextVar("mockgw_regex_timeouts", default=None)

Pattern = Any  # regex.Pattern (the package ships no type hints)


class error(ValueError):  # named like re.error, which it stands for
    """A pattern that does not compile, or repeats something more often than allowed.

    mockgw's own class, so that `regex` itself is imported only when a pattern is compiled: a server whose
    fixtures have no regex does not pay for the package at start-up (docs/bench.md)."""


MAX_COUNT = 1000  # counted repeats above this are refused in fixtures (as RE2 does): `regex` expands them
_PARSER: Any = importlib.import_module("re._parser")  # no type stubs


def compile(pattern: str) -> Pattern:
    """`pattern` compiled (raises `regexes.error` when it is broken, or repeats something over MAX_COUNT times:
    `regex` would take seconds to compile `a{1000000}`)."""
    count, _ = _shape(pattern)
    if count > MAX_COUNT:
        raise error(f"a repeat count of {count} is over the {MAX_COUNT} allowed")
    import regex

    try:
        return regex.compile(pattern, regex.VERSION0)
    except regex.error as exc:
        raise error(str(exc)) from None


def _shape(pattern: str) -> tuple[int, bool]:
    """The largest counted repeat of `pattern` and whether a repeat sits inside another (by `re`'s own parser,
    which neither expands repeats nor backtracks); raises `regexes.error` for a broken pattern."""
    try:
        parsed = _PARSER.parse(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        raise error(str(exc)) from None
    largest, nested = 0, False
    stack: list[tuple[Any, int]] = [(parsed, 0)]
    while stack:
        items, depth = stack.pop()
        for op, arg in items:
            name = str(op)
            if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                low, high, sub = arg
                largest = max(largest, low, 0 if high == _PARSER.MAXREPEAT else high)
                nested = nested or depth > 0
                stack.append((sub, depth + 1))
            elif name == "SUBPATTERN":
                stack.append((arg[-1], depth))
            elif name == "BRANCH":
                stack.extend((branch, depth) for branch in arg[1])
            elif name in ("ATOMIC_GROUP", "ASSERT", "ASSERT_NOT"):
                stack.append((arg if name == "ATOMIC_GROUP" else arg[1], depth))
    return largest, nested


class TimedOut(list[str]):
    """What timed out while collecting: one message per pattern and text (a second search of the same pair in the
    same request is not run again: it fails at once)."""

    # the (pattern, text hash) pairs that timed out: a set of its own from the first timeout on (one is made per
    # model request, and nearly all of them never see a timeout)
    seen: set[tuple[str, int]] | frozenset[tuple[str, int]] = frozenset()


def search(pattern: Pattern, text: str) -> Any:
    """`pattern.search(text)` within TIMEOUT_S; None on a timeout, which the active collector hears about."""
    collector = _TIMED_OUT.get()
    if collector is not None and collector.seen and (pattern.pattern, hash(text)) in collector.seen:
        return None
    try:
        return pattern.search(text, timeout=TIMEOUT_S)
    except TimeoutError:
        if collector is not None:
            collector.seen = {*collector.seen, (pattern.pattern, hash(text))}
            collector.append(
                f"regex {_short(pattern.pattern)} ran out of its {TIMEOUT_S * 1000:.0f} ms against a text of "
                f"{len(text)} characters, and was taken as not matching. Rewrite it without nested repeats "
                "(like (a+)+), which backtrack exponentially."
            )
        return None


def matches(pattern: str, text: str) -> bool:
    """JSON Schema's `pattern` semantics (a search) with the time limit; a broken pattern matches nothing.

    A client's schema may say `a{1000000}`: with no repeat inside another, `re` searches it without the
    exponential backtracking a time limit guards against (and compiles it at once); nested, it matches nothing."""
    try:
        compiled = _compiled(pattern)
    except error:
        return False
    if isinstance(compiled, re.Pattern):
        return compiled.search(text) is not None
    return search(compiled, text) is not None


_CACHE: dict[str, Pattern] = {}


def _compiled(pattern: str) -> Pattern:
    found = _CACHE.get(pattern)
    if found is None:
        if len(_CACHE) > 256:
            _CACHE.clear()
        count, nested = _shape(pattern)
        if count <= MAX_COUNT:
            found = compile(pattern)
        elif not nested:
            found = re.compile(pattern)
        else:
            raise error(f"a repeat count of {count} inside another repeat")
        _CACHE[pattern] = found
    return found


class collecting:  # lower case: used as `with regexes.collecting() as timed_out:`, like a function
    """Collect what timed out in this block (one message per timed-out pattern and text).

    A class, not a generator-based context manager: it wraps every model request (docs/bench.md)."""

    __slots__ = ("found", "token")
    found: TimedOut
    token: Token[TimedOut | None]

    def __enter__(self) -> TimedOut:
        self.found = TimedOut()
        self.token = _TIMED_OUT.set(self.found)
        return self.found

    def __exit__(self, *_: object) -> None:
        _TIMED_OUT.reset(self.token)


def not_linear(pattern: str) -> str | None:
    """Why RE2 (a linear-time engine) refuses `pattern`, or None when it takes it: a pattern it refuses needs
    backtracking (back-references, look-arounds, large counted repeats) and only the time limit bounds it."""
    try:
        import re2
    except ImportError:  # pragma: no cover - google-re2 is a dependency; a platform without a wheel skips the lint
        return None
    options = re2.Options()
    options.log_errors = False
    try:
        re2.compile(pattern, options)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        return detail.decode() if isinstance(detail, bytes) else str(detail)
    except Exception as exc:  # anything else RE2 cannot take
        return str(exc)
    return None


def _short(pattern: str) -> str:
    return repr(pattern if len(pattern) <= 60 else pattern[:57] + "...")
