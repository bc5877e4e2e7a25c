"""Faults on `/v1/messages` and `/v1/responses` as the real anthropic and openai SDKs see them, over a socket.

Stream faults cut, corrupt and end each format at event granularity (Anthropic: `event: error`, `message_stop`;
Responses: `event: error`, `response.completed`); connection faults, errors, latency, holds and fault rules work on
both endpoints, and the journal says which fault fired and what the client received.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anthropic
import httpx2
import openai
import pytest

from mockgw.server.runner import MockGateway
from tests.conftest import API_KEY, handle_on

CLAUDE = "claude-sonnet-4.5"
GPT = "openai/gpt-4o"
TEXT = "one two three four five"
PROVIDER_ERROR = {
    "type": "provider_error",
    "message": "The upstream provider returned an error. Please try again later.",
    "code": "provider_error",
    "param": None,
}
# The events each SDK yields from a healthy stream of TEXT (the anthropic SDK skips `ping`, event 3).
MESSAGES_EVENTS = ["message_start", "content_block_start"] + ["content_block_delta"] * 5
MESSAGES_EVENTS += ["content_block_stop", "message_delta", "message_stop"]
RESPONSES_EVENTS = ["response.created", "response.in_progress", "response.output_item.added"]
RESPONSES_EVENTS += ["response.content_part.added"] + ["response.output_text.delta"] * 5
RESPONSES_EVENTS += ["response.output_text.done", "response.content_part.done", "response.output_item.done"]
RESPONSES_EVENTS += ["response.completed"]


@dataclass(frozen=True)
class ClientStops:
    """The SDK raises at event `at_event` and hangs up: the server may or may not have written the rest by then."""

    at_event: int


def assert_delivered(call: dict[str, Any], expected: tuple[int, str] | ClientStops) -> None:
    """What the journal says the client received: exactly, or (when the client stops early) at least the event."""
    events, ending = call["delivered"]["events"], call["delivered"]["ending"]
    if isinstance(expected, ClientStops):
        assert events >= expected.at_event and ending in ("eof", "client_disconnected")
    else:
        assert (events, ending) == expected


def fixture(gateway: MockGateway, name: str, **reply: Any) -> None:
    """A fixture answering the prompt `name` with TEXT (unless the reply says otherwise)."""
    reply = reply if "replies" in reply or "error" in reply else {"content": TEXT, **reply}
    body = {"name": name, "match": {"last_user_message": name}}
    handle_on(gateway).add({**body, **reply} if "replies" in reply else {**body, "reply": reply})


def calls(gateway: MockGateway, count: int) -> list[dict[str, Any]]:
    """The journal once `count` calls have ended."""
    return list(handle_on(gateway).control("GET", f"/calls?wait_for={count}&timeout=10")["calls"])


def claude(gateway: MockGateway, **options: Any) -> anthropic.Anthropic:
    return anthropic.Anthropic(**{"base_url": gateway.url, "api_key": API_KEY, "max_retries": 0, **options})


def gpt(gateway: MockGateway, **options: Any) -> openai.OpenAI:
    return openai.OpenAI(**{"base_url": gateway.base_url, "api_key": API_KEY, "max_retries": 0, **options})


def ask_claude(gateway: MockGateway, prompt: str, stream: bool = False, **options: Any) -> Any:
    return claude(gateway, **options).messages.create(
        model=CLAUDE, max_tokens=256, messages=[{"role": "user", "content": prompt}], stream=stream
    )


def ask_gpt(gateway: MockGateway, prompt: str, stream: bool = False, **options: Any) -> Any:
    return gpt(gateway, **options).responses.create(model=GPT, input=prompt, stream=stream)


ASK: dict[str, Callable[..., Any]] = {"messages": ask_claude, "responses": ask_gpt}


def text_of(answer: Any) -> str:
    """The text of a non-streamed answer in either format."""
    if isinstance(answer, anthropic.types.Message):
        return "".join(block.text for block in answer.content if block.type == "text")
    return str(answer.output_text)


def read_stream(stream: Any) -> tuple[list[Any], BaseException | None]:
    """Every event the SDK yields, and what it raised (None when the stream ended quietly)."""
    received: list[Any] = []
    try:
        for event in stream:
            received.append(event)
    except Exception as exc:  # the test asserts which exception the SDK raised
        return received, exc
    return received, None


def raised_as(exc: BaseException | None, expected: type[BaseException] | None) -> bool:
    """Whether the SDK raised `expected` (None: nothing), itself or as the cause of the SDK's own error.

    A cut stream reaches anthropic users as httpx's transport error in older SDKs, and as
    `anthropic.APIConnectionError` raised from it in 2.17: either way the transport error is in the chain.
    """
    if expected is None or exc is None:
        return exc is None and expected is None
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, expected):
            return True
        seen = seen.__cause__
    return False


@pytest.fixture
def gw(gateway_factory: Callable[..., MockGateway]) -> MockGateway:
    return gateway_factory()


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    executor = ThreadPoolExecutor(max_workers=2)
    yield executor
    executor.shutdown(wait=False)


# --- stream faults, Anthropic ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "received", "raised", "delivered"),
    [
        ({"type": "cut", "after_events": 4}, MESSAGES_EVENTS[:3], httpx2.RemoteProtocolError, (4, "close")),
        ({"type": "cut", "after_events": 4, "rst": True}, MESSAGES_EVENTS[:3], httpx2.TransportError, (4, "reset")),
        ({"type": "cut_mid_event", "at_event": 4}, MESSAGES_EVENTS[:2], httpx2.RemoteProtocolError, (4, "close")),
        ({"type": "error_event", "at_event": 4}, MESSAGES_EVENTS[:2], anthropic.APIStatusError, (4, "eof")),
        ({"type": "malformed", "at_event": 4}, MESSAGES_EVENTS[:2], json.JSONDecodeError, ClientStops(4)),
        ({"type": "no_done"}, MESSAGES_EVENTS[:-1], None, (10, "eof")),
        ({"type": "no_finish_reason"}, MESSAGES_EVENTS, None, (11, "eof")),
        ({"type": "keepalive", "every_events": 2}, MESSAGES_EVENTS, None, (11, "eof")),
    ],
    ids=lambda v: v["type"] + ("-rst" if v.get("rst") else "") if isinstance(v, dict) else "",
)
def test_anthropic_sdk_facing_stream_faults(
    gw: MockGateway,
    fault: dict[str, Any],
    received: list[str],
    raised: type[BaseException] | None,
    delivered: tuple[int, str] | ClientStops,
) -> None:
    fixture(gw, "faulty", fault=fault)
    events, exc = read_stream(ask_claude(gw, "faulty", stream=True))
    assert [e.type for e in events] == received
    assert raised_as(exc, raised)
    call = calls(gw, 1)[0]
    assert call["fault"] == fault["type"] and call["delivered"]["fault"]["source"] == "fixture"
    assert_delivered(call, delivered)
    assert call["delivered"]["completed"] is False or fault["type"] == "keepalive"


def test_anthropic_error_event_is_an_api_status_error_with_the_body(gw: MockGateway) -> None:
    fixture(gw, "broken", fault={"type": "error_event", "at_event": 1, "code": "overloaded", "message": "busy"})
    with pytest.raises(anthropic.APIStatusError) as caught:
        list(ask_claude(gw, "broken", stream=True))
    assert caught.value.status_code == 200  # the stream had started: the error came inside it
    assert caught.value.body == {"type": "error", "error": {**PROVIDER_ERROR, "code": "overloaded", "message": "busy"}}


@pytest.mark.parametrize(
    ("fault", "stop_reason"),
    [({"type": "no_done"}, "end_turn"), ({"type": "no_finish_reason"}, None)],
    ids=["no_done", "no_finish_reason"],
)
def test_anthropic_stream_helper_tolerates_a_missing_end(
    gw: MockGateway, fault: dict[str, Any], stop_reason: str | None
) -> None:
    fixture(gw, "quirky", fault=fault)
    with claude(gw).messages.stream(
        model=CLAUDE, max_tokens=256, messages=[{"role": "user", "content": "quirky"}]
    ) as stream:
        message = stream.get_final_message()
    assert text_of(message) == TEXT and message.stop_reason == stop_reason


# --- stream faults, Responses ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "received", "raised", "delivered"),
    [
        ({"type": "cut", "after_events": 4}, RESPONSES_EVENTS[:4], openai.APIConnectionError, (4, "close")),
        ({"type": "cut_mid_event", "at_event": 4}, RESPONSES_EVENTS[:3], openai.APIConnectionError, (4, "close")),
        ({"type": "error_event", "at_event": 4}, [*RESPONSES_EVENTS[:3], "error"], None, (4, "eof")),
        ({"type": "malformed", "at_event": 4}, RESPONSES_EVENTS[:3], json.JSONDecodeError, ClientStops(4)),
        ({"type": "no_done"}, RESPONSES_EVENTS[:-1], None, (12, "eof")),
        ({"type": "no_finish_reason"}, RESPONSES_EVENTS, None, (13, "eof")),
    ],
    ids=lambda v: v["type"] if isinstance(v, dict) else "",
)
def test_openai_sdk_facing_responses_stream_faults(
    gw: MockGateway,
    fault: dict[str, Any],
    received: list[str],
    raised: type[BaseException] | None,
    delivered: tuple[int, str] | ClientStops,
) -> None:
    fixture(gw, "faulty", fault=fault)
    events, exc = read_stream(ask_gpt(gw, "faulty", stream=True))
    assert [e.type for e in events] == received
    assert raised_as(exc, raised)
    call = calls(gw, 1)[0]
    assert call["fault"] == fault["type"]
    assert_delivered(call, delivered)


def test_responses_error_event_is_yielded_and_the_stream_helper_fails(gw: MockGateway) -> None:
    fixture(gw, "broken", fault={"type": "error_event", "at_event": 2, "code": "overloaded", "message": "busy"})
    events, exc = read_stream(ask_gpt(gw, "broken", stream=True))
    assert exc is None  # the openai SDK does not raise on a Responses `error` event: it yields it
    error = events[-1]
    assert (error.type, error.code, error.message, error.sequence_number) == ("error", "overloaded", "busy", 1)
    with (
        pytest.raises(RuntimeError, match=r"response\.completed"),
        gpt(gw).responses.stream(model=GPT, input="broken") as stream,
    ):
        stream.get_final_response()


@pytest.mark.parametrize(
    ("fault", "status"), [({"type": "no_finish_reason"}, None), ({"type": "keepalive", "every_ms": 5}, "completed")]
)
def test_responses_stream_helper_final_status(gw: MockGateway, fault: dict[str, Any], status: str | None) -> None:
    fixture(gw, "quirky", fault=fault, chunk_ms=12)
    with gpt(gw).responses.stream(model=GPT, input="quirky") as stream:
        response = stream.get_final_response()
    assert response.output_text == TEXT and response.status == status


# --- connection faults, errors, latency, holds: every endpoint ------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
@pytest.mark.parametrize("endpoint", ["messages", "responses"])
@pytest.mark.parametrize(
    ("fault", "ending"),
    [
        ({"type": "reset"}, "reset"),
        ({"type": "close"}, "close"),
        ({"type": "garbage", "size": 32}, "close"),
        ({"type": "slow_body", "chunk_bytes": 200, "every_ms": 1}, "eof"),
    ],
    ids=lambda v: v["type"] if isinstance(v, dict) else "",
)
def test_connection_faults_on_every_endpoint(
    gw: MockGateway, endpoint: str, stream: bool, fault: dict[str, Any], ending: str
) -> None:
    fixture(gw, "conn", fault=fault)
    sdk_error = anthropic.APIConnectionError if endpoint == "messages" else openai.APIConnectionError
    if ending != "eof":
        with pytest.raises(sdk_error):
            answer = ASK[endpoint](gw, "conn", stream=stream)
            read_stream(answer) if stream else None
    elif stream:
        events, exc = read_stream(ASK[endpoint](gw, "conn", stream=True))
        assert exc is None and len(events) == len(MESSAGES_EVENTS if endpoint == "messages" else RESPONSES_EVENTS)
    else:
        assert text_of(ASK[endpoint](gw, "conn")) == TEXT
    call = calls(gw, 1)[0]
    assert call["path"] == f"/v1/{endpoint}" and call["fault"] == fault["type"]
    assert call["delivered"]["ending"] == ending and call["delivered"]["completed"] == (ending == "eof")
    assert call["delivered"]["bytes"] > 0 or fault["type"] in ("reset", "close")


@pytest.mark.parametrize("endpoint", ["messages", "responses"])
def test_hang_times_out_either_sdk(gw: MockGateway, endpoint: str) -> None:
    fixture(gw, "hang", fault={"type": "hang"})
    timeout_error = anthropic.APITimeoutError if endpoint == "messages" else openai.APITimeoutError
    with pytest.raises(timeout_error):
        ASK[endpoint](gw, "hang", stream=True, timeout=0.3)
    call = calls(gw, 1)[0]
    assert call["fault"] == "hang" and call["delivered"]["released_by"] == "client_disconnected"


@pytest.mark.parametrize("endpoint", ["messages", "responses"])
def test_429_with_retry_after_is_retried_by_either_sdk(gw: MockGateway, endpoint: str) -> None:
    limited = {"error": {"status": 429, "retry_after": 0.2}}
    fixture(gw, "busy", replies=[limited, limited, {"content": TEXT}])
    assert text_of(ASK[endpoint](gw, "busy", max_retries=2)) == TEXT
    journal = calls(gw, 3)
    assert [c["status"] for c in journal] == [429, 429, 200]
    started = [datetime.fromisoformat(c["time"]).timestamp() for c in journal]
    assert all(later - earlier >= 0.15 for earlier, later in itertools.pairwise(started))


@pytest.mark.parametrize("endpoint", ["messages", "responses"])
def test_latency_rule_and_hold_on_either_endpoint(gw: MockGateway, endpoint: str, pool: ThreadPoolExecutor) -> None:
    rule = {"name": "slow-start", "match": {"endpoint": endpoint}, "fault": {"type": "latency", "ttft_ms": 30}}
    handle_on(gw).fault(rule)
    fixture(gw, "held", hold=True)
    pending = pool.submit(lambda: read_stream(ASK[endpoint](gw, "held", stream=True)))
    assert [h["fixture"] for h in handle_on(gw).control("GET", "/holds?wait_for=1&timeout=10")["held"]] == ["held"]
    assert handle_on(gw).control("POST", "/release") == {"released": 1}
    events, exc = pending.result(timeout=10)
    assert exc is None and events
    delivered = calls(gw, 1)[0]["delivered"]
    assert delivered["released_by"] == "release" and delivered["timing"]["ttft_ms"] == 30
    assert delivered["fault"] == {"type": "latency", "ttft_ms": {"fixed": {"ms": 30.0}}, "source": "rule 'slow-start'"}


# --- fault rules restricted by endpoint -----------------------------------------------------------------------------


def test_error_rule_matching_the_messages_endpoint_spares_the_others(gw: MockGateway) -> None:
    rule = {"name": "claude-down", "match": {"endpoint": "messages"}, "fault": {"type": "error", "status": 503}}
    assert handle_on(gw).fault(rule) == ["claude-down"]
    with pytest.raises(anthropic.InternalServerError) as caught:
        ask_claude(gw, "hello")
    assert caught.value.status_code == 503
    assert text_of(ask_gpt(gw, "hello"))
    assert gpt(gw).chat.completions.create(model=GPT, messages=[{"role": "user", "content": "hello"}]).choices
    journal = calls(gw, 3)
    assert [(c["path"], c["fault"]) for c in journal] == [
        ("/v1/messages", "error"),
        ("/v1/responses", None),
        ("/v1/chat/completions", None),
    ]
    assert journal[0]["delivered"]["fault"]["source"] == "rule 'claude-down'"


def test_stream_rule_matching_the_responses_endpoint_cuts_only_responses(gw: MockGateway) -> None:
    rule = {"name": "cut-responses", "match": {"endpoint": "responses"}, "fault": {"type": "cut", "after_events": 2}}
    handle_on(gw).fault(rule)
    fixture(gw, "cut-me")
    messages, clean = read_stream(ask_claude(gw, "cut-me", stream=True))
    responses, cut = read_stream(ask_gpt(gw, "cut-me", stream=True))
    assert clean is None and [e.type for e in messages] == MESSAGES_EVENTS
    assert isinstance(cut, openai.APIConnectionError) and [e.type for e in responses] == RESPONSES_EVENTS[:2]
    journal = calls(gw, 2)
    assert [c["fault"] for c in journal] == [None, "cut"]
    assert journal[1]["delivered"]["fault"]["source"] == "rule 'cut-responses'"
    rules = {r["name"]: r for r in handle_on(gw).control("GET", "/faults")["faults"]}
    assert (rules["cut-responses"]["matched"], rules["cut-responses"]["fired"]) == (1, 1)
