"""Wire dialects: each parses its request body into a Conversation and renders a Reply as a body or events."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from mockgw.core.codec import StreamCodec
from mockgw.core.conversation import Conversation, Tool
from mockgw.core.reply import Reply, ReplyMeta


class Dialect(Protocol):
    """One wire format (chat completions, Anthropic messages, Responses)."""

    endpoint: str  # the `match.endpoint` name
    schema: str  # request schema name in schemas/
    id_prefix: str

    @property
    def codec(self) -> StreamCodec:
        """How faults break this format's streams."""
        ...

    def parse(self, body: Mapping[str, Any], headers: Mapping[str, str]) -> Conversation: ...

    def render(self, reply: Reply, meta: ReplyMeta) -> dict[str, Any]: ...

    def stream(self, reply: Reply, meta: ReplyMeta) -> list[bytes]: ...


def sse_data(payload: Mapping[str, Any] | str) -> bytes:
    """One `data: …` event, compact JSON, ending with the blank line every SDK splits on."""
    text = payload if isinstance(payload, str) else _ENCODE(payload)
    return f"data: {text}\n\n".encode()


# json.dumps(payload, separators=(",", ":"), ensure_ascii=False) without the encoder it makes on every call
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def as_str(value: Any, default: str = "") -> str:
    """`value` when it is a string, else `default` (for optional fields of a validated body)."""
    return value if isinstance(value, str) else default


def as_mapping(value: Any) -> Mapping[str, Any]:
    """`value` when it is an object, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def function_tools(value: Any, schema_key: str) -> tuple[Tool, ...]:
    """The function tools of a request whose tools are flat objects with `name`, `description` and the
    arguments' schema under `schema_key` (Anthropic messages: `input_schema`; Responses: `parameters`)."""
    if not isinstance(value, list):
        return ()
    return tuple(
        Tool(as_str(t.get("name")), as_str(t.get("description")), as_mapping(t.get(schema_key)))
        for t in value
        if isinstance(t, Mapping)
    )
