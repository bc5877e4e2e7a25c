"""Drift checks: the same requests to the real gateway and to mockgw, and where their answers differ (issue 14).

Pure: the probe set, the comparison of two answers (JSON shape, stream event types, documented headers, error
envelope) and the report. `mockgw drift` (cli.py, server/drift_probe.py) sends the requests.

Severities: `critical` a documented field or header differs (or is missing on one side); `warning` the upstream
sends a field mockgw does not know; `info` a known, intended difference. 401, 429 and 5xx answers from the
upstream are "could not check", never drift.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from mockgw.core.codec import event_data, event_name
from mockgw.core.frozen import frozen
from mockgw.gateway.validation import load_schema
from mockgw.record.capture import ENDPOINTS, split_events

SEVERITIES = ("critical", "warning", "info")
COULD_NOT_CHECK = frozenset({401, 429})  # and every 5xx

# The response schema of each endpoint's JSON answer (streams: the chat chunk schema for chat events).
RESPONSE_SCHEMAS = {
    "chat": "chat_response",
    "messages": "messages_response",
    "responses": "responses_response",
    "models": "models",
    "count_tokens": "count_tokens_response",
    "compress": "compress_response",
}
# Headers the Edgee documentation promises (lower case), by when they are sent.
DOCUMENTED_HEADERS = {"success": ("content-type", "x-edgee-provider")}
# The error envelope every error answer has (README, docs/endpoints.md), though the schema requires only `message`.
ENVELOPE = ("code", "message", "type", "param")
# Known, intended differences: reported as info, never as drift (JSON paths as `where` names them).
INTENDED: Mapping[str, str] = {
    "header content-type": "mockgw sends the media type without parameters",
}


@frozen
class Probe:
    """One request of the probe set (or of a cassette)."""

    name: str
    method: str
    path: str
    body: Any = None

    @property
    def endpoint(self) -> str:
        return ENDPOINTS.get(self.path.rstrip("/"), "chat")

    @property
    def stream(self) -> bool:
        return isinstance(self.body, dict) and self.body.get("stream") is True


@frozen
class Answer:
    """What came back: status, headers (lower-case names), and the body or the SSE events."""

    status: int
    headers: Mapping[str, str]
    body: bytes = b""


@frozen
class Finding:
    probe: str
    severity: str  # critical | warning | info
    where: str  # e.g. body.choices[].message.refusal, events, header x-edgee-provider, status
    message: str

    def as_json(self) -> dict[str, str]:
        return {"probe": self.probe, "severity": self.severity, "where": self.where, "message": self.message}


def probes(chat_model: str = "openai/gpt-4o", claude_model: str = "anthropic/claude-sonnet-4.5") -> tuple[Probe, ...]:
    """The fixed probe set: small requests that any gateway answers cheaply."""
    hello = [{"role": "user", "content": "Say hello in one word."}]
    weather = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather of a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
    return (
        Probe("chat", "POST", "/v1/chat/completions", {"model": chat_model, "messages": hello, "max_tokens": 16}),
        Probe(
            "chat-stream",
            "POST",
            "/v1/chat/completions",
            {
                "model": chat_model,
                "messages": hello,
                "max_tokens": 16,
                "stream": True,
                "stream_options": {"include_usage": True},
            },
        ),
        Probe(
            "chat-tool-call",
            "POST",
            "/v1/chat/completions",
            {
                "model": chat_model,
                "messages": [{"role": "user", "content": "What is the weather in Paris?"}],
                "tools": [weather],
                "tool_choice": "required",
            },
        ),
        Probe("messages", "POST", "/v1/messages", {"model": claude_model, "max_tokens": 16, "messages": hello}),
        Probe("responses", "POST", "/v1/responses", {"model": chat_model, "input": "Say hello in one word."}),
        Probe("models", "GET", "/v1/models"),
        Probe("count-tokens", "POST", "/v1/count_tokens", {"model": chat_model, "messages": hello}),
        Probe("error-envelope", "POST", "/v1/chat/completions", {"model": chat_model}),  # no messages: invalid
    )


def cassette_probes(documents: Iterable[tuple[str, Any]]) -> tuple[Probe, ...]:
    """The recorded requests of fixture files (`recorded.request`), in file order."""
    found: list[Probe] = []
    for source, document in documents:
        fixtures = document.get("fixtures") if isinstance(document, Mapping) else None
        for fixture in fixtures or []:
            replies = fixture.get("replies") or [fixture.get("reply") or {}]
            for index, reply in enumerate(replies):
                request = (reply.get("recorded") or {}).get("request") if isinstance(reply, Mapping) else None
                if isinstance(request, Mapping) and request.get("path"):
                    name = f"{source}:{fixture.get('name')}" + (f"[{index}]" if len(replies) > 1 else "")
                    found.append(Probe(name, str(request.get("method", "POST")), request["path"], request.get("body")))
    return tuple(found)


# --- shapes ---------------------------------------------------------------------------------------------------------


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def leaves(value: Any, where: str = "") -> dict[str, set[str]]:
    """Every path of a JSON value (list items as `[]`) and the kinds found there."""
    found: dict[str, set[str]] = {}

    def walk(item: Any, path: str) -> None:
        found.setdefault(path, set()).add(_kind(item))
        if isinstance(item, dict):
            for key, child in item.items():
                walk(child, f"{path}.{key}" if path else str(key))
        elif isinstance(item, list):
            for child in item:
                walk(child, f"{path}[]")

    walk(value, where)
    return found


@functools.cache
def _schema(name: str) -> dict[str, Any]:
    return load_schema(name)


def _resolve(schema: Any, root: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The schema and every alternative it allows ($ref, allOf, anyOf, oneOf), flattened."""
    if not isinstance(schema, Mapping):
        return []
    if "$ref" in schema and str(schema["$ref"]).startswith("#/$defs/"):
        return _resolve(root.get("$defs", {}).get(schema["$ref"][8:]), root)
    found = [schema]
    for key in ("allOf", "anyOf", "oneOf"):
        for option in schema.get(key, ()):
            found.extend(_resolve(option, root))
    return found


@frozen
class Documented:
    known: bool
    required: bool = False


def documented(schema_name: str | None, path: str) -> Documented:
    """Whether the schema describes `path` (dotted, `[]` for items), and whether its last key is required."""
    if schema_name is None:
        return Documented(False)
    if schema_name.endswith("#items"):  # stream events compared as a list of one kind: each item is a chunk
        schema_name, path = schema_name.removesuffix("#items"), path.removeprefix("[]").lstrip(".")
    root = _schema(schema_name)
    current = _resolve(root, root)
    required = False
    for part in path.replace("[]", ".[]").split("."):
        if not part:
            continue
        following: list[Mapping[str, Any]] = []
        required = False
        for schema in current:
            if part == "[]":
                following.extend(_resolve(schema.get("items"), root))
                continue
            properties = schema.get("properties") or {}
            if part in properties:
                following.extend(_resolve(properties[part], root))
                required = required or part in (schema.get("required") or ())
            elif isinstance(schema.get("additionalProperties"), Mapping):
                following.extend(_resolve(schema["additionalProperties"], root))
            elif schema.get("additionalProperties") is True or (
                "properties" not in schema and schema.get("type") == "object"
            ):
                return Documented(True, False)  # a free-form object: anything inside is allowed
        if not following:
            return Documented(False)
        current = following
    return Documented(True, required)


# --- comparisons ----------------------------------------------------------------------------------------------------


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def compare_shapes(probe: str, upstream: Any, mock: Any, schema: str | None, prefix: str) -> Iterator[Finding]:
    """Field names and kinds, recursively: a documented field on one side only or of another kind is critical; a
    field the upstream sends that no schema documents is a warning."""
    up, ours = leaves(upstream), leaves(mock)
    for path in sorted(set(up) | set(ours)):
        if not path:
            continue
        parent = path.rsplit(".", 1)[0] if "." in path else ""
        if parent and (parent not in up or parent not in ours):
            continue  # reported at the parent
        where = f"{prefix}{path}" if path.startswith("[]") else f"{prefix}.{path}"
        doc = documented(schema, path)
        if path in up and path not in ours:
            if not doc.known:
                yield Finding(probe, "warning", where, "the upstream sends a field mockgw does not know")
            elif doc.required:
                yield Finding(probe, "critical", where, "documented (required) field missing from mockgw's answer")
            else:
                yield Finding(probe, "info", where, "optional documented field sent by the upstream only")
        elif path in ours and path not in up:
            if doc.required:
                yield Finding(
                    probe, "critical", where, "documented (required) field missing from the upstream's answer"
                )
            else:
                yield Finding(probe, "info", where, "optional field sent by mockgw only")
        else:
            kinds_up, kinds_ours = up[path] - {"null"}, ours[path] - {"null"}
            if kinds_up and kinds_ours and not kinds_up & kinds_ours:
                severity = "critical" if doc.known else "warning"
                message = f"the upstream sends {'/'.join(sorted(kinds_up))}, mockgw {'/'.join(sorted(kinds_ours))}"
                yield Finding(probe, severity, where, message)


def _chat_event_type(data: Any) -> str:
    if not isinstance(data, dict):
        return "other"
    if data.get("error"):
        return "error"
    choices = data.get("choices") or []
    if not choices:
        return "usage" if data.get("usage") else "empty"
    delta = choices[0].get("delta") or {}
    if choices[0].get("finish_reason"):
        return "finish"
    if delta.get("tool_calls"):
        return "tool_calls"
    if delta.get("role"):
        return "role"
    return "content"


def stream_events(body: bytes) -> list[tuple[str, Any]]:
    """Each SSE event as (type, parsed data); comments left out. Chat chunks are typed by what they carry."""
    whole, rest = split_events(body)
    if rest.strip():
        whole.append(rest)
    events: list[tuple[str, Any]] = []
    for raw in whole:
        normal = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        data = event_data(normal)
        if data is None:
            continue
        if data == b"[DONE]":
            events.append(("[DONE]", None))
            continue
        parsed = _json(data)
        name = event_name(normal)
        kind = name if name and name not in ("message", "chunk") else None
        if kind is None and isinstance(parsed, dict) and isinstance(parsed.get("type"), str):
            kind = parsed["type"]
        events.append((kind or _chat_event_type(parsed), parsed))
    return events


def _collapsed(kinds: Sequence[str]) -> list[str]:
    """Consecutive repeats as one (`content` × 7 → `content`): the order of kinds, not how many tokens."""
    result: list[str] = []
    for kind in kinds:
        if not result or result[-1] != kind:
            result.append(kind)
    return result


def compare_streams(probe: str, endpoint: str, upstream: bytes, mock: bytes) -> Iterator[Finding]:
    up, ours = stream_events(upstream), stream_events(mock)
    up_kinds, our_kinds = _collapsed([k for k, _ in up]), _collapsed([k for k, _ in ours])
    if up_kinds != our_kinds:
        yield Finding(
            probe,
            "critical",
            "events",
            f"stream event types differ: upstream {' → '.join(up_kinds)}; mockgw {' → '.join(our_kinds)}",
        )
    if b": " in upstream.replace(b"\r", b"") and b"\n: " in b"\n" + upstream.replace(b"\r", b""):
        yield Finding(probe, "info", "events", "the upstream sends SSE comments (keep-alive); clients ignore them")
    schema = "chat_chunk" if endpoint == "chat" else None
    by_kind_up: dict[str, list[Any]] = {}
    by_kind_ours: dict[str, list[Any]] = {}
    for kind, data in up:
        by_kind_up.setdefault(kind, []).append(data)
    for kind, data in ours:
        by_kind_ours.setdefault(kind, []).append(data)
    for kind in sorted(set(by_kind_up) & set(by_kind_ours)):
        yield from compare_shapes(probe, by_kind_up[kind], by_kind_ours[kind], _items(schema), f"events[{kind}]")


def _items(schema: str | None) -> str | None:
    return None if schema is None else f"{schema}#items"


def compare_headers(probe: str, upstream: Answer, mock: Answer) -> Iterator[Finding]:
    for name in DOCUMENTED_HEADERS["success"]:
        up, ours = upstream.headers.get(name), mock.headers.get(name)
        where = f"header {name}"
        if up is None and ours is not None:
            yield Finding(probe, "critical", where, "documented header missing from the upstream's answer")
        elif ours is None and up is not None:
            yield Finding(probe, "critical", where, "documented header missing from mockgw's answer")
        elif name == "content-type" and up and ours and up.split(";")[0].strip() != ours.split(";")[0].strip():
            yield Finding(probe, "critical", where, f"upstream {up!r}, mockgw {ours!r}")
        elif name == "content-type" and up != ours and where in INTENDED:
            yield Finding(probe, "info", where, f"{INTENDED[where]} (upstream {up!r}, mockgw {ours!r})")


def compare(probe: Probe, upstream: Answer, mock: Answer) -> tuple[list[Finding], str | None]:
    """The findings for one probe, or why it could not be checked."""
    if upstream.status in COULD_NOT_CHECK or upstream.status >= 500:
        return [], f"the upstream answered {upstream.status}"
    findings: list[Finding] = []
    if upstream.status != mock.status:
        findings.append(Finding(probe.name, "critical", "status", f"upstream {upstream.status}, mockgw {mock.status}"))
        return findings, None
    if upstream.status >= 400:  # the error envelope
        up_error = _json(upstream.body)
        missing = [k for k in ENVELOPE if not (isinstance(up_error, dict) and k in (up_error.get("error") or {}))]
        for key in missing:
            message = "the documented error envelope has code, message, type and param; the upstream leaves it out"
            findings.append(Finding(probe.name, "critical", f"body.error.{key}", message))
        shapes = compare_shapes(probe.name, up_error, _json(mock.body), "error", "body")
        findings.extend(f for f in shapes if f.where.removeprefix("body.error.") not in missing)
        return findings, None
    findings.extend(compare_headers(probe.name, upstream, mock))
    is_stream = "text/event-stream" in upstream.headers.get("content-type", "")
    if is_stream or probe.stream:
        findings.extend(compare_streams(probe.name, probe.endpoint, upstream.body, mock.body))
    else:
        schema = RESPONSE_SCHEMAS.get(probe.endpoint)
        findings.extend(compare_shapes(probe.name, _json(upstream.body), _json(mock.body), schema, "body"))
    return findings, None


@frozen
class Report:
    upstream: str
    mockgw: str
    checked: tuple[str, ...]
    could_not_check: tuple[tuple[str, str], ...]  # (probe, why)
    findings: tuple[Finding, ...]

    @property
    def critical(self) -> bool:
        return any(f.severity == "critical" for f in self.findings)

    def as_json(self) -> dict[str, Any]:
        counts = {s: sum(1 for f in self.findings if f.severity == s) for s in SEVERITIES}
        return {
            "upstream": self.upstream,
            "mockgw": self.mockgw,
            "checked": list(self.checked),
            "could_not_check": [{"probe": p, "why": why} for p, why in self.could_not_check],
            "counts": counts,
            "findings": [f.as_json() for f in self.findings],
        }

    def text(self) -> str:
        lines = [f"{f.severity:8} {f.probe}: {f.where}: {f.message}" for f in self.findings]
        lines += [f"skipped  {p}: could not check ({why})" for p, why in self.could_not_check]
        counts = self.as_json()["counts"]
        lines.append(
            f"{len(self.checked)} probes checked, {len(self.could_not_check)} could not be checked: "
            f"{counts['critical']} critical, {counts['warning']} warning, {counts['info']} info"
        )
        return "\n".join(lines)


def report(upstream: str, mock: str, results: Iterable[tuple[Probe, Answer, Answer]]) -> Report:
    checked: list[str] = []
    skipped: list[tuple[str, str]] = []
    findings: list[Finding] = []
    for probe, up, ours in results:
        found, why = compare(probe, up, ours)
        if why is not None:
            skipped.append((probe.name, why))
            continue
        checked.append(probe.name)
        findings.extend(found)
    order = {s: i for i, s in enumerate(SEVERITIES)}
    findings.sort(key=lambda f: order[f.severity])
    return Report(upstream, mock, tuple(checked), tuple(skipped), tuple(findings))


REPORT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://mockgw.dev/schemas/drift_report.schema.json",
    "title": "mockgw drift report",
    "type": "object",
    "additionalProperties": False,
    "required": ["upstream", "mockgw", "checked", "could_not_check", "counts", "findings"],
    "properties": {
        "upstream": {"type": "string", "description": "The upstream's root URL."},
        "mockgw": {"type": "string", "description": "The mockgw server's root URL."},
        "checked": {"type": "array", "items": {"type": "string"}, "description": "Probes compared."},
        "could_not_check": {
            "type": "array",
            "description": "Probes the upstream answered with 401, 429 or 5xx: never counted as drift.",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["probe", "why"],
                "properties": {"probe": {"type": "string"}, "why": {"type": "string"}},
            },
        },
        "counts": {
            "type": "object",
            "additionalProperties": False,
            "required": list(SEVERITIES),
            "properties": {s: {"type": "integer", "minimum": 0} for s in SEVERITIES},
        },
        "findings": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["probe", "severity", "where", "message"],
                "properties": {
                    "probe": {"type": "string"},
                    "severity": {
                        "enum": list(SEVERITIES),
                        "description": "critical: a documented field differs; warning: the upstream sent a field "
                        "mockgw does not know; info: a known, intended difference.",
                    },
                    "where": {"type": "string", "description": "body.<path>, events[<type>].<path>, header X, status"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}
