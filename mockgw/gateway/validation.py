"""Request validation against the generated JSON Schemas, turned into the gateway's 400 errors.

`Validators` compiles every request schema once (with the Rust `jsonschema_rs`); `check` answers `None` for a
valid body and otherwise one `ApiError` naming the most useful violation. `check_response` lists every
violation of a response document, for tests that assert the server's answers match the schemas.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from pkgutil import get_data
from typing import Any

import jsonschema_rs

from mockgw.core.errors import ApiError, invalid_request
from mockgw.gateway.compression import detect_format

REQUEST_KINDS: tuple[str, ...] = (
    "chat_request",
    "messages_request",
    "messages_count_tokens_request",
    "responses_request",
    "count_tokens_request",
    "compress_request",
)
RESPONSE_KINDS: tuple[str, ...] = (
    "chat_response",
    "chat_chunk",
    "error",
    "models",
    "messages_response",
    "responses_response",
    "count_tokens_response",
    "compress_response",
)
SCHEMA_NAMES: tuple[str, ...] = REQUEST_KINDS + RESPONSE_KINDS

FUNCTION_NAME_PATTERN = "^[a-zA-Z0-9_-]{1,64}$"
# Plain-language readings of the patterns the schemas use, appended to pattern violations.
PATTERN_HINTS: Mapping[str, str] = {
    FUNCTION_NAME_PATTERN: "letters, digits, underscores and dashes, at most 64 characters",
}

COMPRESS_KIND = "compress_request"
# The $defs each format detected on /v1/compress is validated against (gateway.compression.detect_format).
COMPRESS_BRANCHES: Mapping[str, str] = {
    "chat": "ChatCompletionRequest",
    "messages": "CreateMessageRequest",
    "responses": "ResponsesRequest",
}

# The request headers the OpenAPI types, with the values it allows (a boolean header is `true` or `false`).
# tests/gateway/test_header_rules.py checks this table against the vendored OpenAPI document.
HEADER_VALUES: Mapping[str, tuple[str, ...]] = {
    "x-edgee-debug": ("true", "false"),
    "x-edgee-compression-model": ("claude", "opencode", "cursor", "codex"),
}
# Leniency (docs/conformance.md): a boolean header's case is ignored, as `str(True)` in Python gives `True`.
_CASELESS_HEADERS = frozenset({"x-edgee-debug"})
_HEADER_NAMES = {"x-edgee-debug": "X-Edgee-Debug", "x-edgee-compression-model": "X-Edgee-Compression-Model"}

_COMBINATORS = ("AnyOf", "OneOfNotValid")
_JSON_TYPE_ARTICLES = {"array": "an array", "integer": "an integer", "object": "an object"}
_Path = tuple[str | int, ...]


def load_schema(name: str) -> dict[str, Any]:
    """The packaged schema `name` (e.g. `"chat_request"`), freshly parsed."""
    # the package's loader reads it (importlib.resources.files would also import its readers and zipfile: ~2 ms of
    # the first request after a start)
    data = get_data("mockgw.schemas", f"{name}.schema.json")
    if data is None:  # a loader that cannot read data files: not one Python's importers have
        raise FileNotFoundError(f"mockgw.schemas/{name}.schema.json")
    schema: dict[str, Any] = json.loads(data.decode("utf-8"))
    return schema


def json_type(value: Any) -> str:
    """The JSON type name of a decoded JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


def short_repr(value: Any, limit: int = 40) -> str:
    """A short quoted rendering of a received value for messages: strings as `'…'`, the rest as JSON."""
    if isinstance(value, str):
        text = value if len(value) <= limit else value[: limit - 1] + "…"
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_path(path: Iterable[str | int]) -> str:
    """`("messages", 2, "role")` → `messages[2].role`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def _types(violation: _Violation) -> list[str]:
    raw = violation.detail.get("types") or violation.detail.get("type") or []
    return [str(t) for t in (raw if isinstance(raw, list) else [raw])]


def _with_article(type_name: str) -> str:
    return _JSON_TYPE_ARTICLES.get(type_name, type_name if type_name == "null" else f"a {type_name}")


def _join(words: Sequence[str], last: str = "or") -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + f" {last} " + words[-1]


def _ordered_types(types: Iterable[str]) -> list[str]:
    order = ["string", "integer", "number", "boolean", "object", "array", "null"]
    unique = set(types)
    return [t for t in order if t in unique] + sorted(unique - set(order))


class _Violation:
    """One leaf violation, reduced to what the message needs."""

    __slots__ = ("detail", "instance", "kind", "path", "schema_path")

    def __init__(self, kind: str, path: _Path, instance: Any, detail: dict[str, Any], schema_path: _Path) -> None:
        self.kind = kind
        self.path = path
        self.instance = instance
        self.detail = detail
        self.schema_path = schema_path

    @classmethod
    def of(cls, error: Any) -> _Violation:
        kind = type(error.kind).__name__
        detail = {} if kind in _COMBINATORS else dict(error.kind.as_dict())
        return cls(kind, tuple(error.instance_path), error.instance, detail, tuple(error.schema_path))

    @property
    def param_path(self) -> _Path:
        """The instance path the error is about (a missing property counts as part of the path)."""
        if self.kind == "Required":
            return (*self.path, str(self.detail["property"]))
        return self.path


def _is_mismatch(violation: _Violation, at: _Path) -> bool:
    """A const/enum failure on the `type` property: the discriminator chose another branch."""
    return violation.kind in ("Enum", "Constant") and violation.path == (*at, "type")


def _options(violation: _Violation) -> list[Any]:
    if violation.kind == "Constant":
        return [violation.detail.get("expected_value")]
    return list(violation.detail.get("options", []))


def _branch_fit(violations: Sequence[_Violation], at: _Path) -> tuple[int, int, int, int]:
    """How well a failed `anyOf`/`oneOf` branch fits the instance (bigger is better)."""
    wrong_type = any(v.kind == "Type" and v.path == at for v in violations)
    mismatch = any(_is_mismatch(v, at) for v in violations)
    depth = max((len(v.param_path) for v in violations), default=0)
    return (0 if wrong_type else 1, 0 if mismatch else 1, depth, -len(violations))


def _leaves(error: Any) -> list[_Violation]:
    """The leaf violations under one error, descending into the best-fitting combinator branch."""
    kind = type(error.kind).__name__
    if kind not in _COMBINATORS or not list(error.kind.context):
        return [_Violation.of(error)]
    at: _Path = tuple(error.instance_path)
    branches = [[_Violation.of(e) for e in branch] for branch in error.kind.context]
    wrong = [[v for v in branch if v.kind == "Type" and v.path == at] for branch in branches]
    if all(wrong):
        # The value's JSON type fits no branch: one type error listing every accepted type.
        types = [t for found in wrong for v in found for t in _types(v)]
        return [_Violation("Type", at, error.instance, {"types": types}, tuple(error.schema_path))]
    fitting = [branch for branch, found in zip(branches, wrong, strict=True) if not found]
    tags = [[v for v in branch if _is_mismatch(v, at)] for branch in fitting]
    if all(tags):
        # Right type, but the `type` tag matches no branch: one enum error listing every accepted tag.
        options = list(dict.fromkeys(o for found in tags for v in found for o in _options(v)))
        first = tags[0][0]
        return [_Violation("Enum", first.path, first.instance, {"options": options}, first.schema_path)]
    best = max(range(len(branches)), key=lambda i: (_branch_fit(branches[i], at), -i))
    leaves: list[_Violation] = []
    for sub in error.kind.context[best]:
        leaves.extend(_leaves(sub))
    return leaves


def _ordinal(body: Any, path: _Path) -> tuple[int, ...]:
    """Where `path` sits in the received body, in document order (missing keys sort last)."""
    out: list[int] = []
    node = body
    for part in path:
        if isinstance(part, int):
            out.append(part)
            node = node[part] if isinstance(node, list) and part < len(node) else None
        elif isinstance(node, dict) and part in node:
            out.append(list(node).index(part))
            node = node[part]
        else:
            out.append(1 << 30)
            node = None
    return tuple(out)


_KIND_RANK = {"Required": 0, "Type": 1}


def _pick(violations: Sequence[_Violation], body: Any) -> _Violation:
    """The violation to report.

    The shallowest wins (like jsonschema's `best_match`), then a missing property before a wrong type before
    the rest, then the earliest in the received body. Combinators are already resolved to their best branch.
    """
    return min(
        violations,
        key=lambda v: (len(v.param_path), _KIND_RANK.get(v.kind, 2), _ordinal(body, v.param_path), v.kind),
    )


def _condition(schema: Mapping[str, Any], schema_path: _Path, instance: Any) -> str:
    """For a violation under `then`, the `if` condition in words (e.g. `when role is 'tool'`)."""
    if "then" not in schema_path:
        return ""
    cut = len(schema_path) - 1 - list(reversed(schema_path)).index("then")
    node: Any = schema
    try:
        for part in schema_path[:cut]:
            node = node[part]
        props = node["if"].get("properties", {})
    except (KeyError, IndexError, TypeError, AttributeError):
        return ""
    words = [
        f"'{name}' is {short_repr(instance[name])}" for name in props if isinstance(instance, dict) and name in instance
    ]
    return f" when {_join(words, 'and')}" if words else ""


def _describe(violation: _Violation, schema: Mapping[str, Any]) -> str:
    """A message a person can act on: what is wrong, what was received, what is allowed."""
    v = violation
    param = format_path(v.param_path)
    where = f"'{param}'" if param else "the request body"
    got = short_repr(v.instance)
    d = v.detail
    if v.kind == "Required":
        return f"Missing required parameter: {where}{_condition(schema, v.schema_path, v.instance)}."
    if v.kind == "Type":
        types = [_with_article(t) for t in _ordered_types(_types(v))]
        if v.instance is None:
            return f"Invalid type for {where}: expected {_join(types)}, got null."
        received = _with_article(json_type(v.instance))
        return f"Invalid type for {where}: expected {_join(types)}, got {received} ({got})."
    if v.kind == "Enum":
        options = [short_repr(o) for o in d.get("options", [])]
        if len(options) == 1:
            return f"Invalid value for {where}: {got} is not {options[0]}."
        return f"Invalid value for {where}: {got} is not one of {', '.join(options)}."
    if v.kind == "Constant":
        return f"Invalid value for {where}: {got} is not {short_repr(d.get('expected_value'))}."
    if v.kind == "Pattern":
        pattern = str(d.get("pattern"))
        hint = PATTERN_HINTS.get(pattern)
        return f"Invalid {where}: {got} does not match {pattern}" + (f" ({hint})." if hint else ".")
    if v.kind in ("MinItems", "MaxItems"):
        limit = int(d.get("limit", 0))
        bound = "at least" if v.kind == "MinItems" else "at most"
        noun = "item" if limit == 1 else "items"
        return f"{where[0].upper()}{where[1:]} must contain {bound} {limit} {noun}."
    if v.kind in ("MinLength", "MaxLength"):
        limit = int(d.get("limit", 0))
        bound = "at least" if v.kind == "MinLength" else "at most"
        return f"Invalid {where}: {got} must be {bound} {limit} character{'s' if limit != 1 else ''} long."
    bounds = {
        "Minimum": "less than the minimum of",
        "Maximum": "greater than the maximum of",
        "ExclusiveMinimum": "less than or equal to the exclusive minimum of",
        "ExclusiveMaximum": "greater than or equal to the exclusive maximum of",
    }
    if v.kind in bounds:
        return f"Invalid value for {where}: {got} is {bounds[v.kind]} {d.get('limit')}."
    return f"Invalid {where}: {got} does not satisfy the {v.kind} rule of the schema."


def _violations(validator: Any, schema: Mapping[str, Any], body: Any) -> list[_Violation]:
    leaves: list[_Violation] = []
    for error in validator.iter_errors(body):
        leaves.extend(_leaves(error))
    return leaves


class Validators:
    """Request schemas compiled once; `check` turns a body into `None` or one 400 `ApiError`."""

    def __init__(self, schemas: Mapping[str, Mapping[str, Any]], lazy: Iterable[str] = ()) -> None:
        """`schemas` compiled now; the packaged schemas named in `lazy` when first used (a server compiles only the
        schemas of the endpoints it is asked for: start-up, docs/bench.md)."""
        self._schemas = {kind: dict(schema) for kind, schema in schemas.items()}
        self._compiled = {kind: jsonschema_rs.Draft202012Validator(schema) for kind, schema in self._schemas.items()}
        self._kinds = tuple(dict.fromkeys((*self._compiled, *lazy)))
        for kind in list(self._schemas):
            self._add_branches(kind)

    def _add_branches(self, kind: str) -> None:
        # /v1/compress accepts a body valid in any of the three formats (the OpenAPI's anyOf) and auto-detects
        # which one it is (its description): a refused body is explained in the detected format's terms, not in
        # whichever branch of the anyOf failed last.
        if kind == COMPRESS_KIND:
            schema = self._schemas[kind]
            for fmt, name in COMPRESS_BRANCHES.items():
                branch = {k: v for k, v in schema.items() if k not in ("anyOf", "title", "description")}
                branch["$ref"] = f"#/$defs/{name}"
                self._schemas[f"{kind}#{fmt}"] = branch
                self._compiled[f"{kind}#{fmt}"] = jsonschema_rs.Draft202012Validator(branch)

    @classmethod
    def load(cls, kinds: Iterable[str] = REQUEST_KINDS) -> Validators:
        """Validators for the packaged request schemas (or the given schema names), compiled once per process.

        Validators hold no state between calls, so every server in a process (the pytest plugin starts
        several) can share them instead of compiling them again for each.
        """
        return _load_cached(tuple(kinds))

    @property
    def kinds(self) -> tuple[str, ...]:
        return self._kinds

    def _validator(self, kind: str) -> Any:
        validator = self._compiled.get(kind)
        if validator is None:
            if kind not in self._kinds:
                raise KeyError(kind)
            # two threads may compile the same schema once each: the same validator, either is kept
            self._schemas[kind] = load_schema(kind)
            self._add_branches(kind)
            validator = self._compiled[kind] = jsonschema_rs.Draft202012Validator(self._schemas[kind])
        return validator

    def check(self, kind: str, body: Any) -> ApiError | None:
        """`None` if `body` is valid for `kind`, else a 400 `invalid_request` naming the most useful one."""
        validator = self._compiled.get(kind) or self._validator(kind)  # compiled already: no call
        if validator.is_valid(body):
            return None
        branch = f"{kind}#{detect_format(body)}" if kind == COMPRESS_KIND and isinstance(body, dict) else ""
        if branch in self._compiled and not self._compiled[branch].is_valid(body):
            kind, validator = branch, self._compiled[branch]
        schema = self._schemas[kind]
        violations = _violations(validator, schema, body)
        if not violations:  # pragma: no cover - is_valid and iter_errors disagree
            return invalid_request("Invalid request.")
        best = _pick(violations, body)
        param = format_path(best.param_path) or None
        return invalid_request(_describe(best, schema), param)

    def messages(self, kind: str, body: Any) -> list[str]:
        """Every violation of `body` against `kind`, as messages (empty when valid)."""
        validator = self._validator(kind)
        if validator.is_valid(body):
            return []
        schema = self._schemas[kind]
        return [_describe(v, schema) for v in _violations(validator, schema, body)]


def check_headers(headers: Mapping[str, str]) -> ApiError | None:
    """`None` if the typed request headers (HEADER_VALUES) that are present hold allowed values, else a 400
    naming the header (as `param`) and the values it takes. Headers are looked up by their lower-case name."""
    for name, allowed in HEADER_VALUES.items():
        raw = headers.get(name)
        if raw is None:
            continue
        value = raw.strip()
        if (value.lower() if name in _CASELESS_HEADERS else value) in allowed:
            continue
        shown = _HEADER_NAMES[name]
        return invalid_request(
            f"Invalid value for header '{shown}': {short_repr(raw)} is not one of {_join([repr(v) for v in allowed])}.",
            shown,
        )
    return None


@cache
def _all_validators() -> Validators:
    return Validators.load(SCHEMA_NAMES)


def check_response(kind: str, body: Any) -> list[str]:
    """Every violation of a response document (`"chat_response"`, `"chat_chunk"`, `"error"`…), as messages."""
    return _all_validators().messages(kind, body)


@functools.cache
def _load_cached(kinds: tuple[str, ...]) -> Validators:
    return Validators({}, lazy=kinds)
