"""One call record: the journal's Call, as a test reads it, whatever the wire format and whichever server.

Driven by real clients over sockets; the same Call comes back from an in-process server and, rebuilt by
`Call.from_json`, from a remote one (issue 10, item 4; issue 12, stumble 6).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import anthropic
import openai
import pytest

import mockgw
from mockgw.gateway.config import Settings
from mockgw.handle import LocalServer, MockgwHandle, RecordedCall, RemoteServer
from mockgw.journal.calls import Call
from tests.conftest import API_KEY

WEATHER = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}},
}


def chat(handle: MockgwHandle, messages: list[dict[str, Any]], **extra: Any) -> None:
    openai.OpenAI(base_url=handle.url, api_key=API_KEY, max_retries=0).chat.completions.create(
        model="openai/gpt-4o", messages=messages, **extra
    )


def test_the_handles_call_is_the_journals_call_and_mockgw_call_imports(session_handle: MockgwHandle) -> None:
    chat(session_handle, [{"role": "user", "content": "hi"}])
    assert isinstance(session_handle.last_call, Call)
    assert RecordedCall is Call is mockgw.Call


def test_a_recorded_call_has_its_time(session_handle: MockgwHandle) -> None:
    before = datetime.now(UTC)
    chat(session_handle, [{"role": "user", "content": "what time is it?"}])
    when = datetime.fromisoformat(session_handle.last_call.time)
    assert before - timedelta(seconds=1) <= when <= datetime.now(UTC) + timedelta(seconds=1)


def test_chat_fields_come_from_the_parsed_conversation(session_handle: MockgwHandle) -> None:
    chat(
        session_handle,
        [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        ],
        tools=[WEATHER],
    )
    call = session_handle.last_call
    assert call.last_user_message == "ab"
    assert call.tools == ("get_weather",)
    assert call.messages[0] == {"role": "system", "content": "be brief"}
    assert call.messages[2]["tool_calls"] == [{"id": "call_1", "name": "get_weather", "arguments": "{}"}]
    assert call.messages[-1] == {"role": "tool", "content": "sunny", "tool_call_id": "call_1"}


def test_anthropic_messages_fields(session_handle: MockgwHandle) -> None:
    anthropic.Anthropic(base_url=session_handle.root_url, api_key=API_KEY, max_retries=0).messages.create(
        model="claude-sonnet-4.5",
        max_tokens=50,
        system="be brief",
        tools=[{"name": "lookup", "input_schema": {"type": "object"}}],
        messages=[
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": "r"},
            {"role": "user", "content": [{"type": "text", "text": "second "}, {"type": "text", "text": "question"}]},
        ],
    )
    call = session_handle.last_call
    assert (call.last_user_message, call.tools) == ("second question", ("lookup",))
    assert [m["role"] for m in call.messages] == ["system", "user", "assistant", "user"]


@pytest.mark.parametrize(
    ("given", "last_user_message"),
    [
        ("a bare string input", "a bare string input"),
        ([{"role": "user", "content": [{"type": "input_text", "text": "x"}]}], "x"),
        ([{"role": "developer", "content": "only instructions"}], None),
    ],
)
def test_responses_input(session_handle: MockgwHandle, given: Any, last_user_message: str | None) -> None:
    openai.OpenAI(base_url=session_handle.url, api_key=API_KEY, max_retries=0).responses.create(
        model="openai/gpt-4o", input=given
    )
    assert session_handle.last_call.last_user_message == last_user_message


def test_a_request_no_dialect_parsed_has_no_conversation_fields(session_handle: MockgwHandle) -> None:
    with pytest.raises(openai.BadRequestError):
        chat(session_handle, [{"role": "wizard", "content": "not a role"}])
    call = session_handle.last_call
    assert (call.status, call.messages, call.last_user_message, call.tools) == (400, (), None, ())
    assert call.body["messages"] == [{"role": "wizard", "content": "not a role"}]  # the body is kept as sent


def test_remote_calls_are_the_same_record_rebuilt_from_json(
    shared_server: LocalServer, session_handle: MockgwHandle
) -> None:
    session_handle.add({"name": "hi", "match": {"last_user_message": "hello"}, "reply": {"content": "hey"}})
    chat(session_handle, [{"role": "user", "content": "hello"}], tools=[WEATHER])
    remote = MockgwHandle(RemoteServer(shared_server.url), session=session_handle.session)
    assert remote.calls == session_handle.calls
    assert remote.last_call.to_json() == session_handle.last_call.to_json()
    assert Call.from_json(session_handle.last_call.to_json()) == session_handle.last_call


@pytest.mark.parametrize(
    ("fields", "unmatched", "refused"),
    [
        ({"fixture": "hi"}, False, False),
        ({}, True, False),
        ({"status": 404, "response": {"error": {"code": "no_matching_fixture"}}}, True, False),
        ({"status": 400, "response": {"error": {"code": "invalid_request"}}}, False, True),
        ({"status": 400, "fixture": "scripted-400"}, False, False),
        ({"status": 401, "response": {"error": {"code": "unauthorized"}}}, False, False),
        ({"status": None, "ending": "reset", "fault": "reset"}, False, False),
    ],
)
def test_unmatched_and_refused(fields: dict[str, Any], unmatched: bool, refused: bool) -> None:
    data = {"path": "/v1/chat/completions", "method": "POST", "status": 200, "model": None, "fixture": None}
    recorded = Call.from_json({**data, "body": {"model": "openai/gpt-4o", "messages": []}, **fields})
    assert (recorded.unmatched, recorded.refused) == (unmatched, refused)


def test_describe_names_the_request_and_what_answered(session_handle: MockgwHandle) -> None:
    strict = LocalServer.start(Settings(port=0, strict=True))
    try:
        handle = MockgwHandle(strict)
        with pytest.raises(openai.NotFoundError):
            chat(handle, [{"role": "user", "content": "x" * 80}])
        assert handle.last_call.describe() == (
            f"POST /v1/chat/completions model='openai/gpt-4o' last user message='{'x' * 60}...' -> 404 "
            "error=no_matching_fixture"
        )
    finally:
        strict.close()


@pytest.mark.parametrize(("fault", "ending"), [("reset", "reset"), ("close", "close")])
def test_a_dropped_connection_has_no_status_but_its_ending(
    session_handle: MockgwHandle, fault: str, ending: str
) -> None:
    """Stumble 7: a reset call was journaled as `status: 200` with the fixture's name."""
    session_handle.add({"name": "hi", "reply": {"content": "never sent", "fault": {"type": fault}}})
    with pytest.raises(openai.APIConnectionError):
        chat(session_handle, [{"role": "user", "content": "hi"}])
    call = session_handle.last_call
    assert (call.status, call.ending, call.fault, call.fixture) == (None, ending, fault, "hi")
    assert session_handle.calls(status=200) == []
    remote = RemoteServer(session_handle.server.url)
    assert [c.id for c in remote.calls(session_handle.session)] == [call.id]
    listed = remote._call("GET", "/calls?status=null", session_handle.session)["calls"]
    assert [(c["id"], c["status"], c["ending"]) for c in listed] == [(call.id, None, ending)]
    assert remote._call("GET", "/calls?status=200", session_handle.session)["calls"] == []


def test_a_hung_call_released_by_the_client_leaving_has_no_status(session_handle: MockgwHandle) -> None:
    session_handle.fault({"type": "hang"})
    with pytest.raises(openai.APITimeoutError):
        openai.OpenAI(base_url=session_handle.url, api_key=API_KEY, max_retries=0, timeout=0.3).chat.completions.create(
            model="openai/gpt-4o", messages=[{"role": "user", "content": "hello?"}]
        )
    # the server journals the call once it sees the client gone: wait for it as a CI script would
    RemoteServer(session_handle.server.url)._call("GET", "/calls?wait_for=1&timeout=5", session_handle.session)
    call = session_handle.last_call
    assert (call.status, call.ending, call.fault) == (None, "client_disconnected", "hang")
