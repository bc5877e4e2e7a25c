"""Generate the JSON Schemas in `schemas/` from the vendored Edgee OpenAPI document.

Steps: read `schemas/openapi/edgee-openapi-2026-08-17.json`, convert every component schema from the
OpenAPI 3.0 dialect to JSON Schema draft 2020-12, apply the documented OVERLAY below, and write one
self-contained file per document (`schemas/<name>.schema.json`) holding only the `$defs` it needs. Output
is byte-stable (sorted keys, two-space indent, trailing newline). `--check` compares instead of writing
and exits 1 on drift.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

REPO = Path(__file__).resolve().parent.parent
SCHEMAS_DIR = REPO / "schemas"
OPENAPI_FILE = SCHEMAS_DIR / "openapi" / "edgee-openapi-2026-08-17.json"
OPENAPI_NAME = "schemas/openapi/edgee-openapi-2026-08-17.json"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_BASE = "https://mockgw.dev/schemas/"
COMPONENT_PREFIX = "#/components/schemas/"
DEFS_PREFIX = "#/$defs/"

# Keys that only mean something to OpenAPI tooling (2020-12 validators would ignore or misread them).
OPENAPI_ONLY_KEYS = frozenset({"discriminator", "xml", "externalDocs", "nullable", "example"})

Json = Any
Schema = dict[str, Any]


@dataclass(frozen=True)
class Output:
    """One generated document: where its root schema comes from in the OpenAPI file."""

    name: str
    path: str | None  # an OpenAPI path such as "/v1/chat/completions"; None means `component` is used directly
    method: str = "post"
    part: Literal["request", "200", "400", "component"] = "request"
    component: str | None = None


OUTPUTS: tuple[Output, ...] = (
    Output("chat_request", "/v1/chat/completions"),
    Output("chat_response", "/v1/chat/completions", part="200"),
    # Chunks travel as SSE `data:` lines, so the path only declares `text/event-stream` as a binary string.
    Output("chat_chunk", None, part="component", component="ChatCompletionChunk"),
    Output("error", "/v1/chat/completions", part="400"),
    Output("models", "/v1/models", method="get", part="200"),
    Output("messages_request", "/v1/messages"),
    Output("messages_response", "/v1/messages", part="200"),
    Output("messages_count_tokens_request", "/v1/messages/count_tokens"),
    Output("responses_request", "/v1/responses"),
    Output("responses_response", "/v1/responses", part="200"),
    Output("count_tokens_request", "/v1/count_tokens"),
    Output("count_tokens_response", "/v1/count_tokens", part="200"),
    Output("compress_request", "/v1/compress"),
    Output("compress_response", "/v1/compress", part="200"),
)

FUNCTION_NAME_PATTERN = "^[a-zA-Z0-9_-]{1,64}$"
CHAT_REQUEST_OUTPUTS = ("chat_request", "compress_request")
ANTHROPIC_REQUEST_OUTPUTS = ("messages_request", "messages_count_tokens_request", "compress_request")
RESPONSES_REQUEST_OUTPUTS = ("responses_request", "compress_request")


def _ref(name: str) -> Schema:
    return {"$ref": DEFS_PREFIX + name}


def _if_type(value: str, then: Schema) -> Schema:
    """`if` the object's `type` property is `value` `then` apply `then`."""
    return {"if": {"properties": {"type": {"const": value}}, "required": ["type"]}, "then": then}


@dataclass(frozen=True)
class Rule:
    """One overlay edit on the converted `$defs`.

    `at` is a slash path inside the defs (first segment = def name). `op` is `set` (replace or create the
    value there), `delete` (remove the key) or `unrequire` (remove `value` from the `required` list of the
    schema at `at`).
    `outputs` limits the rule to some documents (None = all). `why` cites the prose that justifies the rule.
    """

    at: str
    op: Literal["set", "delete", "unrequire"]
    value: Json
    why: str
    outputs: tuple[str, ...] | None = None


# The overlay: everything the docs state in prose (or the notes establish about real clients) that the OpenAPI
# schemas do not express. Policy: the real gateway's schemas are open (no `additionalProperties: false`
# anywhere in the OpenAPI, notes §4), so no rule ever closes an object.
OVERLAY: tuple[Rule, ...] = (
    # ---- /v1/chat/completions request -----------------------------------------------------------------
    Rule(
        "Message/properties/content/type",
        "set",
        ["string", "null", "array"],
        "Notes §4.1 and §13.4: Edgee's own gateway types accept an array of content parts and OpenAI clients "
        "send parts (images) and `null` content next to `tool_calls`; the spec's string-only typing is "
        "stricter than the service. Message.content description: the assistant content 'can be empty if "
        "tool_calls is present'.",
    ),
    Rule(
        "Message/properties/content/items",
        "set",
        _ref("ContentPart"),
        "Notes §4.1: content parts are objects with a string `type` (`text`, `input_text`, `output_text`, images…).",
    ),
    Rule(
        "ContentPart",
        "set",
        {
            "type": "object",
            "description": "A content part (overlay, notes §4.1). `text` parts carry a string `text`; other "
            "part types pass through.",
            "required": ["type"],
            "properties": {"type": {"type": "string"}, "text": {"type": "string"}},
            "allOf": [_if_type("text", {"required": ["text"]})],
        },
        "Notes §4.1: parts are `{type, text}`; Edgee's types ignore other part types, so they stay open.",
    ),
    Rule(
        "Message/allOf",
        "set",
        [
            {
                "if": {
                    "properties": {"role": {"enum": ["system", "user", "developer"]}},
                    "required": ["role"],
                },
                "then": {"required": ["content"]},
            },
            {
                "if": {"properties": {"role": {"const": "tool"}}, "required": ["role"]},
                "then": {"required": ["content", "tool_call_id"]},
            },
        ],
        "Message.role description: '`system`, `user`, `developer`: requires `content`' and '`tool`: requires "
        "`content` and `tool_call_id`'; Message.tool_call_id: 'Required for `tool` role only' (notes §4.1).",
    ),
    Rule(
        "FunctionDefinition/properties/name/pattern",
        "set",
        FUNCTION_NAME_PATTERN,
        "FunctionDefinition.name description: 'Must be a-z, A-Z, 0-9, or contain underscores and dashes, "
        "with a maximum length of 64' (notes §4.2).",
    ),
    Rule(
        "ToolChoiceFunction/properties/name/pattern",
        "set",
        FUNCTION_NAME_PATTERN,
        "`tool_choice.function.name` names one of the declared tools, so it obeys FunctionDefinition.name's rule.",
    ),
    Rule(
        "FunctionCall/properties/name/pattern",
        "set",
        FUNCTION_NAME_PATTERN,
        "`messages[].tool_calls[].function.name` echoes a declared tool's name (FunctionDefinition.name rule).",
    ),
    Rule(
        "ChatCompletionRequest/properties/tool_choice/oneOf/0/enum",
        "set",
        ["none", "auto", "required"],
        "Notes §4.2 and §14.14: `required` is undocumented but OpenAI clients send it; accept it. The "
        "documented forms (`none`, `auto`, `{type: auto|none}`, `{type: function, function: {name}}`) are "
        "unchanged.",
    ),
    Rule(
        "ChatCompletionRequest/properties/max_completion_tokens",
        "set",
        {
            "type": "integer",
            "minimum": 1,
            "description": "OpenAI's name for `max_tokens` (overlay, notes §4 and §12.5).",
        },
        "Notes §4 and §12.5: the official OpenAI SDKs send `max_completion_tokens`; OpenAI documents it as "
        "an integer bound on generated tokens, like `max_tokens` (minimum 1).",
    ),
    Rule(
        "CompressionModel",
        "set",
        {
            "type": "string",
            "description": "Selects the compression bundle to apply to the request. Documented values: "
            "`claude`, `opencode`, `codex`, `cursor`; any string is accepted (overlay, notes §4 and §12).",
            "examples": ["claude", "opencode", "codex", "cursor"],
        },
        "Notes §4 and §12.2: the SDKs send values outside the enum (e.g. `customer`), and the Python SDK "
        "accepts any string.",
    ),
    # ---- /v1/chat/completions responses and chunks ----------------------------------------------------
    Rule(
        "ChatCompletionChoice/properties/message",
        "set",
        _ref("AssistantMessage"),
        "Notes §5: the response message is `{role: 'assistant', content, tool_calls?}` (S1 referred to an "
        "undefined `AssistantMessage`); the request-side Message allows other roles and content parts.",
        ("chat_response",),
    ),
    Rule(
        "AssistantMessage",
        "set",
        {
            "type": "object",
            "description": "The assistant message in a chat completion (overlay, notes §5).",
            "required": ["role", "content"],
            "properties": {
                "role": {"type": "string", "enum": ["assistant"]},
                "content": {
                    "type": ["string", "null"],
                    "description": "The text of the answer; `null` when the message only carries `tool_calls`.",
                },
                "refusal": {"type": ["string", "null"]},
                "tool_calls": {"type": "array", "items": _ref("ToolCall")},
            },
        },
        "Python SDK docs (notes §5, S11 python/send): content is `None` when `tool_calls` is present; the "
        "SDKs read `message.tool_calls` (notes §12).",
        ("chat_response",),
    ),
    Rule(
        "ChatCompletionChunkChoice/properties/finish_reason",
        "set",
        {
            "type": ["string", "null"],
            "enum": ["stop", "length", "content_filter", "tool_calls", None],
            "description": "`null` on every chunk except the final one.",
        },
        "ChatCompletionChunkChoice.finish_reason description: 'This will be `null` for all chunks except the "
        "final one' (notes §6).",
    ),
    Rule(
        "Delta/properties/tool_calls",
        "set",
        {"type": "array", "items": _ref("DeltaToolCall")},
        "Notes §6: the SDKs read `delta.tool_calls`; Edgee's own types use OpenAI's incremental form.",
    ),
    Rule(
        "DeltaToolCall",
        "set",
        {
            "type": "object",
            "description": "A tool-call fragment in OpenAI's incremental form (overlay, notes §6): the first "
            "fragment carries `id`, `type` and `function.name`, later ones only `function.arguments` pieces.",
            "required": ["index"],
            "properties": {
                "index": {"type": "integer", "minimum": 0},
                "id": {"type": "string"},
                "type": {"type": "string", "enum": ["function"]},
                "function": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "pattern": FUNCTION_NAME_PATTERN},
                        "arguments": {"type": "string"},
                    },
                },
            },
        },
        "Notes §6 (S9 `DeltaToolCall`): `{index, id?, type, function{name?, arguments?}}`.",
    ),
    Rule(
        "ChatCompletionChunk/properties/choices/description",
        "set",
        "A list of chat completion choices for this chunk. May be empty in a usage-only final chunk.",
        "Notes §6: OpenAI's separate usage chunk has `choices: []`; all SDKs parse it. The spec sets no "
        "minItems, and `usage` stays a non-nullable object (notes §13.5: never send `null` for usage).",
    ),
    # ---- Anthropic /v1/messages and /v1/messages/count_tokens requests --------------------------------
    Rule(
        "MessageParam/properties/content/oneOf/1/items",
        "set",
        _ref("ContentBlockParam"),
        "Open request schemas (notes §4: no `additionalProperties: false` anywhere): Anthropic clients also "
        "send image, document and thinking blocks and array `tool_result` content, which the response-side "
        "ContentBlock does not list.",
        ANTHROPIC_REQUEST_OUTPUTS,
    ),
    Rule(
        "CreateMessageRequest/properties/system/oneOf/1/items",
        "set",
        _ref("ContentBlockParam"),
        "As above: system blocks may carry `cache_control` and other fields.",
        ANTHROPIC_REQUEST_OUTPUTS,
    ),
    Rule(
        "ContentBlockParam",
        "set",
        {
            "type": "object",
            "description": "A request content block (overlay): any block with a string `type`; the "
            "documented block types keep their required fields.",
            "required": ["type"],
            "properties": {"type": {"type": "string"}},
            "allOf": [
                _if_type("text", {"required": ["text"], "properties": {"text": {"type": "string"}}}),
                _if_type(
                    "tool_use",
                    {
                        "required": ["id", "name", "input"],
                        "properties": {
                            "id": {"type": "string"},
                            "name": {"type": "string"},
                            "input": {"type": "object"},
                        },
                    },
                ),
                _if_type(
                    "tool_result",
                    {
                        "required": ["tool_use_id"],
                        "properties": {
                            "tool_use_id": {"type": "string"},
                            "content": {"type": ["string", "array"], "items": _ref("ContentBlockParam")},
                            "is_error": {"type": "boolean"},
                        },
                    },
                ),
            ],
        },
        "ContentBlock in the OpenAPI (text/tool_use/tool_result required fields), opened to other block types.",
        ANTHROPIC_REQUEST_OUTPUTS,
    ),
    Rule(
        "ToolChoice",
        "set",
        {
            "type": "object",
            "description": "Anthropic tool choice (overlay): `{type: auto|any|none}` or `{type: tool, name}`",
            "required": ["type"],
            "properties": {
                "type": {"type": "string", "enum": ["auto", "any", "tool", "none"]},
                "name": {"type": "string"},
            },
            "allOf": [_if_type("tool", {"required": ["name"]})],
        },
        "Open request schemas: Anthropic's API also has `{type: none}` (the Anthropic SDK types it) and "
        "`disable_parallel_tool_use`; other types are refused, as the OpenAPI's oneOf refuses them.",
        ANTHROPIC_REQUEST_OUTPUTS,
    ),
    Rule(
        "CreateMessageRequest",
        "unrequire",
        "max_tokens",
        "/v1/messages/count_tokens description: '`max_tokens` is accepted but ignored by this endpoint' "
        "(notes §2), and Anthropic's own count_tokens does not require it.",
        ("messages_count_tokens_request",),
    ),
    # ---- OpenAI Responses /v1/responses request -------------------------------------------------------
    Rule(
        "ResponsesInputItem",
        "set",
        {
            "type": "object",
            "description": "A Responses input item (overlay): a message (`role` + `content`, optional "
            "`type: message`), a `function_call`, a `function_call_output`, or another typed item.",
            "properties": {"type": {"type": "string"}},
            "allOf": [
                {
                    "if": {"not": {"required": ["type"]}},
                    "then": {"required": ["role", "content"]},
                },
                _if_type("message", {"required": ["role", "content"]}),
                _if_type(
                    "function_call",
                    {
                        "required": ["call_id", "name", "arguments"],
                        "properties": {
                            "call_id": {"type": "string"},
                            "name": {"type": "string"},
                            "arguments": {"type": "string"},
                        },
                    },
                ),
                _if_type(
                    "function_call_output",
                    {
                        "required": ["call_id", "output"],
                        # OpenAI's Responses API also takes an array of content parts as a tool's output.
                        "properties": {
                            "call_id": {"type": "string"},
                            "output": {"type": ["string", "array"], "items": _ref("ResponsesContentPart")},
                        },
                    },
                ),
            ],
        },
        "Open request schemas: OpenAI Responses clients (e.g. the Codex CLI, named in the /v1/responses "
        "description) send `type: message` and `reasoning` items that the spec's closed oneOf rejects.",
        RESPONSES_REQUEST_OUTPUTS,
    ),
    Rule(
        "ResponsesInputItem/properties/role",
        "set",
        {"type": "string", "enum": ["user", "assistant", "system", "developer"]},
        "ResponsesInputItem Message.role enum in the OpenAPI.",
        RESPONSES_REQUEST_OUTPUTS,
    ),
    Rule(
        "ResponsesInputItem/properties/content",
        "set",
        {"type": ["string", "array"], "items": _ref("ResponsesContentPart")},
        "ResponsesInputItem Message.content in the OpenAPI: a string or an array of content parts.",
        RESPONSES_REQUEST_OUTPUTS,
    ),
    Rule(
        "ResponsesContentPart",
        "set",
        {
            "type": "object",
            "description": "A Responses content part (overlay): text parts carry a string `text`; others "
            "(e.g. `input_image`) pass through.",
            "required": ["type"],
            "properties": {"type": {"type": "string"}},
            "allOf": [
                _if_type(kind, {"required": ["text"], "properties": {"text": {"type": "string"}}})
                for kind in ("input_text", "output_text", "text")
            ],
        },
        "ResponsesContentPart in the OpenAPI (input_text/output_text/text with `text`), opened to other parts.",
        RESPONSES_REQUEST_OUTPUTS,
    ),
    Rule(
        "ResponsesTool",
        "set",
        {
            "type": "object",
            "description": "A Responses tool (overlay): flat function tools need `name`; other tool types "
            "(e.g. `web_search`, `custom`) pass through.",
            "required": ["type"],
            "properties": {
                "type": {"type": "string"},
                "name": {"type": "string", "pattern": FUNCTION_NAME_PATTERN},
                "parameters": {"type": "object"},
            },
            "allOf": [_if_type("function", {"required": ["name"]})],
        },
        "Open request schemas: Codex sends non-function tools; function names obey FunctionDefinition.name.",
        RESPONSES_REQUEST_OUTPUTS,
    ),
    Rule(
        "ResponsesRequest/properties/tool_choice/oneOf/0/enum",
        "set",
        ["auto", "none", "required"],
        "Notes §14.14: accept OpenAI's undocumented `required`, as on chat completions.",
        RESPONSES_REQUEST_OUTPUTS,
    ),
)


def convert(node: Json) -> Json:
    """Convert one OpenAPI 3.0 schema (recursively) to JSON Schema draft 2020-12."""
    if isinstance(node, list):
        return [convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: Schema = {}
    for key, value in node.items():
        if key in OPENAPI_ONLY_KEYS or key.startswith("x-"):
            continue
        if key == "$ref" and isinstance(value, str) and value.startswith(COMPONENT_PREFIX):
            out[key] = DEFS_PREFIX + value[len(COMPONENT_PREFIX) :]
        elif key in ("properties", "$defs", "patternProperties"):
            out[key] = {name: convert(sub) for name, sub in value.items()}
        else:
            out[key] = convert(value)
    if "example" in node:
        out["examples"] = [node["example"]]
    if node.get("nullable") is True:
        if "$ref" in out:
            out = {"anyOf": [{"$ref": out.pop("$ref")}, {"type": "null"}], **out}
        elif isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


def _walk_to(defs: Schema, at: str, create: bool) -> tuple[Any, str | int]:
    """The container holding the last segment of `at`, and that segment (int for list indexes)."""
    parts = at.split("/")
    node: Any = defs
    for part in parts[:-1]:
        key: str | int = int(part) if isinstance(node, list) else part
        if isinstance(node, dict) and key not in node:
            if not create:
                raise KeyError(f"overlay path {at!r}: missing {part!r}")
            node[key] = {}
        node = node[key]
    last = parts[-1]
    return node, (int(last) if isinstance(node, list) else last)


def apply_overlay(defs: Schema, output: str) -> None:
    """Apply the OVERLAY rules that concern `output` to its copy of the converted defs (in place)."""
    for rule in OVERLAY:
        if rule.outputs is not None and output not in rule.outputs:
            continue
        if rule.op == "set":
            container, key = _walk_to(defs, rule.at, create=True)
            container[key] = copy.deepcopy(rule.value)
        elif rule.op == "delete":
            container, key = _walk_to(defs, rule.at, create=False)
            del container[key]
        else:
            container, key = _walk_to(defs, rule.at + "/required", create=False)
            container[key] = [name for name in container[key] if name != rule.value]


def _refs(node: Json) -> Iterator[str]:
    """Names of the defs referenced anywhere inside `node`."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(DEFS_PREFIX):
            yield ref[len(DEFS_PREFIX) :]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _root_ref(openapi: Schema, output: Output) -> str:
    """The component name that `output` starts from."""
    if output.path is None:
        assert output.component is not None
        return output.component
    operation = openapi["paths"][output.path][output.method]
    if output.part == "request":
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
    else:
        schema = operation["responses"][output.part]["content"]["application/json"]["schema"]
    ref = schema["$ref"]
    assert isinstance(ref, str) and ref.startswith(COMPONENT_PREFIX), ref
    return ref[len(COMPONENT_PREFIX) :]


def build_schema(openapi: Schema, output: Output) -> Schema:
    """The finished JSON Schema document for one output."""
    defs: Schema = {name: convert(schema) for name, schema in openapi["components"]["schemas"].items()}
    apply_overlay(defs, output.name)
    root_name = _root_ref(openapi, output)
    root: Schema = copy.deepcopy(defs[root_name])
    needed: set[str] = set()
    pending = list(_refs(root))
    while pending:
        name = pending.pop()
        if name not in needed:
            needed.add(name)
            pending.extend(_refs(defs[name]))
    source = f"{output.method.upper()} {output.path} {output.part}" if output.path else "component"
    document: Schema = {
        "$schema": DIALECT,
        "$id": f"{ID_BASE}{output.name}.schema.json",
        "title": f"{root_name} ({output.name})",
        "$comment": f"Generated by scripts/gen_schemas.py from {OPENAPI_NAME} ({source}: {root_name}) plus "
        "the "
        "documented overlay in that script. Do not edit; run `make schemas`.",
        **root,
    }
    if needed:
        document["$defs"] = {name: defs[name] for name in sorted(needed)}
    return document


def render(schema: Schema) -> str:
    """Byte-stable text of a schema: sorted keys, two-space indent, trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def load_openapi(path: Path = OPENAPI_FILE) -> Schema:
    """The vendored OpenAPI document."""
    data: Schema = json.loads(path.read_text(encoding="utf-8"))
    return data


def generate(openapi: Schema | None = None) -> dict[str, str]:
    """Every output file's name (relative to `schemas/`) mapped to its exact text."""
    spec = load_openapi() if openapi is None else openapi
    return {f"{output.name}.schema.json": render(build_schema(spec, output)) for output in OUTPUTS}


def format_schemas() -> dict[str, str]:
    """mockgw's own file formats (fixture files, the config file), whose schemas live as data in the package."""
    sys.path.insert(0, str(REPO))
    from mockgw.fixtures.schema import FILE_SCHEMA
    from mockgw.gateway.config import CONFIG_SCHEMA
    from mockgw.record.drift import REPORT_SCHEMA as DRIFT_REPORT_SCHEMA
    from mockgw.verdict.matrix import MATRIX_SCHEMA
    from mockgw.verdict.schema import REPORT_SCHEMA as VERDICT_REPORT_SCHEMA

    return {
        "fixture.schema.json": render(FILE_SCHEMA),
        "config.schema.json": render(CONFIG_SCHEMA),
        "matrix.schema.json": render(MATRIX_SCHEMA),
        "verdict.schema.json": render(VERDICT_REPORT_SCHEMA),
        "drift_report.schema.json": render(DRIFT_REPORT_SCHEMA),
    }


FAULTS_DOC = REPO / "docs" / "faults.md"


def fault_docs() -> str:
    """docs/faults.md with its fault table generated from the fault registry (mockgw/faults/kinds/)."""
    sys.path.insert(0, str(REPO))
    from mockgw.faults.registry import with_fault_table

    return with_fault_table(FAULTS_DOC.read_text(encoding="utf-8"))


def all_files() -> dict[str, str]:
    """Every file the script writes: the API's documents and mockgw's own formats."""
    return {**generate(), **format_schemas()}


def drift(files: dict[str, str], directory: Path = SCHEMAS_DIR) -> list[str]:
    """The files in `directory` that differ from `files`, are missing, or are stale leftovers."""
    problems = []
    for name, text in sorted(files.items()):
        target = directory / name
        if not target.exists():
            problems.append(f"{name}: missing")
        elif target.read_text(encoding="utf-8") != text:
            problems.append(f"{name}: differs from the generated output")
    for target in sorted(directory.glob("*.schema.json")):
        if target.name not in files:
            problems.append(f"{target.name}: not generated any more (delete it)")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Write the schemas, or with `--check` report drift and return 1."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="report drifting files without writing; exit 1")
    args = parser.parse_args(argv)
    files = all_files()
    if args.check:
        problems = drift(files)
        if FAULTS_DOC.read_text(encoding="utf-8") != fault_docs():
            problems.append("../docs/faults.md: its fault table differs from the registry's")
        for problem in problems:
            print(f"schemas/{problem}")
        if problems:
            print("Run `make schemas` (python scripts/gen_schemas.py) to regenerate.")
            return 1
        print(f"{len(files)} schema files up to date.")
        return 0
    SCHEMAS_DIR.mkdir(exist_ok=True)
    for name, text in files.items():
        target = SCHEMAS_DIR / name
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
            print(f"wrote schemas/{name}")
    doc = fault_docs()
    if FAULTS_DOC.read_text(encoding="utf-8") != doc:
        FAULTS_DOC.write_text(doc, encoding="utf-8")
        print("wrote docs/faults.md (the fault table)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
