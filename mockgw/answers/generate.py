"""Deterministic generated answers: the same seed and the same request give the same answer.

Three kinds: plain text (`text`), tool-call arguments valid against the tool's `parameters` JSON Schema
(`arguments_for`) and JSON content for `response_format` (`structured`). Values are built from the schema's
keywords, then checked with the `jsonschema` library; a schema too exotic to satisfy still gets the best
attempt, with a warning the journal shows. Nothing here raises on a client's schema: a made-up answer is
never a 500.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import math
import random
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from fractions import Fraction
from typing import Any

import jsonschema_rs

from mockgw.answers import patterns
from mockgw.answers.budget import Budget, BudgetExceeded, Limits
from mockgw.core.conversation import Conversation, Tool
from mockgw.core.frozen import frozen
from mockgw.fixtures.load import GenerateSpec

MAX_DEPTH = 5  # nesting beyond which only required properties, minItems and null branches are generated
MAX_NESTING = 64  # nesting that only a schema requiring itself without end reaches (answered 400)
ATTEMPTS = 8  # fresh draws tried before settling for a value the schema refuses
JSON_OBJECT_WORDS = 12  # words in the `answer` of a `json_object` reply
TOOL_CHOICE_NAMED = ("function", "tool")  # OpenAI names the function, Anthropic the tool
TOOL_CHOICE_ANY = ("required", "any")
DRAFTS = tuple(
    f"{base}/schema"
    for base in (
        "http://json-schema.org/draft-04",
        "http://json-schema.org/draft-06",
        "http://json-schema.org/draft-07",
        "https://json-schema.org/draft/2019-09",
        "https://json-schema.org/draft/2020-12",
    )
)

_WORDS = [
    "the",
    "a",
    "an",
    "of",
    "to",
    "in",
    "for",
    "on",
    "with",
    "as",
    "at",
    "by",
    "from",
    "about",
    "into",
    "over",
    "after",
    "model",
    "gateway",
    "request",
    "answer",
    "token",
    "stream",
    "test",
    "client",
    "server",
    "fixture",
    "message",
    "tool",
    "result",
    "value",
    "system",
    "user",
    "data",
    "response",
    "mock",
    "local",
    "quick",
    "simple",
    "clear",
    "steady",
    "bright",
    "careful",
    "small",
    "large",
    "new",
    "early",
    "late",
    "ready",
    "useful",
    "exact",
    "plain",
    "sends",
    "reads",
    "writes",
    "checks",
    "returns",
    "keeps",
    "makes",
    "takes",
    "gives",
    "shows",
    "finds",
    "builds",
    "runs",
    "waits",
    "answers",
    "today",
    "here",
    "there",
    "again",
    "always",
    "often",
    "never",
    "soon",
    "now",
    "then",
    "still",
    "also",
    "just",
    "only",
    "well",
]


def conversation_key(conv: Conversation) -> str:
    """A stable digest of what the model is asked (model, messages, tools), independent of ids and order of keys."""
    material = {
        "model": conv.model,
        "messages": [
            [m.role, m.text, [[c.name, c.arguments] for c in m.tool_calls], m.tool_call_id] for m in conv.messages
        ],
        "tools": [t.name for t in conv.tools],
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def request_rng(seed: int, conv: Conversation, salt: str = "") -> random.Random:
    """A generator seeded by the run's seed and the request's content."""
    return random.Random(f"{seed}:{salt}:{conversation_key(conv)}")


def text(rng: random.Random, words: int) -> str:
    """Plausible sentences of about `words` words."""
    out: list[str] = []
    sentence: list[str] = []
    for _ in range(max(1, words)):
        sentence.append(rng.choice(_WORDS))
        if len(sentence) >= rng.randint(6, 12):
            out.append(" ".join(sentence).capitalize() + ".")
            sentence = []
    if sentence:
        out.append(" ".join(sentence).capitalize() + ".")
    return " ".join(out)


_FILLER_WORDS = 200  # past this, a long string repeats its words (a 1 MiB minLength costs one join, not 170k draws)


def words_between(rng: random.Random, min_length: int, max_length: int | None) -> str:
    """Lower-case words, no punctuation, between `min_length` and `max_length` characters long."""
    value = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 4)))
    for _ in range(_FILLER_WORDS):
        if len(value) >= min_length:
            break
        value += " " + rng.choice(_WORDS)
    if len(value) < min_length:
        value = " ".join([value] * (min_length // (len(value) + 1) + 1))
    if max_length is not None and len(value) > max_length:
        value = value[:max_length]
        if len(value.rstrip()) >= min_length:
            value = value.rstrip()
    return value


# --- values for a JSON Schema -------------------------------------------------------------------------------


@frozen
class Generated:
    """A generated value and what is wrong with it (empty when the schema accepts it)."""

    value: Any
    warnings: tuple[str, ...] = ()


class _Unsatisfiable(ValueError):
    """The schema points somewhere this generator cannot follow (a remote or broken `$ref`)."""


def structured(schema: Any, rng: random.Random, budget: Budget | None = None) -> Any:
    """A value built to satisfy `schema` (best effort, unchecked; see `satisfying`).

    Raises BudgetExceeded when the value would break the budget's caps (default: 1 MiB, 20,000 values)."""
    return _Builder(schema, rng, budget or Budget()).value(schema, 0)


def arguments_for(schema: Mapping[str, Any], rng: random.Random, budget: Budget | None = None) -> Generated:
    """Arguments for a tool call: a JSON object valid against the tool's `parameters` (best effort), with the warnings;
    a schema that does not describe an object gives `{}`."""
    shaped = schema if "type" in schema else {"type": "object", **schema}  # `{}` means "no parameters"
    made = satisfying(schema, rng, shaped, budget)
    if isinstance(made.value, dict):
        return made
    return Generated({}, (*made.warnings, "the parameters schema does not describe an object; sent {}"))


def satisfying(schema: Any, rng: random.Random, build_from: Any = None, budget: Budget | None = None) -> Generated:
    """A value checked against `schema`: up to ATTEMPTS draws, else the first draw with the schema's complaint.

    Every draw spends from one budget: past its work cap, the first draw is sent (or BudgetExceeded raised when
    there is none)."""
    budget = budget or Budget()
    check = checker(schema)
    source = schema if build_from is None else build_from
    first: Generated | None = None
    for _ in range(ATTEMPTS):
        budget.new_draw()
        try:
            value = structured(source, rng, budget)
        except BudgetExceeded:
            if first is not None:  # an earlier draw is the best attempt there is
                return first
            raise
        except Exception as exc:  # a client's schema, however odd, must not turn into a 500
            return Generated({} if isinstance(source, Mapping) else None, (f"cannot generate for this schema: {exc}",))
        problems = check(value)
        if not problems:
            return Generated(value)
        if problems[0].startswith("invalid schema"):
            return Generated(value, (f"{problems[0]}; sent a best guess",))
        first = first or Generated(value, (f"generated value does not satisfy the schema: {problems[0]}",))
    assert first is not None
    return first


def checker(schema: Any) -> Callable[[Any], list[str]]:
    """A function listing what `schema` refuses in a value (formats checked), by the `jsonschema` library."""
    if isinstance(schema, Mapping) and "$schema" in schema and str(schema["$schema"]).rstrip("#") not in DRAFTS:
        schema = {k: v for k, v in schema.items() if k != "$schema"}  # unknown dialects are read as 2020-12
    # imported here: the pure-Python jsonschema is a large share of start-up that only client schemas need
    import jsonschema
    import referencing
    from jsonschema.validators import Draft202012Validator

    try:
        jsonschema_rs.meta.validate(schema)  # the same check as `cls.check_schema`, in Rust
        cls = _time_limited(jsonschema.validators.validator_for(schema, default=Draft202012Validator))
        # an empty registry: a client's `$ref` to a URL must never make mockgw fetch it
        validator = cls(schema, format_checker=cls.FORMAT_CHECKER, registry=referencing.Registry())
    except Exception as exc:
        message = f"invalid schema: {getattr(exc, 'message', exc)}"
        return lambda value: [message]

    def problems(value: Any) -> list[str]:
        try:
            errors = sorted(validator.iter_errors(value), key=lambda e: list(map(str, e.absolute_path)))
        except Exception as exc:  # unresolvable $ref, unknown type and the like
            return [f"invalid schema: {exc}"]
        return [f"{e.json_path}: {e.message}" for e in errors]

    return problems


@functools.cache
def _time_limited(cls: Any) -> Any:
    """`cls` with `pattern` searched under regexes' time limit (the client's pattern, our `re` would backtrack)."""
    import jsonschema

    def pattern(validator: Any, expected: str, instance: Any, schema: Any) -> Iterator[Any]:
        if validator.is_type(instance, "string") and not patterns.matches(expected, instance):
            yield jsonschema.ValidationError(f"{instance!r} does not match {expected!r}")

    return jsonschema.validators.extend(cls, {"pattern": pattern})


_NUMBER_MIN = ("minimum", "minLength", "minItems", "minProperties", "exclusiveMinimum", "minContains")
_NUMBER_MAX = ("maximum", "maxLength", "maxItems", "maxProperties", "exclusiveMaximum", "maxContains")
_OBJECT_KEYS = ("properties", "required", "additionalProperties", "patternProperties", "minProperties")
_ARRAY_KEYS = ("items", "prefixItems", "minItems", "maxItems", "contains", "uniqueItems")
_STRING_KEYS = ("minLength", "maxLength", "pattern", "format")
_NUMERIC_KEYS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
_SPAN = 100  # width of a numeric range bounded on one side only


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Both schemas' constraints in one (as far as a simple merge can say it), for allOf and picked branches."""
    out = dict(base)
    for key, value in extra.items():
        if key not in out:
            out[key] = value
        elif key == "properties" and isinstance(value, Mapping) and isinstance(out[key], Mapping):
            out[key] = {**out[key], **value}
        elif key == "required" and isinstance(value, list) and isinstance(out[key], list):
            out[key] = list(dict.fromkeys([*out[key], *value]))
        elif key == "type":
            mine = out[key] if isinstance(out[key], list) else [out[key]]
            theirs = value if isinstance(value, list) else [value]
            both = [t for t in theirs if t in mine or (t == "integer" and "number" in mine)]
            both += ["integer" for t in theirs if t == "number" and "integer" in mine and "integer" not in both]
            out[key] = both or value
        elif key in _NUMBER_MIN and _is_number(value) and _is_number(out[key]):
            out[key] = max(out[key], value)
        elif key in _NUMBER_MAX and _is_number(value) and _is_number(out[key]):
            out[key] = min(out[key], value)
        else:
            out[key] = value
    return out


class _Builder:
    """Walks one schema with one generator; `root` resolves `$ref`s."""

    def __init__(self, root: Any, rng: random.Random, budget: Budget) -> None:
        self.root = root
        self.rng = rng
        self.budget = budget
        self.path: list[str | int] = []  # where in the schema the builder is (for BudgetExceeded)

    def value(self, schema: Any, depth: int) -> Any:
        if depth > MAX_NESTING:
            raise BudgetExceeded(
                self.path[:6],  # the first turns of the cycle
                f"{MAX_NESTING} levels of nesting",
                "the schema requires values nested without end (a $ref cycle through required properties or items)",
            )
        made = self._value(schema, depth)
        self.budget.spend(self.path, len(made) + 2 if isinstance(made, str) else 6)  # containers: their parts
        return made

    def at(self, keys: tuple[str | int, ...], schema: Any, depth: int) -> Any:
        """The value of `schema`, found under `keys` of the current one."""
        self.path.extend(keys)
        try:
            return self.value(schema, depth)
        finally:
            del self.path[len(self.path) - len(keys) :]

    def _value(self, schema: Any, depth: int) -> Any:
        if schema is False:
            raise _Unsatisfiable("the schema is `false`: no value is valid")
        if not isinstance(schema, Mapping):
            return words_between(self.rng, 1, None)
        schema = self.resolve(schema)
        if "const" in schema:
            return copy.deepcopy(schema["const"])
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return copy.deepcopy(self.rng.choice(schema["enum"]))
        if isinstance(schema.get("allOf"), list):
            merged = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                merged = _merge(merged, self.resolve(part) if isinstance(part, Mapping) else {})
            return self._value(merged, depth)
        for key in ("oneOf", "anyOf"):
            if isinstance(schema.get(key), list) and schema[key]:
                rest = {k: v for k, v in schema.items() if k != key}
                branch = self.branch(schema[key], depth)
                return self._value(_merge(rest, self.resolve(branch) if isinstance(branch, Mapping) else {}), depth)
        kind = self.kind(schema, depth)
        if kind == "object":
            return self.object(schema, depth)
        if kind == "array":
            return self.array(schema, depth)
        if kind == "string":
            return self.string(schema)
        if kind in ("integer", "number"):
            return self.number(schema, kind == "integer")
        if kind == "boolean":
            return self.rng.random() < 0.5
        return None

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        """Follow local `$ref`s (`#/$defs/…`, `#/definitions/…`, any JSON pointer); siblings of `$ref` still apply."""
        for _ in range(32):
            ref = schema.get("$ref")
            if not isinstance(ref, str):
                return schema
            target = self.pointer(ref)
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        raise _Unsatisfiable("`$ref` chain too long")

    def pointer(self, ref: str) -> Mapping[str, Any]:
        if not ref.startswith("#"):
            raise _Unsatisfiable(f"only local references are followed, not {ref!r}")
        node: Any = self.root
        for part in filter(None, ref[1:].split("/")):
            key = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, Mapping) and key in node:
                node = node[key]
            elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            else:
                raise _Unsatisfiable(f"`$ref` {ref!r} points nowhere")
        if node is True:
            return {}
        if not isinstance(node, Mapping):
            raise _Unsatisfiable(f"`$ref` {ref!r} is not a schema")
        return node

    def branch(self, branches: list[Any], depth: int) -> Any:
        """A branch of anyOf/oneOf; deep down, a leaf branch (null or a scalar) so recursion ends."""
        if depth >= MAX_DEPTH:
            leaves = [b for b in branches if isinstance(b, Mapping) and "$ref" not in b and self.is_leaf(b)]
            if leaves:
                return leaves[0]
        return self.rng.choice(branches)

    @staticmethod
    def is_leaf(schema: Mapping[str, Any]) -> bool:
        kind = schema.get("type")
        kinds = kind if isinstance(kind, list) else [kind]
        return "null" in kinds or not any(k in ("object", "array") for k in kinds)

    def kind(self, schema: Mapping[str, Any], depth: int) -> str:
        """The JSON type to generate: the one given, one of several (null now and then), or inferred."""
        declared = schema.get("type")
        kinds = [declared] if isinstance(declared, str) else [k for k in declared or () if isinstance(k, str)]
        if not kinds:
            if any(k in schema for k in _OBJECT_KEYS):
                return "object"
            if any(k in schema for k in _ARRAY_KEYS):
                return "array"
            if any(k in schema for k in _STRING_KEYS):
                return "string"
            return "number" if any(k in schema for k in _NUMERIC_KEYS) else "string"
        others = [k for k in kinds if k != "null"]
        if "null" in kinds and (not others or depth >= MAX_DEPTH or self.rng.random() < 0.25):
            return "null"
        return self.rng.choice(others)

    def object(self, schema: Mapping[str, Any], depth: int) -> dict[str, Any]:
        found = schema.get("properties")
        properties: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        required = [name for name in schema.get("required") or () if isinstance(name, str)]
        chosen = list(required)
        for name in properties:
            if name not in chosen and depth < MAX_DEPTH and self.rng.random() < 0.5:
                chosen.append(name)
        at_least = _whole_number(schema, "minProperties") or 0
        self.budget.ensure([*self.path, "minProperties"], at_least * 6, f"minProperties: {at_least}")
        spare = [name for name in properties if name not in chosen]
        while len(chosen) < at_least and spare:
            chosen.append(spare.pop(0))
        extra = schema.get("additionalProperties", True)
        counter = 1
        while len(chosen) < at_least and extra is not False:
            chosen.append(f"extra_{counter}")
            counter += 1
        at_most = _whole_number(schema, "maxProperties")
        if at_most is not None and len(chosen) > at_most:
            chosen = chosen[: max(at_most, len(required))]
        ordered = [name for name in properties if name in chosen] + [n for n in chosen if n not in properties]
        out = {}
        for name in ordered:
            self.budget.spend(self.path, len(name) + 4)
            out[name] = self.at(self.property_path(schema, name), self.property_schema(schema, name), depth + 1)
        dependent = schema.get("dependentRequired")
        if isinstance(dependent, Mapping):
            for name, needs in dependent.items():
                for need in needs if name in out else ():
                    if need not in out:
                        sub = self.property_schema(schema, need)
                        out[need] = self.at(self.property_path(schema, need), sub, depth + 1)
        return out

    @staticmethod
    def property_path(schema: Mapping[str, Any], name: str) -> tuple[str, ...]:
        properties = schema.get("properties")
        return ("properties", name) if isinstance(properties, Mapping) and name in properties else ("properties",)

    @staticmethod
    def property_schema(schema: Mapping[str, Any], name: str) -> Any:
        properties = schema.get("properties")
        if isinstance(properties, Mapping) and name in properties:
            return properties[name]
        for pattern, sub in (schema.get("patternProperties") or {}).items():
            if patterns.matches(pattern, name):
                return sub
        extra = schema.get("additionalProperties", True)
        return extra if isinstance(extra, Mapping) else {}

    def array(self, schema: Mapping[str, Any], depth: int) -> list[Any]:
        items = schema.get("items")
        prefix = schema.get("prefixItems")
        if isinstance(items, list):  # draft 4-2019: `items` as a tuple, `additionalItems` for the rest
            prefix, items = items, schema.get("additionalItems")
        prefix = prefix if isinstance(prefix, list) else []
        low = _whole_number(schema, "minItems") or 0
        high = _whole_number(schema, "maxItems")
        self.budget.ensure([*self.path, "minItems"], low * 2, f"minItems: {low}")
        if items is False:
            high = len(prefix) if high is None else min(high, len(prefix))
        if depth >= MAX_DEPTH:
            count = low
        else:
            upper = max(low, low + 3 if high is None else min(high, low + 3))
            count = self.rng.randint(min(max(low, 1), upper), upper)
        contains = schema.get("contains")
        out: list[Any] = []
        seen: set[str] = set()
        for index in range(count):
            sub = prefix[index] if index < len(prefix) else (items if isinstance(items, Mapping) else {})
            if index == 0 and isinstance(contains, Mapping):
                sub = _merge(self.resolve(sub), self.resolve(contains)) if isinstance(sub, Mapping) else contains
            where: tuple[str | int, ...] = ("prefixItems", index) if index < len(prefix) else ("items",)
            element = self.at(where, sub, depth + 1)
            for _ in range(10 if schema.get("uniqueItems") is True else 0):
                if _key(element) not in seen:
                    break
                element = self.at(where, sub, depth + 1)
            seen.add(_key(element))
            out.append(element)
        if isinstance(contains, Mapping) and not out and (high is None or high > 0):
            out.append(self.at(("contains",), contains, depth + 1))
        return out

    def string(self, schema: Mapping[str, Any]) -> str:
        low = _whole_number(schema, "minLength") or 0
        high = _whole_number(schema, "maxLength")
        self.budget.ensure([*self.path, "minLength"], low, f"minLength: {low}")
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            for _ in range(10):
                try:
                    value = patterns.sample(pattern, self.rng, self.budget.bytes_left)
                except patterns.TooLong as exc:
                    limit = f"{self.budget.limits.max_bytes} bytes"
                    raise BudgetExceeded([*self.path, "pattern"], limit, str(exc)) from None
                except (ValueError, re.error, RecursionError, OverflowError):
                    break
                if patterns.matches(pattern, value) and low <= len(value) <= (len(value) if high is None else high):
                    return value
        make = _FORMATS.get(str(schema.get("format")))
        if make is not None:
            value = make(self.rng)
            if low <= len(value) and (high is None or len(value) <= high):
                return value
        return words_between(self.rng, low, high)

    def number(self, schema: Mapping[str, Any], integer: bool) -> int | float:
        low, low_open = _bound(schema, "minimum", "exclusiveMinimum")
        high, high_open = _bound(schema, "maximum", "exclusiveMaximum")
        if low is None:
            low, low_open = (0.0 if high is None else min(0.0, high - _SPAN)), False
        if high is None:
            high, high_open = low + _SPAN, False
        step = _number(schema, "multipleOf")
        if integer or (step is not None and step.is_integer()):
            return self.whole(low, low_open, high, high_open, step or 1)
        if step is not None and step > 0:
            first, last = math.ceil(low / step), math.floor(high / step)
            start = self.rng.randint(first, max(first, last))
            # Not every k * step divides back to a whole number in floating point (the check validators make), so
            # walk out from a random k until one does: a few steps for steps like 0.01.
            for offset in range(400):
                for k in (start + offset, start - offset - 1):
                    if not first <= k <= last:
                        continue
                    for candidate in (round(k * step, 12), k * step):
                        if _inside(candidate, low, low_open, high, high_open) and (candidate / step).is_integer():
                            return candidate
            return 0 if _inside(0, low, low_open, high, high_open) else low
        value = round(self.rng.uniform(low, high), 2)
        return value if _inside(value, low, low_open, high, high_open) else (low + high) / 2

    def whole(self, low: float, low_open: bool, high: float, high_open: bool, step: float) -> int:
        """An integer multiple of `step` inside the bounds (integer multiples of p/q are multiples of p)."""
        first = math.floor(low) + 1 if low_open else math.ceil(low)
        last = math.ceil(high) - 1 if high_open else math.floor(high)
        stride = max(1, abs(Fraction(str(step)).numerator))
        k_first, k_last = -(-first // stride), last // stride
        if k_first > k_last:
            return first
        return self.rng.randint(k_first, k_last) * stride


def _whole_number(schema: Mapping[str, Any], key: str) -> int | None:
    value = schema.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(schema: Mapping[str, Any], key: str) -> float | None:
    value = schema.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _bound(schema: Mapping[str, Any], inclusive: str, exclusive: str) -> tuple[float | None, bool]:
    """The bound and whether it is open; `exclusiveMinimum: true` (draft 4) makes `minimum` open."""
    closed, opened = schema.get(inclusive), schema.get(exclusive)
    closed = closed if _is_number(closed) else None
    if opened is True:
        return closed, closed is not None
    if not _is_number(opened):
        return closed, False
    if closed is None:
        return opened, True
    tighter_open = opened >= closed if inclusive == "minimum" else opened <= closed
    return (opened, True) if tighter_open else (closed, False)


def _inside(value: float, low: float, low_open: bool, high: float, high_open: bool) -> bool:
    above = value > low if low_open else value >= low
    below = value < high if high_open else value <= high
    return above and below


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _date(rng: random.Random) -> str:
    return f"{rng.randint(2000, 2030):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _time(rng: random.Random) -> str:
    return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"


def _word(rng: random.Random) -> str:
    return rng.choice([w for w in _WORDS if len(w) > 2])


_FORMATS: dict[str, Callable[[random.Random], str]] = {
    "date": _date,
    "time": _time,
    "date-time": lambda rng: f"{_date(rng)}T{_time(rng)}",
    "email": lambda rng: f"{_word(rng)}.{_word(rng)}@example.com",
    "idn-email": lambda rng: f"{_word(rng)}@example.com",
    "uuid": lambda rng: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    "uri": lambda rng: f"https://example.com/{_word(rng)}/{rng.randint(1, 999)}",
    "iri": lambda rng: f"https://example.com/{_word(rng)}",
    "uri-reference": lambda rng: f"/{_word(rng)}/{rng.randint(1, 999)}",
    "hostname": lambda rng: f"{_word(rng)}.example.com",
    "ipv4": lambda rng: ".".join(str(rng.randint(1, 254)) for _ in range(4)),
    "ipv6": lambda rng: f"2001:db8::{rng.randint(1, 0xFFFF):x}",
    "duration": lambda rng: f"P{rng.randint(1, 30)}D",
    "json-pointer": lambda rng: f"/{_word(rng)}/{rng.randint(0, 9)}",
    "regex": lambda rng: "^[a-z]+$",
}


# --- which answer to make up --------------------------------------------------------------------------------


@frozen
class Answer:
    """A made-up answer: text or JSON content, or tool calls as (name, arguments JSON); warnings for the journal."""

    content: str | None
    tool_calls: tuple[tuple[str, str], ...] = ()
    warnings: tuple[str, ...] = ()


def implied_kind(conv: Conversation) -> str:
    """What the request asks for when no fixture says: a forced tool call, JSON content, or text."""
    choice = conv.tool_choice
    if choice is not None and conv.tools and (choice.mode in TOOL_CHOICE_ANY or choice.mode in TOOL_CHOICE_NAMED):
        return "tool_call"
    if choice is not None and choice.mode in TOOL_CHOICE_NAMED and choice.name:
        return "tool_call"
    kind = (conv.response_format or {}).get("type")
    return "json" if kind in ("json_schema", "json_object") else "text"


def response_schema(conv: Conversation) -> Mapping[str, Any] | None:
    """The schema the request asks the answer to follow, if any: chat's `response_format: {type: json_schema,
    json_schema: {schema}}`, or Responses' `text.format: {type: json_schema, schema}` (no `json_schema` level)."""
    form = conv.response_format or {}
    nested = form.get("json_schema")
    spec = (nested if isinstance(nested, Mapping) else form) if form.get("type") == "json_schema" else None
    schema = spec.get("schema") if isinstance(spec, Mapping) else None
    return schema if isinstance(schema, Mapping) else None


_RESPONSE_SCHEMA_AT = {"chat": "response_format.json_schema.schema", "responses": "text.format.schema"}
_TOOL_SCHEMA_AT = {"chat": "function.parameters", "messages": "input_schema", "responses": "parameters"}


def answer(
    conv: Conversation, seed: int, words: int, request: GenerateSpec | None = None, limits: Limits | None = None
) -> Answer:
    """The generated answer to `conv`, of the kind the fixture's `generate:` asks for or the request implies.

    Raises BudgetExceeded (its `prefix` set to where the schema is in the request) past the limits."""
    kind = request.kind if request is not None else implied_kind(conv)
    warnings: tuple[str, ...] = ()
    if kind == "tool_call":
        made = _tool_call(conv, seed, request.tool if request else None, limits)
        if made.tool_calls:
            return made
        warnings = made.warnings
    if kind == "json":
        from_fixture = request is not None and request.schema is not None
        schema = request.schema if request is not None and request.schema is not None else response_schema(conv)
        rng = request_rng(seed, conv, "json")
        if schema is None:
            value: Any = {"answer": text(rng, min(words, JSON_OBJECT_WORDS))}
        else:
            try:
                generated = satisfying(schema, rng, budget=Budget(limits))
            except BudgetExceeded as exc:
                exc.prefix = "generate.json_schema" if from_fixture else _RESPONSE_SCHEMA_AT.get(conv.endpoint, "")
                raise
            value, warnings = generated.value, (*warnings, *generated.warnings)
        return Answer(json.dumps(value, ensure_ascii=False, separators=(",", ":")), (), warnings)
    count = request.words if request is not None and request.words else words
    return Answer(text(request_rng(seed, conv), count), (), warnings)


def _tool_call(conv: Conversation, seed: int, named: str | None, limits: Limits | None) -> Answer:
    choice = conv.tool_choice
    if named is None and choice is not None and choice.mode in TOOL_CHOICE_NAMED:
        named = choice.name
    tool: Tool | None = next((t for t in conv.tools if t.name == named), None)
    if named is None and conv.tools:
        tool = conv.tools[0]
    if tool is None:
        if named:
            return Answer(None, ((named, "{}"),), (f"tool {named!r} is not among the tools offered; arguments {{}}",))
        return Answer(None, (), ("a tool call was asked for but the request offers no tools; generated text",))
    try:
        made = arguments_for(tool.parameters, request_rng(seed, conv, f"tool:{tool.name}"), Budget(limits))
    except BudgetExceeded as exc:
        exc.prefix = f"tools[{conv.tools.index(tool)}].{_TOOL_SCHEMA_AT.get(conv.endpoint, 'parameters')}"
        raise
    arguments = json.dumps(made.value, ensure_ascii=False, separators=(",", ":"))
    return Answer(None, ((tool.name, arguments),), tuple(f"tool {tool.name!r}: {w}" for w in made.warnings))
