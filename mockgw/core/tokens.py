"""The one tokenizer: feeds usage, streaming chunks, max_tokens truncation, count_tokens and rate limits.

An approximation of BPE tokenizers, deterministic and dependency-free: a token is a run of word characters
(long words are cut every 6 characters) or a single punctuation mark, each carrying the white space before
it. Joining the pieces gives the text back exactly. It does not try to reproduce any provider's counts:
what matters is that every count mockgw reports comes from these functions, so they agree with each other.

THE functions: `count` (any text: completions, truncation), `count_conversation` (prompt tokens of a
request, for `usage`, count_tokens endpoints and rate limits).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable

from mockgw.core.conversation import Conversation

_PIECE = re.compile(r"\s*(?:\w{1,6}|[^\w\s])|\s+")
MESSAGE_OVERHEAD = 3  # tokens per message for role and framing, as OpenAI counts them
REPLY_PRIMING = 3


def split(text: str) -> list[str]:
    """The tokens of `text`; `"".join(split(t)) == t`."""
    return _PIECE.findall(text)


CACHED_TEXT_CHARS = 16_384  # longer texts are counted each time, so the cache holds at most ~16 MiB of text


def count(text: str) -> int:
    """How many tokens `text` has."""
    if len(text) <= CACHED_TEXT_CHARS:
        return _count_cached(text)
    return len(_PIECE.findall(text))


@functools.lru_cache(maxsize=1024)
def _count_cached(text: str) -> int:
    # fixture replies and conversation histories repeat from request to request: count each text once
    return len(_PIECE.findall(text))


def truncate(text: str, limit: int) -> str:
    """The first `limit` tokens of `text`."""
    return "".join(split(text)[:limit])


def count_prompt(texts: Iterable[str]) -> int:
    """Prompt tokens for a conversation given the texts of its messages (and tool definitions)."""
    total = REPLY_PRIMING
    for text in texts:
        total += MESSAGE_OVERHEAD + count(text)
    return total


def conversation_texts(conv: Conversation) -> list[str]:
    """What a request puts in front of the model: each message (text and tool calls), each tool, the schema."""
    # most messages have no tool calls: no join (and no generator) for them
    texts = [
        m.text + "".join(c.name + c.arguments for c in m.tool_calls) if m.tool_calls else m.text for m in conv.messages
    ]
    texts.extend(t.name + t.description + _compact(t.parameters) for t in conv.tools)
    if conv.response_format:
        texts.append(_compact(conv.response_format))
    return texts


def count_conversation(conv: Conversation) -> int:
    """Prompt tokens of a request: THE count behind `usage.prompt_tokens`, count_tokens and rate limits."""
    return count_prompt(conversation_texts(conv))


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False, default=str)


def chunks(text: str, per_chunk: int) -> list[str]:
    """`text` cut into pieces of `per_chunk` tokens (at least one piece, possibly empty)."""
    if len(text) <= CACHED_TEXT_CHARS:
        return list(_chunks_cached(text, per_chunk))
    return _chunks(text, per_chunk)


@functools.lru_cache(maxsize=256)
def _chunks_cached(text: str, per_chunk: int) -> tuple[str, ...]:
    # a fixture's reply is streamed the same way on every request
    return tuple(_chunks(text, per_chunk))


def _chunks(text: str, per_chunk: int) -> list[str]:
    pieces = split(text)
    if not pieces:
        return [text] if text else []
    step = max(1, per_chunk)
    return ["".join(pieces[i : i + step]) for i in range(0, len(pieces), step)]
