"""Rules beyond the request schemas: the typed headers (as the OpenAPI types them) and /v1/compress's messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mockgw.gateway.validation import HEADER_VALUES, Validators, check_headers

SPEC = Path(__file__).resolve().parents[2] / "mockgw" / "schemas" / "openapi" / "edgee-openapi-2026-08-17.json"


def test_header_table_matches_the_openapi() -> None:
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    typed: dict[str, tuple[str, ...]] = {}
    for operations in spec["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter["in"] != "header":
                    continue
                if "enum" in schema:
                    typed[parameter["name"].lower()] = tuple(sorted(schema["enum"]))
                elif schema.get("type") == "boolean":
                    typed[parameter["name"].lower()] = ("false", "true")
    assert {name: tuple(sorted(values)) for name, values in HEADER_VALUES.items()} == typed


@pytest.mark.parametrize(
    ("headers", "param"),
    [
        ({}, None),
        ({"x-edgee-debug": "true"}, None),
        ({"x-edgee-debug": " False "}, None),
        ({"x-edgee-debug": "1"}, "X-Edgee-Debug"),
        ({"x-edgee-debug": ""}, "X-Edgee-Debug"),
        ({"x-edgee-debug": "{}"}, "X-Edgee-Debug"),
        ({"x-edgee-compression-model": "codex"}, None),
        ({"x-edgee-compression-model": "Claude"}, "X-Edgee-Compression-Model"),
        ({"x-edgee-compression-model": "customer"}, "X-Edgee-Compression-Model"),
    ],
)
def test_check_headers(headers: dict[str, str], param: str | None) -> None:
    error = check_headers(headers)
    assert (error.param if error else None) == param
    if error is not None:
        assert error.status == 400 and error.code == "invalid_request"
        assert error.message.startswith(f"Invalid value for header '{param}': ")


def test_compress_explains_a_refusal_in_the_detected_format() -> None:
    validators = Validators.load()
    anthropic_shaped = {"model": "m", "system": "s", "messages": [{"role": "user", "content": [{"type": "x"}]}]}
    refused = validators.check("compress_request", {**anthropic_shaped, "max_tokens": 0})
    assert refused is not None and refused.param == "max_tokens"  # named in the detected (Anthropic) format's terms
    chat = {"model": "m", "messages": [{"role": "tool", "content": ""}]}
    refused = validators.check("compress_request", chat)
    assert refused is not None and refused.param == "messages[0].tool_call_id"  # the chat format's own message
    assert validators.check("compress_request", {**anthropic_shaped, "max_tokens": 8}) is None
    assert validators.check("compress_request", {"model": "m", "input": "hi"}) is None
