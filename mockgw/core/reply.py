"""The format-neutral answer: what fixtures and the generator produce and every dialect renders."""

from __future__ import annotations

from mockgw.core.conversation import ToolCall
from mockgw.core.frozen import frozen

FINISH_REASONS = ("stop", "length", "tool_calls", "content_filter")


@frozen
class Usage:
    """Token counts; each dialect names them its own way."""

    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@frozen
class Reply:
    """What the model says: text and/or tool calls, why it stopped, and what it cost."""

    content: str | None
    tool_calls: tuple[ToolCall, ...]
    finish_reason: str  # one of FINISH_REASONS
    usage: Usage
    refusal: str | None = None
    warnings: tuple[str, ...] = ()  # what the generator could not satisfy; shown in the journal, never sent


@frozen
class ReplyMeta:
    """Per-answer facts a dialect needs besides the reply itself."""

    id: str
    created: int
    model: str
    include_usage: bool = False
    chunk_tokens: int = 1  # tokens of text (or tool arguments) per streamed event
    separate_usage_chunk: bool = False  # streamed usage in its own `choices: []` chunk (OpenAI) or the final one
