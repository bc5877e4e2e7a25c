"""The inspector's view-models, from journal JSON: list filters, conversation, timeline, near misses, exports."""

from __future__ import annotations

import shlex
from typing import Any

import pytest
import yaml

from mockgw.fixtures.load import parse_document
from mockgw.ui import export
from mockgw.ui.conversation import chat
from mockgw.ui.listing import ListQuery
from mockgw.ui.nearmiss import near_misses
from mockgw.ui.timeline import timeline

ANTHROPIC_TOOL_LOOP: dict[str, Any] = {
    "id": "call-7",
    "time": "2026-01-01T00:00:00.000+00:00",
    "method": "POST",
    "path": "/v1/messages",
    "status": 200,
    "session": "s1",
    "model": "anthropic/claude-sonnet-4-6",
    "fixture": "answer",
    "fault": None,
    "headers": {"x-api-key": "[redacted]", "content-type": "application/json", "anthropic-version": "2023-06-01"},
    "body": {
        "model": "anthropic/claude-sonnet-4-6",
        "system": "Be brief.",
        "tools": [{"name": "lookup_order", "input_schema": {"type": "object"}}],
        "messages": [
            {"role": "user", "content": "refund order 42"},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "tu_1", "name": "lookup_order", "input": {"id": 42}}],
            },
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "tu_1", "content": "shipped"}]},
        ],
    },
    "response": {"finish_reason": "end_turn", "content": "Already shipped.", "tool_calls": []},
    "near_misses": [],
    "delivered": {"events": 0, "bytes": 10, "completed": True, "ending": "eof"},
}


def test_the_list_query_is_read_from_url_parameters_and_says_what_is_wrong() -> None:
    query = ListQuery.parse({"status": "4xx", "fault": "cut", "unmatched": "1", "session": "", "limit": "50"})
    assert (query.status, query.fault, query.unmatched, query.session, query.limit) == ("4xx", "cut", True, "", 50)
    assert ListQuery.parse({}).session is None  # every session
    with pytest.raises(ValueError, match="status must be"):
        ListQuery.parse({"status": "often"})
    with pytest.raises(ValueError, match="limit"):
        ListQuery.parse({"limit": "0"})


def test_an_anthropic_tool_loop_reads_as_a_chat_naming_the_tool_of_each_result() -> None:
    turns = chat(ANTHROPIC_TOOL_LOOP)
    assert [t["role"] for t in turns] == ["system", "user", "assistant", "tool", "assistant"]
    assert turns[2]["tool_calls"][0]["name"] == "lookup_order"
    assert turns[3]["tool_name"] == "lookup_order" and turns[3]["text"] == "shipped"
    assert turns[4]["reply"] and turns[4]["fixture"] == "answer" and turns[4]["text"] == "Already shipped."


def test_the_saved_fixture_loads_and_names_where_the_conversation_is() -> None:
    text = export.fixture_yaml(ANTHROPIC_TOOL_LOOP)
    (fixture,) = parse_document(yaml.safe_load(text), "saved.yaml")
    assert fixture.name == "saved-call-7"
    match = yaml.safe_load(text)["fixtures"][0]["match"]
    assert match["endpoint"] == "messages" and match["turn"] == 1 and match["tools"] == ["lookup_order"]
    assert match["tool_result"] == {"name": "lookup_order"}
    assert match["last_user_message"] == {"equals": "refund order 42"}


def test_curl_names_the_key_by_variable_and_sends_the_body_as_it_was() -> None:
    command = export.curl(ANTHROPIC_TOOL_LOOP, "http://127.0.0.1:8080")
    assert '-H "x-api-key: $EDGEE_API_KEY"' in command and "[redacted]" not in command
    words = shlex.split(command.replace("\\\n", " "))
    assert words[words.index("--data-raw") + 1].startswith('{"model": "anthropic/claude-sonnet-4-6"')
    assert "http://127.0.0.1:8080/v1/messages" in words


def test_har_gives_status_0_to_a_call_that_got_no_answer() -> None:
    reset = {**ANTHROPIC_TOOL_LOOP, "status": None, "ending": "reset"}
    log = export.har([ANTHROPIC_TOOL_LOOP, reset], "http://127.0.0.1:1")["log"]
    assert log["version"] == "1.2" and [e["response"]["status"] for e in log["entries"]] == [200, 0]
    assert log["entries"][1]["response"]["statusText"] == "reset"


def test_a_cut_stream_shows_the_fault_after_its_event_and_the_client_stop() -> None:
    parts = [{"wait_ms": 10.0, "event": n, "data": f'data: {{"n": {n}}}\n\n'} for n in (1, 2)]
    call = {
        "delivered": {
            "events": 2,
            "completed": False,
            "ending": "close",
            "timing": {"delay_ms": 5.0},
            "fault": {"type": "cut", "after_events": 2, "source": "fixture"},
            "stream": {"events": 6, "ending": "close", "parts": parts},
        }
    }
    made = timeline(call)
    assert made is not None
    assert [(i["kind"], i["at_ms"]) for i in made["items"]] == [
        ("event", 15.0),
        ("event", 25.0),
        ("fault", 25.0),
        ("stop", 25.0),
    ]
    assert "client stopped here" in made["items"][3]["label"] and made["events_planned"] == 6
    assert timeline({"delivered": {"body": "{}"}}) is None


def test_near_misses_are_listed_key_by_key() -> None:
    call = {
        "near_misses": [
            {"fixture": "f", "source": "a.yaml", "mismatches": [{"key": "model", "expected": "'x'", "actual": "'y'"}]}
        ]
    }
    assert near_misses(call) == [
        {
            "fixture": "f",
            "source": "a.yaml",
            "failed": 1,
            "rows": [{"key": "model", "expected": "'x'", "actual": "'y'"}],
        }
    ]
