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
from collections.abc import Iterable, Iterator

from mockgw.core.conversation import Conversation

_PIECE = re.compile(r"\s*(?:\w{1,6}|[^\w\s])|\s+")
MESSAGE_OVERHEAD = 3  # tokens per message for role and framing, as OpenAI counts them
REPLY_PRIMING = 3


SLICE_CHARS = 32_768  # a longer text is tokenized a slice at a time (see _sliced)


def split(text: str) -> list[str]:
    """The tokens of `text`; `"".join(split(t)) == t`."""
    if len(text) <= SLICE_CHARS:
        return _PIECE.findall(text)
    pieces: list[str] = []
    for found in _sliced(text):
        pieces.extend(found)
    return pieces


def _sliced(text: str) -> Iterator[list[str]]:
    """The tokens of a long text, a slice at a time, exactly as one `findall` would find them.

    One `findall` over a 1 MiB text holds the interpreter for ~0.2 s, so no other thread (the server's event
    loop) runs meanwhile. Each slice's last token may be cut by the slice's end: it is dropped, and the next
    slice starts where it started (tokens are contiguous, and one ending before the slice's end is whole)."""
    start, size = 0, SLICE_CHARS
    while start < len(text):
        end = start + size
        found = _PIECE.findall(text, start, end)
        if end >= len(text):
            start = end
        elif len(found) > 1:
            start, size = end - len(found.pop()), SLICE_CHARS
        else:  # one token fills the slice (a long run of white space): a wider slice
            size *= 2
            continue
        yield found


CACHED_TEXT_CHARS = 16_384  # longer texts are counted each time, so the cache holds at most ~16 MiB of text


def count(text: str) -> int:
    """How many tokens `text` has."""
    if len(text) <= CACHED_TEXT_CHARS:
        return _count_cached(text)
    return sum(map(len, _sliced(text)))


@functools.lru_cache(maxsize=1024)
def _count_cached(text: str) -> int:
    # fixture replies and conversation histories repeat from request to request: count each text once
    return len(_PIECE.findall(text))


def truncate(text: str, limit: int) -> str:
    """The first `limit` tokens of `text`."""
    return "".join(split(text)[:limit])


def count_prompt(texts: Iterable[str]) -> int:
    """Prompt tokens for a conversation given the texts of its messages (and tool definitions)."""
    counts = list(map(count, texts))  # no loop in Python: every request counts its messages
    return REPLY_PRIMING + MESSAGE_OVERHEAD * len(counts) + sum(counts)


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
