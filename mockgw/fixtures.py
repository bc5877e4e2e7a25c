"""Fixtures as data (Fixture, Match, ReplySpec) and their loading from YAML files or JSON objects."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import field
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

from mockgw import faults, templates
from mockgw.errors import FixtureError
from mockgw.fixture_schema import FILE_SCHEMA, FIXTURE, MESSAGE_ROLES
from mockgw.frozen import frozen


@functools.cache
def _validator(kind: str) -> Any:
    """The compiled format schema of a `file` or of one `fixture`, compiled on first use (keeps imports fast)."""
    return jsonschema_rs.validator_for(FILE_SCHEMA if kind == "file" else {**FIXTURE, "$defs": FILE_SCHEMA["$defs"]})


@frozen
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


@frozen
class CountRange:
    """A count test: `min <= n <= max`, either bound open when None (an exact count sets both)."""

    min: int | None = None
    max: int | None = None

    def holds(self, count: int) -> bool:
        return (self.min is None or count >= self.min) and (self.max is None or count <= self.max)

    def describe(self) -> str:
        if self.min == self.max and self.min is not None:
            return str(self.min)
        if self.max is None:
            return f"at least {self.min}"
        if self.min is None:
            return f"at most {self.max}"
        return f"between {self.min} and {self.max}"


@frozen
class ToolResultMatch:
    """`tool_result:` the last message is (or, with `present=False`, is not) a tool result; optionally the tool
    it answers (found through the assistant call its `tool_call_id` names) and a test of its text."""

    present: bool = True
    name: str | None = None
    text: TextMatch | None = None


@frozen
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
    endpoint: str | None = None  # chat | messages | responses
    turn: CountRange | None = None  # assistant turns already in the conversation
    messages: CountRange | None = None  # number of messages
    tool_result: ToolResultMatch | None = None
    after_tool_call: str | None = None  # a tool the latest assistant message called
    roles: Mapping[str, TextMatch] = field(default_factory=dict)  # role -> some message of that role matches

    def patterns(self) -> list[re.Pattern[str]]:
        """Every regex of this match (their named groups are the fixture's template captures)."""
        tests = [self.last_user_message, self.system, self.any_message, *self.headers.values(), *self.roles.values()]
        tests.append(self.tool_result.text if self.tool_result else None)
        return [t.pattern for t in tests if t is not None and t.pattern is not None]


@frozen
class ToolCallSpec:
    name: str
    arguments: str  # JSON text
    id: str | None = None
    arguments_template: templates.JsonTemplate | None = None  # when string values hold {{ placeholders }}


@frozen
class UsageSpec:
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int = 0
    reasoning_tokens: int = 0


@frozen
class GenerateSpec:
    """A reply's `generate:`: make up text (of `words`), a tool call (to `tool`) or JSON (against `schema`)."""

    kind: str  # text | tool_call | json
    words: int | None = None
    tool: str | None = None  # None: the tool `tool_choice` names, else the first tool offered
    schema: Mapping[str, Any] | None = None  # None: the request's response_format schema, else any JSON object


@frozen
class ReplySpec:
    """What a fixture answers; text, tool calls and usage left out are derived or generated."""

    content: str | None = None
    tool_calls: tuple[ToolCallSpec, ...] = ()
    refusal: str | None = None
    finish_reason: str | None = None
    usage: UsageSpec | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    error: faults.ErrorFault | None = None  # the same error answer a fault rule's `{type: error}` gives
    delay_ms: float = 0.0
    ttft_ms: float = 0.0
    chunk_ms: float = 0.0
    chunk_tokens: int | None = None
    has_content: bool = False  # `content` was given (possibly null), so nothing is generated
    timing: faults.Timing = faults.NO_TIMING  # delay_ms / ttft_ms / chunk_ms as distributions (the floats: nominal)
    fault: faults.Fault | None = None
    hold: faults.Hold | None = None
    generate: GenerateSpec | None = None  # what to make up; None: whatever the request implies
    content_template: templates.Template | None = None  # when `content` holds {{ placeholders }}


@frozen
class Fixture:
    """A named answer to the requests its `match` accepts."""

    name: str
    match: Match
    replies: tuple[ReplySpec, ...]
    priority: int = 0
    times: int | None = None
    source: str = "<runtime>"
    scenario: str | None = None  # a named state machine (every scenario starts in `started`)
    when_state: str | None = None  # matches only while the scenario is in this state
    set_state: str | None = None  # the scenario moves to this state when the fixture answers


def _text_match(value: Any) -> TextMatch:
    if isinstance(value, str):
        return TextMatch("contains", value)
    ((kind, text),) = value.items()
    return TextMatch(kind, text, re.compile(text) if kind == "regex" else None)


def _count(value: Any) -> CountRange:
    if isinstance(value, int):
        return CountRange(value, value)
    return CountRange(value.get("min"), value.get("max"))


def _tool_result(value: Any) -> ToolResultMatch:
    if isinstance(value, bool):
        return ToolResultMatch(present=value)
    tests = {k: v for k, v in value.items() if k in ("equals", "contains", "regex")}
    return ToolResultMatch(name=value.get("name"), text=_text_match(tests) if tests else None)


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
        endpoint=raw.get("endpoint"),
        turn=_count(raw["turn"]) if "turn" in raw else None,
        messages=_count(raw["messages"]) if "messages" in raw else None,
        tool_result=_tool_result(raw["tool_result"]) if "tool_result" in raw else None,
        after_tool_call=raw.get("after_tool_call"),
        roles={role: _text_match(raw[role]) for role in MESSAGE_ROLES if role in raw},
    )


def parse_match(raw: Mapping[str, Any]) -> Match:
    """A `match` object (schema-checked) as a Match; fault rules use the same keys as fixtures."""
    return _match(raw)


def _nominal(dist: faults.Distribution) -> float:
    if isinstance(dist, faults.Fixed):
        return dist.ms
    if isinstance(dist, faults.Uniform):
        return (dist.low + dist.high) / 2
    return dist.median


def _hold(raw: Any) -> faults.Hold | None:
    if raw is None or raw is False:
        return None
    return faults.Hold(raw.get("timeout_ms") if isinstance(raw, Mapping) else None)


def _tool_call(raw: Mapping[str, Any], known: frozenset[str], where: str) -> ToolCallSpec:
    arguments = raw.get("arguments", {})
    data = json.loads(arguments) if isinstance(arguments, str) else arguments
    try:
        template = templates.parse_json(data, known)
    except templates.TemplateError as exc:
        raise _TemplateProblem(f"{where}.arguments", str(exc)) from None
    return ToolCallSpec(
        name=raw["name"],
        arguments=arguments if isinstance(arguments, str) else json.dumps(arguments),
        id=raw.get("id"),
        arguments_template=template,
    )


class _TemplateProblem(Exception):
    def __init__(self, field_path: str, problem: str) -> None:
        super().__init__(problem)
        self.field_path = field_path
        self.problem = problem


def _content_template(content: Any, known: frozenset[str], where: str) -> templates.Template | None:
    if not isinstance(content, str) or not templates.has_placeholders(content):
        return None
    try:
        return templates.parse(content, known)
    except templates.TemplateError as exc:
        raise _TemplateProblem(f"{where}.content", str(exc)) from None


def _reply(raw: Mapping[str, Any], known: frozenset[str] = frozenset(), where: str = "reply") -> ReplySpec:
    calls = tuple(
        _tool_call(call, known, f"{where}.tool_calls[{index}]") for index, call in enumerate(raw.get("tool_calls", ()))
    )
    error = faults.ErrorFault(**faults.error_fields(raw["error"])) if "error" in raw else None
    usage = UsageSpec(**raw["usage"]) if "usage" in raw else None
    timing = faults.Timing(
        *(faults.parse_distribution(raw.get(name, 0)) for name in ("delay_ms", "ttft_ms", "chunk_ms"))
    )
    timing = faults.NO_TIMING if timing == faults.NO_TIMING else timing  # shared: plan_delivery tests identity
    return ReplySpec(
        content=raw.get("content"),
        tool_calls=calls,
        refusal=raw.get("refusal"),
        finish_reason=raw.get("finish_reason"),
        usage=usage,
        headers=dict(raw.get("headers", {})),
        error=error,
        delay_ms=_nominal(timing.delay_ms),
        ttft_ms=_nominal(timing.ttft_ms),
        chunk_ms=_nominal(timing.chunk_ms),
        chunk_tokens=raw.get("chunk_tokens"),
        has_content="content" in raw,
        timing=timing,
        fault=faults.parse_fault(raw["fault"]) if "fault" in raw else None,
        hold=_hold(raw.get("hold")),
        generate=_generate(raw["generate"]) if "generate" in raw else None,
        content_template=_content_template(raw.get("content"), known, where),
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
        # imported here: the pure-Python jsonschema costs 100+ ms of start-up that only client schemas need
        import jsonschema
        from jsonschema.validators import Draft202012Validator

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
    _check_scenario(raw, source, name)
    tool_result = raw.get("match", {}).get("tool_result")
    if isinstance(tool_result, Mapping) and sum(k in tool_result for k in ("equals", "contains", "regex")) > 1:
        raise FixtureError(
            source, name, "match.tool_result", "give at most one of equals, contains, regex (and optionally name)"
        )
    for key in ("turn", "messages"):
        bounds = raw.get("match", {}).get(key)
        if isinstance(bounds, Mapping) and bounds.get("min", 0) > bounds.get("max", bounds.get("min", 0)):
            raise FixtureError(source, name, f"match.{key}", "min is greater than max")
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


def _check_faults(raw: Any, source: str, label: str | None) -> None:
    """A broken `fault:` gets its own precise message (the schema's oneOf would only say 'not valid')."""
    if not isinstance(raw, Mapping):
        return
    replies: list[Any] = raw["replies"] if isinstance(raw.get("replies"), list) else [raw.get("reply")]
    for index, reply in enumerate(replies):
        if isinstance(reply, Mapping) and "fault" in reply:
            problem = faults.fault_problem(reply["fault"], rules=False)
            if problem is not None:
                prefix = f"replies[{index}]" if "replies" in raw else "reply"
                where = ".".join(p for p in (prefix, "fault", problem[0]) if p)
                raise FixtureError(source, label, where, problem[1])


def _check_scenario(raw: Mapping[str, Any], source: str, name: str) -> None:
    for key in ("when_state", "set_state"):
        if key in raw and "scenario" not in raw:
            raise FixtureError(
                source, name, key, f"`{key}` needs `scenario: NAME` (the scenario whose state it reads or sets)"
            )


def parse_fixture(raw: Any, source: str = "<runtime>", index: int | None = None) -> Fixture:
    """One fixture object, checked against the fixture schema; raises FixtureError with the field at fault."""
    label = raw.get("name") if isinstance(raw, Mapping) and isinstance(raw.get("name"), str) else None
    if label is None and index is not None:
        label = f"#{index}"
    _check_faults(raw, source, label)
    problem = _schema_problem(_validator("fixture"), raw)
    if problem is not None:
        where, message = problem
        raise FixtureError(source, label, _path(where), message)
    _check_semantics(raw, source, raw["name"])
    match = _match(raw.get("match", {}))
    known = templates.capture_names(match.patterns())
    try:
        if "replies" in raw:
            specs = tuple(_reply(r, known, f"replies[{i}]") for i, r in enumerate(raw["replies"]))
        else:
            specs = (_reply(raw["reply"], known, "reply"),)
    except _TemplateProblem as exc:
        raise FixtureError(source, raw["name"], exc.field_path, exc.problem) from None
    return Fixture(
        name=raw["name"],
        match=match,
        replies=specs,
        priority=int(raw.get("priority", 0)),
        times=raw.get("times"),
        source=source,
        scenario=raw.get("scenario"),
        when_state=raw.get("when_state"),
        set_state=raw.get("set_state"),
    )


def parse_document(document: Any, source: str = "<runtime>") -> tuple[Fixture, ...]:
    """A whole fixture file's document (`version: 1`, `fixtures: [...]`)."""
    if not isinstance(document, Mapping):
        raise FixtureError(source, None, "", "a fixture file is a mapping with `version: 1` and `fixtures:`")
    if isinstance(document.get("fixtures"), list):
        for index, raw in enumerate(document["fixtures"]):
            parse_fixture(raw, source, index)  # reports the first broken fixture by its name
    problem = _schema_problem(_validator("file"), document)
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
