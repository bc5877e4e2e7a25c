"""One explainer for every document a user writes (fixture files, fault rules, config files, control payloads).

`explain(schema, document)` walks the document along its JSON Schema and returns EVERY mistake, each as an `Issue`
(a path and a message) in one vocabulary:

- one path format everywhere: `faults[0].fault.after_events`, `fixtures[2].reply.tool_calls[0].name`;
- an unknown key names the nearest valid one (`unknown key 'after_event'; did you mean 'after_events'?`), and the
  "missing required key" that the same typo causes is not reported twice;
- a `oneOf` failure picks the branch the user meant (by its discriminating `const`, such as a fault's `type`, else
  by JSON type, shared keys and fewest errors) and says what is wrong inside it. The validator's "is not valid under
  any of the schemas" never reaches a user.

A `Problem` is an issue of one document named by its `source` (a file, or the request that sent it); its line is
`source: path: message`. Rules a schema cannot say (a regex compiles, arguments are JSON) are checked by the layer
that owns them, which reports them as Problems too, so every mistake of a document comes out at once.

The walker covers the JSON Schema keywords mockgw's own schemas use; `check()` compares it with the compiled
validator, so a schema keyword the walker does not know can never let a broken document through.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from mockgw.core.frozen import frozen

Part = str | int
Where = tuple[Part, ...]

# The wording a user must never see (the validator's own oneOf message); a test scans every message for it.
ONE_OF_NOISE = "is not valid under any of the schemas"


def render(path: Iterable[Part]) -> str:
    """`('faults', 0, 'fault', 'after_events')` as `faults[0].fault.after_events`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


@frozen
class Issue:
    """One mistake at `path` (parts of the document, from its root)."""

    path: Where
    message: str

    @property
    def where(self) -> str:
        return render(self.path)


@frozen
class Problem:
    """One mistake of a named document: `source: path: message`.

    `item` names the part of the document the mistake is in (a fixture's name, a fault rule's name, or `#2` when it
    has none) and `kind` what that part is (`fixture`, `fault rule`); `field` is the path inside that part. A named
    item shows in the line's source (`fx.yaml, fixture 'slow': fixtures[1].reply.delay_ms: ...`): with forty
    fixtures in a file, a name is found faster than an index.
    """

    source: str
    path: str
    message: str
    item: str | None = None
    field: str = ""
    kind: str = ""

    @property
    def where(self) -> str:
        """The source, with the item when it has a name."""
        if self.item and self.kind and not self.item.startswith("#"):
            return f"{self.source}, {self.kind} {self.item!r}"
        return self.source

    def line(self) -> str:
        return f"{self.where}: {self.path}: {self.message}" if self.path else f"{self.where}: {self.message}"

    def __str__(self) -> str:
        return self.line()


def problems_of(
    source: str, issues: Iterable[Issue], item: str | None = None, within: int = 0, kind: str = ""
) -> tuple[Problem, ...]:
    """The issues of one document as Problems; the first `within` parts of each path lead to `item` (a `kind`)."""
    return tuple(Problem(source, i.where, i.message, item, render(i.path[within:]), kind) for i in issues)


def lines(problems: Iterable[Problem]) -> str:
    return "\n".join(p.line() for p in problems)


# --- showing values -------------------------------------------------------------------------------------------------

_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}


def show(value: Any) -> str:
    """A value as a user wrote it, short: `'x'`, `5`, `true`, `null`, `a mapping`, `a list`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return repr(text)
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return repr(value)


def _got(value: Any) -> str:
    """What a value is, for "expected X, got Y" (a string says it is one: YAML quoting trips people up)."""
    if isinstance(value, str):
        return f"the string {show(value)}"
    return show(value)


def _quoted(names: Iterable[Any]) -> str:
    return ", ".join(repr(n) if isinstance(n, str) else json.dumps(n) for n in names)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    return type(value).__name__


def _is_type(value: Any, name: str) -> bool:
    kind = _json_type(value)
    return kind == name or (name == "number" and kind == "integer")


def _nearest(word: str, choices: Iterable[str]) -> str | None:
    import difflib  # only when a mistake is explained: serving a valid file does not import it

    found = difflib.get_close_matches(word, [c for c in choices if isinstance(c, str)], n=1, cutoff=0.6)
    return found[0] if found else None


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' * (count != 1)}"


# --- the walker -----------------------------------------------------------------------------------------------------


class _Walker:
    """Walks one document along one schema (with `$ref`s resolved against the schema's root)."""

    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.suggested: dict[Where, set[str]] = {}  # keys a did-you-mean named, per mapping

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        """The schema with its `$ref` (a local `#/...` pointer) followed, sibling keywords kept."""
        seen = 0
        while "$ref" in schema and seen < 32:
            target: Any = self.root
            for token in schema["$ref"].removeprefix("#").strip("/").split("/"):
                if token:
                    target = target[token.replace("~1", "/").replace("~0", "~")]
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
            seen += 1
        return schema

    def branches(self, options: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """The alternatives of a oneOf/anyOf, nested ones flattened (a rule's fault: the fault oneOf or error...)."""
        flat: list[Mapping[str, Any]] = []
        for option in options:
            option = self.resolve(option)
            nested = option.get("oneOf") or option.get("anyOf")
            rest = {k for k in option if k not in ("oneOf", "anyOf", "description", "title")}
            if nested and not rest:
                flat.extend(self.branches(nested))
            else:
                flat.append(option)
        return flat

    def walk(self, schema: Any, value: Any, at: Where) -> list[Issue]:
        if schema is True or schema is None:
            return []
        if schema is False:
            return [Issue(at, "is not allowed here")]
        schema = self.resolve(schema)
        if "type" in schema:
            allowed = [schema["type"]] if isinstance(schema["type"], str) else list(schema["type"])
            if not any(_is_type(value, t) for t in allowed):
                return [Issue(at, f"expected {_either(allowed)}, got {_got(value)}")]
        issues: list[Issue] = []
        if "const" in schema and not _same(value, schema["const"]):
            issues.append(Issue(at, f"must be {json.dumps(schema['const'])}, got {_got(value)}"))
        if "enum" in schema and not any(_same(value, option) for option in schema["enum"]):
            issues.append(Issue(at, _enum_message(value, schema["enum"])))
        if isinstance(value, Mapping):
            issues += self.mapping(schema, value, at)
        elif isinstance(value, list | tuple):
            issues += self.array(schema, value, at)
        elif isinstance(value, str):
            issues += _string(schema, value, at)
        elif _is_type(value, "number"):
            issues += _number(schema, value, at)
        if "oneOf" in schema or "anyOf" in schema:
            issues += self.one_of(schema, value, at)
        for sub in schema.get("allOf", ()):
            issues += self.walk(sub, value, at)
        return issues

    def mapping(self, schema: Mapping[str, Any], value: Mapping[str, Any], at: Where) -> list[Issue]:
        issues: list[Issue] = []
        properties: Mapping[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        patterns: Mapping[str, Any] = schema.get("patternProperties", {})
        required = [k for k in schema.get("required", ()) if k not in value]
        suggested: set[str] = set()
        for key, item in value.items():
            if key in properties:
                issues += self.walk(properties[key], item, (*at, key))
                continue
            matching = [p for p in patterns if isinstance(key, str) and re.search(p, key)]
            if matching:
                for pattern in matching:
                    issues += self.walk(patterns[pattern], item, (*at, key))
            elif extra is False:
                guess = _nearest(str(key), [*required, *properties]) if properties else None
                if guess is not None:
                    suggested.add(guess)
                    self.suggested.setdefault(at, set()).add(guess)
                    issues.append(Issue(at, f"unknown key {str(key)!r}; did you mean {guess!r}?"))
                elif properties:
                    issues.append(Issue(at, f"unknown key {str(key)!r}; the keys are {', '.join(properties)}"))
                else:
                    issues.append(Issue(at, f"unknown key {str(key)!r}; this mapping takes no keys"))
            elif isinstance(extra, Mapping):
                issues += self.walk(extra, item, (*at, key))
        for key in required:
            if key not in suggested:  # the typo's did-you-mean already says it
                issues.append(Issue(at, f"missing required key {key!r}"))
        if "minProperties" in schema and len(value) < schema["minProperties"]:
            issues.append(Issue(at, _too_few_keys(schema, value)))
        if "maxProperties" in schema and len(value) > schema["maxProperties"]:
            most, names = schema["maxProperties"], list(schema.get("properties", {}))
            of = f" of {', '.join(names)}" if names else ""
            issues.append(Issue(at, f"give at most {_plural(most, 'key')}{of}, got {len(value)}: {_quoted(value)}"))
        return issues

    def array(self, schema: Mapping[str, Any], value: Sequence[Any], at: Where) -> list[Issue]:
        issues: list[Issue] = []
        if "minItems" in schema and len(value) < schema["minItems"]:
            issues.append(Issue(at, f"needs at least {_plural(schema['minItems'], 'item')}, got {len(value)}"))
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            issues.append(Issue(at, f"takes at most {_plural(schema['maxItems'], 'item')}, got {len(value)}"))
        items = schema.get("items")
        if isinstance(items, Mapping | bool):
            for index, item in enumerate(value):
                issues += self.walk(items, item, (*at, index))
        if schema.get("uniqueItems"):
            seen: list[Any] = []
            for index, item in enumerate(value):
                if any(_same(item, s) for s in seen):
                    issues.append(Issue((*at, index), f"{show(item)} is listed twice"))
                seen.append(item)
        return issues

    def one_of(self, schema: Mapping[str, Any], value: Any, at: Where) -> list[Issue]:
        """The mistakes inside the branch the user meant (never "not valid under any of the schemas")."""
        options = self.branches(schema.get("oneOf") or schema.get("anyOf") or ())
        results = [self.walk(option, value, at) for option in options]
        fitting = [option for option, issues in zip(options, results, strict=True) if not issues]
        if len(fitting) == 1 or (fitting and "anyOf" in schema):
            return []
        keys_only = all(set(o) == {"required"} and len(o["required"]) == 1 for o in options)
        if fitting:  # more than one fits a oneOf
            if keys_only:
                given = [o["required"][0] for o in fitting]
                return [Issue(at, f"give only one of {' or '.join(map(repr, given))}, not both")]
            return [Issue(at, "fits more than one of the allowed forms; " + _forms(options))]
        if keys_only:
            names = [o["required"][0] for o in options]
            if self.suggested.get(at, set()) & set(names):
                return []  # a did-you-mean already names the key
            return [Issue(at, f"needs {' or '.join(map(repr, names))}")]
        chosen = self.meant(options, results, value, at)
        return chosen if chosen is not None else [Issue(at, f"expected {_forms(options)}, got {_got(value)}")]

    def meant(
        self, options: list[Mapping[str, Any]], results: list[list[Issue]], value: Any, at: Where
    ) -> list[Issue] | None:
        """The issues of the branch the user meant, or None when no branch is even of the value's JSON type."""
        if isinstance(value, Mapping):
            key = _discriminator(options)
            if key is not None:
                kinds = {o["properties"][key]["const"]: i for i, o in enumerate(options) if _const_of(o, key)}
                if key not in value:
                    return [Issue(at, f"missing required key {key!r}; use one of {_quoted(kinds)}")]
                given = value[key]
                if isinstance(given, str | int | float) and not isinstance(given, bool) and given in kinds:
                    return [_naming(issue, at, f"{key} {show(given)}") for issue in results[kinds[given]]]
                guess = _nearest(str(value[key]), kinds) if isinstance(value[key], str) else None
                hint = f"did you mean {guess!r}?" if guess else f"use one of {_quoted(kinds)}"
                what = f"{at[-1]} {key}" if at and isinstance(at[-1], str) else key  # `unknown fault type`
                return [Issue((*at, key), f"unknown {what} {show(value[key])}; {hint}")]
        typed = [i for i, option in enumerate(options) if _accepts_type(self.resolve(option), value)]
        if not typed:
            return None

        def score(index: int) -> tuple[int, int]:
            properties = self.resolve(options[index]).get("properties", {})
            shared = len(set(value) & set(properties)) if isinstance(value, Mapping) else 0
            return (-shared, len(results[index]))

        return results[min(typed, key=score)]


def _naming(issue: Issue, at: Where, branch: str) -> Issue:
    """An issue of the branch a discriminator picked, naming that branch where the words do not already show it:
    `missing required key 'after_events' for type 'cut'` (a did-you-mean needs no more)."""
    if issue.path != at or "did you mean" in issue.message:
        return issue
    if issue.message.startswith("missing required key "):
        return Issue(issue.path, f"{issue.message} for {branch}")
    if issue.message.startswith("unknown key ") and ";" in issue.message:
        head, tail = issue.message.split(";", 1)
        return Issue(issue.path, f"{head} for {branch};{tail}")
    return issue


def _either(types: Sequence[str]) -> str:
    names = [_TYPE_NAMES.get(t, t) for t in types if not (t == "integer" and "number" in types)]
    return " or ".join(names)


def _forms(options: Sequence[Mapping[str, Any]]) -> str:
    """The allowed forms of a oneOf, in words: `a number or a mapping`."""
    words: list[str] = []
    for option in options:
        if "const" in option:
            word = json.dumps(option["const"])
        elif "enum" in option:
            word = "one of " + _quoted(option["enum"])
        elif "type" in option:
            word = _either([option["type"]] if isinstance(option["type"], str) else option["type"])
        else:
            word = "a value"
        if word not in words:
            words.append(word)
    return " or ".join(words)


def _same(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1, 1 is 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return bool(a == b)


def _enum_message(value: Any, options: Sequence[Any]) -> str:
    guess = _nearest(value, [o for o in options if isinstance(o, str)]) if isinstance(value, str) else None
    hint = f"; did you mean {guess!r}?" if guess else ""
    return f"must be one of {_quoted(options)}, got {_got(value)}{hint}"


def _too_few_keys(schema: Mapping[str, Any], value: Mapping[str, Any]) -> str:
    least = schema["minProperties"]
    names = list(schema.get("properties", {}))
    choice = f" ({', '.join(names)})" if names else ""
    return f"needs at least {_plural(least, 'key')}{choice}, got {len(value)}"


def _string(schema: Mapping[str, Any], value: str, at: Where) -> list[Issue]:
    issues: list[Issue] = []
    if "minLength" in schema and len(value) < schema["minLength"]:
        least = schema["minLength"]
        issues.append(Issue(at, "must not be empty" if least == 1 else f"needs at least {least} characters"))
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        issues.append(Issue(at, f"takes at most {schema['maxLength']} characters, got {len(value)}"))
    if "pattern" in schema and re.search(schema["pattern"], value) is None:
        issues.append(Issue(at, f"must match {schema['pattern']}, got {show(value)}"))
    return issues


def _number(schema: Mapping[str, Any], value: float, at: Where) -> list[Issue]:
    if isinstance(value, float) and not math.isfinite(value):
        return [Issue(at, f"must be a finite number, got {value}")]
    tests: list[tuple[str, Callable[[float, float], bool], str]] = [
        ("minimum", lambda v, b: v >= b, "must be at least {b}, got {v}"),
        ("maximum", lambda v, b: v <= b, "must be at most {b}, got {v}"),
        ("exclusiveMinimum", lambda v, b: v > b, "must be more than {b}, got {v}"),
        ("exclusiveMaximum", lambda v, b: v < b, "must be less than {b}, got {v}"),
    ]
    issues = []
    for keyword, holds, text in tests:
        if keyword in schema and not holds(value, schema[keyword]):
            issues.append(Issue(at, text.format(b=show(schema[keyword]), v=show(value))))
    if "multipleOf" in schema and (value / schema["multipleOf"]) % 1:
        issues.append(Issue(at, f"must be a multiple of {schema['multipleOf']}, got {show(value)}"))
    return issues


def _const_of(option: Mapping[str, Any], key: str) -> bool:
    prop = option.get("properties", {}).get(key)
    return isinstance(prop, Mapping) and "const" in prop


def _discriminator(options: Sequence[Mapping[str, Any]]) -> str | None:
    """The key whose `const` tells the object branches apart (`type` for faults), if there is one."""
    objects = [o for o in options if o.get("type") == "object" or "properties" in o]
    if len(objects) < 2:
        return None
    for key in objects[0].get("properties", {}):
        if all(_const_of(o, key) for o in objects):
            return str(key)
    return None


def _accepts_type(option: Mapping[str, Any], value: Any) -> bool:
    if "type" in option:
        types = [option["type"]] if isinstance(option["type"], str) else option["type"]
        return any(_is_type(value, t) for t in types)
    if "const" in option:
        return _json_type(option["const"]) == _json_type(value)
    if "enum" in option:
        return any(_json_type(o) == _json_type(value) for o in option["enum"])
    return True


# --- the entry points -----------------------------------------------------------------------------------------------


def explain(
    schema: Mapping[str, Any], document: Any, at: Where = (), root: Mapping[str, Any] | None = None
) -> list[Issue]:
    """Every mistake of `document` against `schema`, in document order (empty when it is valid).

    `at` is where the document sits in a larger one (its paths start there); `root` is the schema its `$ref`s
    point into (default: `schema` itself).
    """
    return _Walker(root or schema).walk(schema, document, at)


def check(validator: Any, schema: Mapping[str, Any], document: Any, at: Where = ()) -> list[Issue]:
    """`explain`, behind a compiled jsonschema_rs `validator` of the same schema: a valid document costs one
    compiled check, and a mistake the walker cannot word still comes out (in the validator's words, minus oneOf
    noise) rather than slipping through."""
    if validator.is_valid(document):
        return []
    issues = explain(schema, document, at)
    if issues:
        return issues
    fallback = []
    for error in validator.iter_errors(document):
        message = error.message
        if ONE_OF_NOISE in message:
            message = "does not match any of the allowed forms"
        fallback.append(Issue((*at, *error.instance_path), message))
    return fallback
