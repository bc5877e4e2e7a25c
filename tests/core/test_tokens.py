"""The one tokenizer: exact round trips, counts on a table of texts, truncation, chunks, prompt counts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockgw.core import tokens
from mockgw.core.conversation import Conversation, Message, Tool, ToolCall

COUNTS = [
    ("", 0),
    ("Hello", 1),
    ("Hello, world!", 4),
    ("internationalization", 4),  # long words are cut every 6 characters
    ("  lead and trail  ", 4),  # white space rides with the next token; trailing space is one token
    ("a\nb", 2),
    ("émigré café", 2),  # word characters are Unicode
    ("x=1;y=2", 7),
    ("don't", 3),
    ('{"city":"Paris"}', 9),
]


@pytest.mark.parametrize(("text", "expected"), COUNTS)
def test_count_on_a_table_of_texts(text: str, expected: int) -> None:
    assert tokens.count(text) == expected
    assert len(tokens.split(text)) == expected


@given(st.text(max_size=200))
@settings(max_examples=200)
def test_split_round_trips_and_truncation_counts(text: str) -> None:
    pieces = tokens.split(text)
    assert "".join(pieces) == text
    for limit in (0, 1, 5, len(pieces)):
        cut = tokens.truncate(text, limit)
        assert text.startswith(cut)
        assert tokens.count(cut) == min(limit, len(pieces))


@given(st.text(max_size=120), st.integers(min_value=1, max_value=7))
@settings(max_examples=100)
def test_chunks_rebuild_the_text(text: str, per_chunk: int) -> None:
    pieces = tokens.chunks(text, per_chunk)
    assert "".join(pieces) == text
    assert all(tokens.count(piece) <= per_chunk for piece in pieces)


def _conversation(**changes: object) -> Conversation:
    fields: dict[str, object] = {
        "endpoint": "chat",
        "model": "openai/gpt-4o",
        "messages": (Message("system", "Be brief."), Message("user", "Hello, world!")),
    }
    fields.update(changes)
    return Conversation(**fields)  # type: ignore[arg-type]


def test_prompt_count_is_priming_plus_overhead_plus_text() -> None:
    conv = _conversation()
    expected = tokens.REPLY_PRIMING + 2 * tokens.MESSAGE_OVERHEAD + tokens.count("Be brief.") + 4
    assert tokens.count_conversation(conv) == expected


@pytest.mark.parametrize(
    "extra",
    [
        {
            "tools": (
                Tool("get_weather", "Weather now", {"type": "object", "properties": {"city": {"type": "string"}}}),
            )
        },
        {"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}},
        {
            "messages": (
                Message("user", "Hello, world!"),
                Message("assistant", "", (ToolCall("call_1", "get_weather", '{"city":"Paris"}'),)),
            )
        },
    ],
    ids=["tools", "response_format", "tool_calls"],
)
def test_tools_schemas_and_tool_calls_count_in_the_prompt(extra: dict[str, object]) -> None:
    plain = tokens.count_conversation(_conversation(messages=(Message("user", "Hello, world!"),)))
    assert tokens.count_conversation(_conversation(**extra)) > plain
