"""Fixtures as data (Fixture, Match, ReplySpec) and their loading from YAML files or JSON objects."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import yaml
from jsonschema.validators import Draft202012Validator

from mockgw.errors import FixtureError
from mockgw.fixture_schema import FILE_SCHEMA, FIXTURE

_FILE_VALIDATOR = jsonschema_rs.validator_for(FILE_SCHEMA)
_FIXTURE_VALIDATOR = jsonschema_rs.validator_for({**FIXTURE, "$defs": FILE_SCHEMA["$defs"]})


@dataclass(frozen=True)
class TextMatch:
    """A string test: `kind` is equals, contains or regex."""

    kind: str
    value: str
    pattern: re.Pattern[str] | None = None

    def search(self, text: str | None) -> dict[str, str] | None:
        """The named captures when `text` passes (empty for non-regex tests), else None."""
        if text is None:
            return None
        if self.kind == "equals":
            return {} if text == self.value else None
        if self.kind == "contains":
            return {} if self.value in text else None
        assert self.pattern is not None
        found = self.pattern.search(text)
        if found is None:
            return None
        return {k: v for k, v in found.groupdict().items() if v is not None}

    def describe(self) -> str:
        return f"{self.kind} {self.value!r}"


@dataclass(frozen=True)
class Match:
    """Conditions on a request; every one given must hold."""

    model: str | None = None
    stream: bool | None = None
    last_user_message: TextMatch | None = None
    system: TextMatch | None = None
    any_message: TextMatch | None = None
    tools: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    headers: Mapping[str, TextMatch] = field(default_factory=dict)
    body: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ErrorSpec:
    """An error answer; missing fields take the gateway's defaults for the status."""

    status: int
    code: str | None = None
    message: str | None = None
    type: str | None = None
    param: str | None = None
    retry_after: float | None = None


@dataclass(frozen=True)
class ToolCallSpec:
    name: str
    arguments: str  # JSON text
    id: str | None = None


@dataclass(frozen=True)
class UsageSpec:
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int = 0
    reasoning_tokens: int = 0


@dataclass(frozen=True)
class GenerateSpec:
    """A reply's `generate:`: make up text (of `words`), a tool call (to `tool`) or JSON (against `schema`)."""

    kind: str  # text | tool_call | json
    words: int | None = None
    tool: str | None = None  # None: the tool `tool_choice` names, else the first tool offered
    schema: Mapping[str, Any] | None = None  # None: the request's response_format schema, else any JSON object


@dataclass(frozen=True)
class ReplySpec:
    """What a fixture answers; text, tool calls and usage left out are derived or generated."""

    content: str | None = None
    tool_calls: tuple[ToolCallSpec, ...] = ()
    refusal: str | None = None
    finish_reason: str | None = None
    usage: UsageSpec | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    error: ErrorSpec | None = None
    delay_ms: float = 0.0
    ttft_ms: float = 0.0
    chunk_ms: float = 0.0
    chunk_tokens: int | None = None
    has_content: bool = False  # `content` was given (possibly null), so nothing is generated
    generate: GenerateSpec | None = None  # what to make up; None: whatever the request implies


@dataclass(frozen=True)
class Fixture:
    """A named answer to the requests its `match` accepts."""

    name: str
    match: Match
    replies: tuple[ReplySpec, ...]
    priority: int = 0
    times: int | None = None
    source: str = "<runtime>"


def _text_match(value: Any) -> TextMatch:
    if isinstance(value, str):
        return TextMatch("contains", value)
    ((kind, text),) = value.items()
    return TextMatch(kind, text, re.compile(text) if kind == "regex" else None)


def _match(raw: Mapping[str, Any]) -> Match:
    return Match(
        model=raw.get("model"),
        stream=raw.get("stream"),
        last_user_message=_text_match(raw["last_user_message"]) if "last_user_message" in raw else None,
        system=_text_match(raw["system"]) if "system" in raw else None,
        any_message=_text_match(raw["any_message"]) if "any_message" in raw else None,
        tools=tuple(raw.get("tools", ())),
        tags=tuple(raw.get("tags", ())),
        headers={k.lower(): _text_match(v) for k, v in raw.get("headers", {}).items()},
        body=raw.get("body"),
    )


def _reply(raw: Mapping[str, Any]) -> ReplySpec:
    calls = tuple(
        ToolCallSpec(
            name=call["name"],
            arguments=call["arguments"]
            if isinstance(call.get("arguments"), str)
            else json.dumps(call.get("arguments", {})),
            id=call.get("id"),
        )
        for call in raw.get("tool_calls", ())
    )
    error = ErrorSpec(**raw["error"]) if "error" in raw else None
    usage = UsageSpec(**raw["usage"]) if "usage" in raw else None
    return ReplySpec(
        content=raw.get("content"),
        tool_calls=calls,
        refusal=raw.get("refusal"),
        finish_reason=raw.get("finish_reason"),
        usage=usage,
        headers=dict(raw.get("headers", {})),
        error=error,
        delay_ms=float(raw.get("delay_ms", 0)),
        ttft_ms=float(raw.get("ttft_ms", 0)),
        chunk_ms=float(raw.get("chunk_ms", 0)),
        chunk_tokens=raw.get("chunk_tokens"),
        has_content="content" in raw,
        generate=_generate(raw["generate"]) if "generate" in raw else None,
    )


def _generate(raw: Any) -> GenerateSpec:
    if isinstance(raw, str):
        return GenerateSpec(raw)
    if "words" in raw:
        return GenerateSpec("text", words=raw["words"])
    if "tool_call" in raw:
        return GenerateSpec("tool_call", tool=raw["tool_call"])
    return GenerateSpec("json", schema=raw["json_schema"])


def _check_generate(reply: Mapping[str, Any], where: str, source: str, name: str) -> None:
    """`generate` makes up what `content`, `tool_calls` and `refusal` would script, so it goes alone."""
    if "generate" not in reply:
        return
    scripted = [key for key in ("content", "tool_calls", "refusal") if key in reply]
    if scripted:
        raise FixtureError(source, name, f"{where}.generate", f"cannot be combined with {', '.join(scripted)}")
    schema = reply["generate"].get("json_schema") if isinstance(reply["generate"], Mapping) else None
    if schema is not None:
        try:
            jsonschema.validators.validator_for(schema, default=Draft202012Validator).check_schema(schema)
        except jsonschema.SchemaError as exc:
            raise FixtureError(
                source, name, f"{where}.generate.json_schema", f"not a valid JSON Schema: {exc.message}"
            ) from None


def _path(parts: Iterable[str | int]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _schema_problem(validator: Any, instance: Any) -> tuple[list[str | int], str] | None:
    errors = sorted(validator.iter_errors(instance), key=lambda e: (-len(e.instance_path), e.message))
    if not errors:
        return None
    return list(errors[0].instance_path), errors[0].message


def _check_semantics(raw: Mapping[str, Any], source: str, name: str) -> None:
    """Rules JSON Schema cannot say: regexes compile, tool-call arguments are JSON objects."""
    for key, value in raw.get("match", {}).items():
        candidates = value.items() if key == "headers" else [(None, value)]
        for header, test in candidates:
            if isinstance(test, Mapping) and "regex" in test:
                try:
                    re.compile(test["regex"])
                except re.error as exc:
                    where = f"match.{key}" + (f".{header}" if header else "") + ".regex"
                    raise FixtureError(source, name, where, f"invalid regular expression: {exc}") from None
    replies = raw.get("replies") or [raw.get("reply", {})]
    for r_index, reply in enumerate(replies):
        prefix = f"replies[{r_index}]" if "replies" in raw else "reply"
        _check_generate(reply, prefix, source, name)
        for c_index, call in enumerate(reply.get("tool_calls", ())):
            arguments = call.get("arguments")
            if isinstance(arguments, str):
                try:
                    parsed = json.loads(arguments)
                except json.JSONDecodeError as exc:
                    raise FixtureError(
                        source, name, f"{prefix}.tool_calls[{c_index}].arguments", f"not valid JSON: {exc}"
                    ) from None
                if not isinstance(parsed, dict):
                    raise FixtureError(
                        source, name, f"{prefix}.tool_calls[{c_index}].arguments", "must be a JSON object"
                    )


def parse_fixture(raw: Any, source: str = "<runtime>", index: int | None = None) -> Fixture:
    """One fixture object, checked against the fixture schema; raises FixtureError with the field at fault."""
    label = raw.get("name") if isinstance(raw, Mapping) and isinstance(raw.get("name"), str) else None
    if label is None and index is not None:
        label = f"#{index}"
    problem = _schema_problem(_FIXTURE_VALIDATOR, raw)
    if problem is not None:
        where, message = problem
        raise FixtureError(source, label, _path(where), message)
    _check_semantics(raw, source, raw["name"])
    replies = raw["replies"] if "replies" in raw else [raw["reply"]]
    return Fixture(
        name=raw["name"],
        match=_match(raw.get("match", {})),
        replies=tuple(_reply(r) for r in replies),
        priority=int(raw.get("priority", 0)),
        times=raw.get("times"),
        source=source,
    )


def parse_document(document: Any, source: str = "<runtime>") -> tuple[Fixture, ...]:
    """A whole fixture file's document (`version: 1`, `fixtures: [...]`)."""
    if not isinstance(document, Mapping):
        raise FixtureError(source, None, "", "a fixture file is a mapping with `version: 1` and `fixtures:`")
    if isinstance(document.get("fixtures"), list):
        for index, raw in enumerate(document["fixtures"]):
            parse_fixture(raw, source, index)  # reports the first broken fixture by its name
    problem = _schema_problem(_FILE_VALIDATOR, document)
    if problem is not None:
        where, message = problem
        raise FixtureError(source, None, _path(where), message)
    fixtures = tuple(parse_fixture(raw, source, i) for i, raw in enumerate(document["fixtures"]))
    _check_unique(fixtures)
    return fixtures


def _check_unique(fixtures: Iterable[Fixture]) -> None:
    seen: dict[str, Fixture] = {}
    for fixture in fixtures:
        if fixture.name in seen:
            raise FixtureError(
                fixture.source,
                fixture.name,
                "name",
                f"duplicate fixture name (also in {seen[fixture.name].source}); names must be unique",
            )
        seen[fixture.name] = fixture


def parse_json_payload(payload: Any) -> tuple[Fixture, ...]:
    """A control-endpoint payload: one fixture object or a whole file's document."""
    if isinstance(payload, Mapping) and "fixtures" in payload:
        return parse_document(payload)
    return (parse_fixture(payload),)


def fixture_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files named, and every *.yaml / *.yml inside the folders named, in a stable order."""
    files: list[Path] = []
    for entry in map(Path, paths):
        if entry.is_dir():
            files.extend(sorted(p for p in entry.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()))
        elif entry.is_file():
            files.append(entry)
        else:
            raise FixtureError(str(entry), None, "", "no such file or folder")
    return files


def load_file(path: Path) -> tuple[Fixture, ...]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise FixtureError(str(path), None, "", f"not valid YAML: {exc}") from None
    return parse_document(document, str(path))


def load_paths(paths: Iterable[str | Path]) -> tuple[Fixture, ...]:
    """Every fixture of the files and folders named, in load order; raises FixtureError on the first mistake."""
    fixtures: list[Fixture] = []
    for path in fixture_files(paths):
        fixtures.extend(load_file(path))
    _check_unique(fixtures)
    return tuple(fixtures)
