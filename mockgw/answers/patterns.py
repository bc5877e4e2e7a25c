"""Strings that match a regular expression, drawn from a seeded generator (for JSON Schema `pattern`).

Walks the parse tree of Python's own regex parser. Literals, classes (`[a-z]`, `[^…]`, `\\d \\w \\s`), `.`,
groups, alternation, repeats and anchors are supported; back-references and look-arounds are not (the caller
checks the sample with `re.search` and falls back). Every repeat adds at most 3 to its minimum (`*`, `+`,
`{n,}`, `{0,1000000}`), and a long repeat (`a{1000000}`) is one sample repeated, not a million draws. A pattern
whose shortest match is longer than the caller allows raises TooLong before anything is built.
"""

from __future__ import annotations

import importlib
import random
import string
from typing import Any

from mockgw.core import regexes

# `re._parser` has no type stubs (and `sre_parse` warns it is deprecated), so it is reached as Any.
_PARSER: Any = importlib.import_module("re._parser")

_EXTRA_REPEATS = 3
_DRAWN_REPEATS = 64  # a repeat of more than this many copies repeats one drawn sample
_PRINTABLE = string.ascii_letters + string.digits + " -_.,:;!?@#/+="
_CATEGORY_CHARS = {
    "CATEGORY_DIGIT": string.digits,
    "CATEGORY_WORD": string.ascii_letters + string.digits + "_",
    "CATEGORY_SPACE": " ",
    "CATEGORY_NOT_DIGIT": string.ascii_letters + "_ -",
    "CATEGORY_NOT_WORD": " -.,:;!?@#/+=",
    "CATEGORY_NOT_SPACE": string.ascii_letters + string.digits,
}


class Unsupported(ValueError):
    """The pattern uses a construct this sampler cannot produce (back-reference, look-around, …)."""


class TooLong(Exception):
    """Every string the pattern matches is longer than the caller allows."""


def sample(pattern: str, rng: random.Random, max_length: int | None = None) -> str:
    """A string drawn to match `pattern`; raises Unsupported (or re.error for a broken pattern), and TooLong when
    the shortest match is longer than `max_length` characters."""
    parsed = _PARSER.parse(pattern)
    shortest = parsed.getwidth()[0]
    if max_length is not None and shortest > max_length:
        raise TooLong(f"pattern {_short(pattern)} matches only strings of {shortest} characters or more")
    return _sequence(parsed, rng)


def _short(pattern: str) -> str:
    return repr(pattern if len(pattern) <= 60 else pattern[:57] + "...")


def matches(pattern: str, value: str) -> bool:
    """JSON Schema's `pattern` semantics: a search, not a full match (with regexes' time limit)."""
    return regexes.matches(pattern, value)


def _sequence(items: Any, rng: random.Random) -> str:
    return "".join(_item(str(op), arg, rng) for op, arg in items)


def _item(op: str, arg: Any, rng: random.Random) -> str:
    if op == "LITERAL":
        return chr(arg)
    if op == "NOT_LITERAL":
        return rng.choice([c for c in _PRINTABLE if ord(c) != arg])
    if op == "ANY":
        return rng.choice(string.ascii_letters + string.digits)
    if op == "IN":
        return _class(arg, rng)
    if op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, high, items = arg
        count = rng.randint(low, max(low, min(high, low + _EXTRA_REPEATS)))
        if count > _DRAWN_REPEATS:
            return _sequence(items, rng) * count
        return "".join(_sequence(items, rng) for _ in range(count))
    if op == "SUBPATTERN":
        return _sequence(arg[-1], rng)
    if op == "ATOMIC_GROUP":
        return _sequence(arg, rng)
    if op == "BRANCH":
        return _sequence(rng.choice(arg[1]), rng)
    if op == "AT":
        return ""
    raise Unsupported(f"regex construct {op} is not supported")


def _class(items: Any, rng: random.Random) -> str:
    negated = any(str(op) == "NEGATE" for op, _ in items)
    if negated:
        allowed = [c for c in _PRINTABLE if not _in_class(items, c)]
        if not allowed:
            raise Unsupported("negated class excludes every printable character")
        return rng.choice(allowed)
    op, arg = rng.choice([item for item in items if str(item[0]) != "NEGATE"])
    op = str(op)
    if op == "LITERAL":
        return chr(arg)
    if op == "RANGE":
        return chr(rng.randint(arg[0], arg[1]))
    if op == "CATEGORY":
        return rng.choice(_CATEGORY_CHARS.get(str(arg), string.ascii_letters))
    raise Unsupported(f"class member {op} is not supported")


def _in_class(items: Any, char: str) -> bool:
    code = ord(char)
    for op, arg in items:
        name = str(op)
        if (name == "LITERAL" and arg == code) or (name == "RANGE" and arg[0] <= code <= arg[1]):
            return True
        if name == "CATEGORY" and char in _CATEGORY_CHARS.get(str(arg), ""):
            return True
    return False
