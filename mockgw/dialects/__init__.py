"""Wire dialects: each parses its request body into a Conversation and renders a Reply as a body or events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from mockgw.conversation import Conversation
from mockgw.dialects.codec import StreamCodec
from mockgw.reply import Reply, ReplyMeta


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
    import json

    text = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return f"data: {text}\n\n".encode()
