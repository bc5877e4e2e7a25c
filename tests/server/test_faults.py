"""Every fault as a real client sees it (WireMock's FaultsAcceptanceTest): exception classes, retries, partial streams.

Timings are checked with generous tolerances only; held answers are awaited through the control endpoint (no sleeps).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import datetime
from typing import Any

import aiohttp
import httpx2
import openai
import pytest
from edgee import Edgee

from mockgw.server.runner import MockGateway
from tests.conftest import API_KEY, handle_on
from tests.support.rawhttp import request

MODEL = "openai/gpt-4o"
TEXT = "one two three four five"


def fixture(gateway: MockGateway, name: str, **reply: Any) -> None:
    handle_on(gateway).add({"name": name, "match": {"last_user_message": name}, "reply": reply})


def calls(gateway: MockGateway, **query: Any) -> list[dict[str, Any]]:
    text = "&".join(f"{k}={v}" for k, v in query.items())
    return list(handle_on(gateway).control("GET", f"/calls?{text}")["calls"])


def seconds(call: dict[str, Any]) -> float:
    return datetime.fromisoformat(call["time"]).timestamp()


def client(gateway: MockGateway, **options: Any) -> openai.OpenAI:
    return openai.OpenAI(**{"base_url": gateway.base_url, "api_key": API_KEY, **options})


def ask(gateway: MockGateway, prompt: str, stream: bool = False, **options: Any) -> Any:
    return client(gateway, **options).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": prompt}], stream=stream
    )


def body(prompt: str, stream: bool = True) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": prompt}], "stream": stream}


HEADERS = {"authorization": f"Bearer {API_KEY}"}


@pytest.fixture
def gw(gateway_factory: Callable[..., MockGateway]) -> MockGateway:
    return gateway_factory()


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    executor = ThreadPoolExecutor(max_workers=4)
    yield executor
    executor.shutdown(wait=False)  # a held request ends when its gateway stops, after this teardown


# --- error answers --------------------------------------------------------------------------------------------------


def test_429_with_retry_after_is_retried_with_the_spacing_asked(gw: MockGateway) -> None:
    fixture(gw, "limited", error={"status": 429, "retry_after": 0.3})
    with pytest.raises(openai.RateLimitError) as caught:
        ask(gw, "limited", max_retries=2)
    assert caught.value.response.headers["retry-after"] == "0.3"
    assert caught.value.body["code"] == "usage_limit_exceeded"  # type: ignore[index]
    assert caught.value.body["type"] == "rate_limit_error"  # type: ignore[index]
    attempts = calls(gw)
    assert [c["status"] for c in attempts] == [429, 429, 429]  # max_retries + 1
    gaps = [seconds(b) - seconds(a) for a, b in itertools.pairwise(attempts)]
    assert all(0.25 <= gap < 3 for gap in gaps), gaps


@pytest.mark.parametrize(
    ("status", "code"),
    [(500, "internal_error"), (502, "provider_error"), (503, "service_unavailable"), (504, "gateway_timeout")],
)
def test_5xx_raise_internal_server_error_after_every_retry(gw: MockGateway, status: int, code: str) -> None:
    fixture(gw, "broken", error={"status": status, "retry_after": 0.01})
    with pytest.raises(openai.InternalServerError) as caught:
        ask(gw, "broken", max_retries=1)
    assert caught.value.status_code == status
    assert caught.value.body["code"] == code  # type: ignore[index]
    assert [c["status"] for c in calls(gw)] == [status, status]


def test_5xx_without_retry_after_gets_the_client_backoff(gw: MockGateway) -> None:
    fixture(gw, "down", error={"status": 502})
    with pytest.raises(openai.InternalServerError):
        ask(gw, "down", max_retries=1)
    first, second = calls(gw)
    assert 0.3 <= seconds(second) - seconds(first) < 3  # the SDK's own exponential backoff (0.5 s, jittered)


@pytest.mark.parametrize(
    ("status", "exception"), [(401, openai.AuthenticationError), (403, openai.PermissionDeniedError)]
)
def test_4xx_are_not_retried(gw: MockGateway, status: int, exception: type[Exception]) -> None:
    fixture(gw, "denied", error={"status": status})
    with pytest.raises(exception):
        ask(gw, "denied", max_retries=3)
    assert len(calls(gw)) == 1


def test_html_502_from_a_proxy(gw: MockGateway, monkeypatch: pytest.MonkeyPatch) -> None:
    page = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    fixture(gw, "proxy", error={"status": 502, "body": page, "content_type": "text/html"})
    with pytest.raises(openai.InternalServerError) as caught:
        ask(gw, "proxy", max_retries=0)
    assert caught.value.response.headers["content-type"].startswith("text/html")
    assert caught.value.response.text == page
    monkeypatch.setenv("EDGEE_BASE_URL", gw.url)
    with pytest.raises(RuntimeError, match=r"API error 502: <html>"):
        Edgee(API_KEY).send(model=MODEL, input="proxy")


def test_custom_json_body_and_status(gw: MockGateway) -> None:
    fixture(gw, "teapot", error={"status": 418, "body": {"oops": True}})
    response = httpx2.post(f"{gw.base_url}/chat/completions", json=body("teapot", False), headers=HEADERS)
    assert response.status_code == 418
    assert response.json() == {"oops": True}


def test_edgee_sdk_sees_the_429(gw: MockGateway, monkeypatch: pytest.MonkeyPatch) -> None:
    fixture(gw, "limited", error={"status": 429, "retry_after": 2})
    monkeypatch.setenv("EDGEE_BASE_URL", gw.url)
    with pytest.raises(RuntimeError, match=r"API error 429: .*usage_limit_exceeded"):
        Edgee(API_KEY).send(model=MODEL, input="limited")


def test_fixture_fails_twice_then_succeeds(gw: MockGateway) -> None:
    handle_on(gw).add(
        {
            "name": "flaky",
            "match": {"last_user_message": "flaky"},
            "replies": [{"error": {"status": 503, "retry_after": 0.01}}] * 2 + [{"content": "finally"}],
        },
    )
    answer = ask(gw, "flaky", max_retries=2)
    assert answer.choices[0].message.content == "finally"
    assert [c["status"] for c in calls(gw)] == [503, 503, 200]


# --- fault rules ----------------------------------------------------------------------------------------------------


def test_rule_errors_twice_then_the_fixture_answers(gw: MockGateway) -> None:
    fixture(gw, "steady", content="steady answer")
    added = handle_on(gw).fault(
        {
            "name": "outage",
            "match": {"model": "openai/*"},
            "fault": {"type": "error", "status": 502, "retry_after": 0.01},
            "times": 2,
        },
    )
    assert added == ["outage"]
    answer = ask(gw, "steady", max_retries=2)
    assert answer.choices[0].message.content == "steady answer"
    journal = calls(gw)
    assert [(c["status"], c["fault"], c["fixture"]) for c in journal] == [
        (502, "error", None),
        (502, "error", None),
        (200, None, "steady"),
    ]
    assert journal[0]["delivered"]["fault"]["source"] == "rule 'outage'"
    listed = handle_on(gw).control("GET", "/faults")["faults"]
    assert [(r["name"], r["matched"], r["fired"]) for r in listed] == [("outage", 3, 2)]
    assert handle_on(gw).control("DELETE", "/faults") == {"removed": 1}
    assert handle_on(gw).control("GET", "/faults") == {"faults": []}


def test_rule_nth_and_every(gw: MockGateway) -> None:
    handle_on(gw).fault({"fault": {"type": "error", "status": 500}, "nth": [2], "every": 1})
    handle_on(gw).fault({"fault": {"type": "error", "status": 503}, "every": 3})
    for _ in range(6):
        httpx2.post(f"{gw.base_url}/chat/completions", json=body("x", False), headers=HEADERS)
    assert [c["status"] for c in calls(gw)] == [200, 500, 503, 200, 200, 503]


def test_bad_rule_is_refused_with_the_field(gw: MockGateway) -> None:
    answer = request(gw.port, "POST", "/__mockgw/faults", {"fault": {"type": "cut"}}, key=None)
    assert answer.status == 400
    error = answer.json()["error"]
    assert error["code"] == "invalid_fault"
    assert "after_events" in error["message"]


def test_config_rule_with_probability_is_the_same_for_the_same_seed(
    gateway_factory: Callable[..., MockGateway],
) -> None:
    rule = {"name": "coin", "fault": {"type": "error", "status": 503}, "probability": 0.5}

    def run(seed: int) -> list[int]:
        gateway = gateway_factory(seed=seed, faults=(rule,))
        for _ in range(12):
            httpx2.post(f"{gateway.base_url}/chat/completions", json=body("x", False), headers=HEADERS)
        return [c["status"] for c in calls(gateway)]

    first, again, other = run(7), run(7), run(8)
    assert first == again
    assert first != other
    assert 200 in first and 503 in first


# --- connection faults ----------------------------------------------------------------------------------------------


def test_reset(gw: MockGateway) -> None:
    fixture(gw, "reset", fault={"type": "reset"})
    with pytest.raises(openai.APIConnectionError) as caught:
        ask(gw, "reset", max_retries=1)
    assert isinstance(caught.value.__cause__, httpx2.ReadError)
    journal = calls(gw)
    assert len(journal) == 2  # max_retries + 1
    assert journal[0]["fault"] == "reset" and journal[0]["delivered"]["ending"] == "reset"
    with pytest.raises(httpx2.ReadError, match="reset"):
        httpx2.post(f"{gw.base_url}/chat/completions", json=body("reset", False), headers=HEADERS)


async def test_reset_seen_by_aiohttp(gw: MockGateway) -> None:
    fixture(gw, "reset", fault={"type": "reset"})
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientOSError, match="reset"):
            await session.post(f"{gw.base_url}/chat/completions", json=body("reset"), headers=HEADERS)


async def test_close_without_response(gw: MockGateway) -> None:
    fixture(gw, "close", fault={"type": "close"})
    with pytest.raises(openai.APIConnectionError) as caught:
        ask(gw, "close", max_retries=0)
    assert isinstance(caught.value.__cause__, httpx2.RemoteProtocolError)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await session.post(f"{gw.base_url}/chat/completions", json=body("close"), headers=HEADERS)


async def test_garbage_is_seeded(gateway_factory: Callable[..., MockGateway]) -> None:
    seen: list[str] = []
    for seed in (3, 3, 4):
        gateway = gateway_factory(seed=seed)
        fixture(gateway, "garbage", fault={"type": "garbage", "size": 32})
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.ClientResponseError) as caught:
                await session.post(f"{gateway.base_url}/chat/completions", json=body("garbage"), headers=HEADERS)
        seen.append(str(caught.value.message))
        assert calls(gateway)[0]["delivered"]["bytes"] == 32
    assert seen[0] == seen[1] != seen[2]


def test_hang_times_out_the_client_and_lets_go(gw: MockGateway) -> None:
    fixture(gw, "hang", fault={"type": "hang"})
    with pytest.raises(openai.APITimeoutError):
        ask(gw, "hang", max_retries=1, timeout=0.3)
    journal = calls(gw, wait_for=2)
    assert len(journal) == 2
    assert all(c["delivered"]["released_by"] == "client_disconnected" for c in journal)
    assert all(c["delivered"]["client_disconnected"] for c in journal)


def test_hang_released_closes_the_connection(gw: MockGateway, pool: ThreadPoolExecutor) -> None:
    fixture(gw, "hang", fault={"type": "hang"})
    pending = pool.submit(ask, gw, "hang", max_retries=0)
    held = handle_on(gw).control("GET", "/holds?wait_for=1")["held"]
    assert [(h["fixture"], h["kind"]) for h in held] == [("hang", "hang")]
    assert handle_on(gw).control("POST", "/release?fixture=hang") == {"released": 1}
    with pytest.raises(openai.APIConnectionError):
        pending.result(timeout=10)


def test_server_stop_lets_a_hang_go(gateway_factory: Callable[..., MockGateway], pool: ThreadPoolExecutor) -> None:
    gateway = gateway_factory()
    fixture(gateway, "hang", fault={"type": "hang"})
    pending = pool.submit(ask, gateway, "hang", max_retries=0)
    handle_on(gateway).control("GET", "/holds?wait_for=1")
    started = time.monotonic()
    gateway.stop()
    assert time.monotonic() - started < 5
    with pytest.raises(openai.APIConnectionError):
        pending.result(timeout=10)


def test_slow_body_dribbles_a_json_answer(gw: MockGateway) -> None:
    fixture(gw, "slow", content=TEXT, fault={"type": "slow_body", "chunk_bytes": 64, "every_ms": 40})
    started = time.monotonic()
    answer = ask(gw, "slow", max_retries=0)
    elapsed = time.monotonic() - started
    assert answer.choices[0].message.content == TEXT
    delivered = calls(gw)[0]["delivered"]
    pieces = -(-delivered["bytes"] // 64)
    assert delivered["completed"] and pieces >= 3
    assert elapsed >= (pieces - 1) * 0.04 * 0.8


async def test_slow_body_stream_arrives_in_small_pieces(gw: MockGateway) -> None:
    fixture(gw, "slow", content=TEXT, fault={"type": "slow_body", "chunk_bytes": 10, "every_ms": 1})
    async with aiohttp.ClientSession() as session:
        response = await session.post(f"{gw.base_url}/chat/completions", json=body("slow"), headers=HEADERS)
        pieces = [chunk async for chunk, _ in response.content.iter_chunks()]
    assert max(len(p) for p in pieces) <= 10
    assert b"".join(pieces).endswith(b"data: [DONE]\n\n")


# --- stream faults --------------------------------------------------------------------------------------------------


def test_cut_after_events(gw: MockGateway) -> None:
    fixture(gw, "cut", content=TEXT, fault={"type": "cut", "after_events": 3})
    received: list[str | None] = []
    with pytest.raises(openai.APIConnectionError) as caught:
        for chunk in ask(gw, "cut", stream=True, max_retries=0):
            received.append(chunk.choices[0].delta.content)
    assert isinstance(caught.value.__cause__, httpx2.RemoteProtocolError)
    assert received == ["", "one", " two"]
    delivered = calls(gw)[0]["delivered"]
    assert (delivered["events"], delivered["ending"], delivered["completed"]) == (3, "close", False)


async def test_cut_with_rst_seen_by_aiohttp(gw: MockGateway) -> None:
    fixture(gw, "cut", content=TEXT, fault={"type": "cut", "after_events": 2, "rst": True})
    received = bytearray()
    async with aiohttp.ClientSession() as session:
        response = await session.post(f"{gw.base_url}/chat/completions", json=body("cut"), headers=HEADERS)
        with pytest.raises(aiohttp.ClientPayloadError):
            async for chunk in response.content.iter_any():
                received.extend(chunk)
    assert received.count(b"data: ") == 2
    assert b"[DONE]" not in received


async def test_cut_mid_event_leaves_a_partial_data_line(gw: MockGateway) -> None:
    fixture(gw, "mid", content=TEXT, fault={"type": "cut_mid_event", "at_event": 2})
    received = bytearray()
    async with aiohttp.ClientSession() as session:
        response = await session.post(f"{gw.base_url}/chat/completions", json=body("mid"), headers=HEADERS)
        with pytest.raises(aiohttp.ClientPayloadError):
            async for chunk in response.content.iter_any():
                received.extend(chunk)
    first, partial = bytes(received).split(b"\n\n")
    assert json.loads(first.removeprefix(b"data: "))["choices"][0]["delta"]["role"] == "assistant"
    assert partial.startswith(b"data: {") and not partial.endswith(b"}")


def test_malformed_chunk(gw: MockGateway, monkeypatch: pytest.MonkeyPatch) -> None:
    fixture(gw, "bad", content=TEXT, fault={"type": "malformed", "at_event": 3})
    received: list[str | None] = []
    with pytest.raises(json.JSONDecodeError):
        for chunk in ask(gw, "bad", stream=True, max_retries=0):
            received.append(chunk.choices[0].delta.content)
    assert received == ["", "one"]
    monkeypatch.setenv("EDGEE_BASE_URL", gw.url)
    text = "".join(c.text or "" for c in Edgee(API_KEY).stream(model=MODEL, input="bad"))
    assert text == "one three four five"  # the edgee SDK skips the chunk it cannot parse


def test_error_event_mid_stream(gw: MockGateway) -> None:
    fixture(gw, "err", content=TEXT, fault={"type": "error_event", "at_event": 3, "message": "upstream fell over"})
    received: list[str | None] = []
    with pytest.raises(openai.APIError, match="upstream fell over"):
        for chunk in ask(gw, "err", stream=True, max_retries=0):
            received.append(chunk.choices[0].delta.content)
    assert received == ["", "one"]
    assert calls(gw)[0]["delivered"]["ending"] == "eof"


def test_no_done_and_no_finish_reason(gw: MockGateway) -> None:
    fixture(gw, "nodone", content=TEXT, fault={"type": "no_done"})
    fixture(gw, "nofinish", content=TEXT, fault={"type": "no_finish_reason"})
    raw = httpx2.post(f"{gw.base_url}/chat/completions", json=body("nodone"), headers=HEADERS).text
    assert "[DONE]" not in raw and '"finish_reason":"stop"' in raw
    chunks = list(ask(gw, "nodone", stream=True, max_retries=0))
    assert chunks[-1].choices[0].finish_reason == "stop"
    chunks = list(ask(gw, "nofinish", stream=True, max_retries=0))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == TEXT
    assert all(c.choices[0].finish_reason is None for c in chunks)


def test_stall_then_release_resumes_the_stream(gw: MockGateway, pool: ThreadPoolExecutor) -> None:
    fixture(gw, "stall", content=TEXT, fault={"type": "stall", "after_events": 2})

    def read() -> str:
        return "".join(c.choices[0].delta.content or "" for c in ask(gw, "stall", stream=True, max_retries=0))

    pending = pool.submit(read)
    held = handle_on(gw).control("GET", "/holds?wait_for=1")["held"]
    assert [h["kind"] for h in held] == ["stall"]
    assert not pending.done()
    handle_on(gw).control("POST", "/release")
    assert pending.result(timeout=10) == TEXT
    assert calls(gw, wait_for=1)[0]["delivered"]["released_by"] == "release"


def test_stall_trips_the_client_read_timeout(gw: MockGateway) -> None:
    fixture(gw, "stall", content=TEXT, fault={"type": "stall", "after_events": 2})
    received: list[str | None] = []
    with pytest.raises(openai.APITimeoutError):
        for chunk in ask(gw, "stall", stream=True, max_retries=0, timeout=0.3):
            received.append(chunk.choices[0].delta.content)
    assert received == ["", "one"]
    delivered = calls(gw, wait_for=1)[0]["delivered"]
    assert (delivered["events"], delivered["client_disconnected"]) == (2, True)


def test_keepalive_comments_are_ignored_by_clients(gw: MockGateway) -> None:
    fixture(gw, "alive", content=TEXT, fault={"type": "keepalive", "every_events": 2})
    raw = httpx2.post(f"{gw.base_url}/chat/completions", json=body("alive"), headers=HEADERS).text
    assert raw.count(": keep-alive\n\n") >= 2
    chunks = list(ask(gw, "alive", stream=True, max_retries=0))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == TEXT


def test_keepalive_during_a_slow_first_token(gw: MockGateway) -> None:
    fixture(gw, "alive", content="hi", ttft_ms=250, fault={"type": "keepalive", "every_ms": 50})
    raw = httpx2.post(f"{gw.base_url}/chat/completions", json=body("alive"), headers=HEADERS).text
    assert raw.startswith(": keep-alive\n\n")
    assert raw.count(": keep-alive") >= 3


# --- latency and holds ----------------------------------------------------------------------------------------------


def test_time_to_first_token(gw: MockGateway) -> None:
    fixture(gw, "ttft", content=TEXT, ttft_ms=300, chunk_ms=20)
    started = time.monotonic()
    stream = ask(gw, "ttft", stream=True, max_retries=0)
    first = next(iter(stream))
    assert first.choices[0].delta.role == "assistant"
    assert time.monotonic() - started >= 0.25
    list(stream)
    assert calls(gw)[0]["delivered"]["timing"] == {"delay_ms": 0.0, "ttft_ms": 300.0, "chunk_ms": 20.0}


def test_delay_makes_the_client_time_out(gw: MockGateway) -> None:
    fixture(gw, "late", delay_ms=2000)
    with pytest.raises(openai.APITimeoutError):
        ask(gw, "late", max_retries=0, timeout=0.2)
    assert calls(gw, wait_for=1)[0]["delivered"]["ending"] == "client_disconnected"


def test_jittered_timings_are_drawn_from_the_seed(gateway_factory: Callable[..., MockGateway]) -> None:
    def timing(seed: int) -> dict[str, Any]:
        gateway = gateway_factory(seed=seed)
        fixture(
            gateway,
            "jitter",
            content=TEXT,
            ttft_ms={"uniform": [1, 30]},
            chunk_ms={"lognormal": {"median": 3, "sigma": 0.5}},
        )
        list(ask(gateway, "jitter", stream=True, max_retries=0))
        return dict(calls(gateway)[0]["delivered"]["timing"])

    first, again, other = timing(11), timing(11), timing(12)
    assert first == again != other
    assert 1 <= first["ttft_ms"] <= 30
    assert len(first["gaps_ms"]) == 7  # one gap before each event after the first (role, 5 words, finish, DONE)


def test_latency_rule_overrides_the_waits(gw: MockGateway) -> None:
    handle_on(gw).fault({"name": "slow", "fault": {"type": "latency", "delay_ms": 200}})
    started = time.monotonic()
    ask(gw, "x", max_retries=0)
    assert time.monotonic() - started >= 0.15
    call = calls(gw)[0]
    assert call["fault"] == "latency" and call["delivered"]["timing"]["delay_ms"] == 200.0


def test_hold_until_release(gw: MockGateway, pool: ThreadPoolExecutor) -> None:
    fixture(gw, "held", content="at last", hold=True)
    pending = [pool.submit(ask, gw, "held", max_retries=0) for _ in range(2)]
    assert len(handle_on(gw).control("GET", "/holds?wait_for=2")["held"]) == 2
    listed = handle_on(gw).control("GET", "/calls")
    assert listed["calls"] == [] and [h["fixture"] for h in listed["held"]] == ["held", "held"]
    assert handle_on(gw).control("POST", "/release?count=1") == {"released": 1}
    done, still_held = wait(pending, timeout=10, return_when=FIRST_COMPLETED)
    assert (len(done), len(still_held)) == (1, 1)
    assert len(handle_on(gw).control("GET", "/holds")["held"]) == 1
    handle_on(gw).control("POST", "/release?fixture=held")
    assert [p.result(timeout=10).choices[0].message.content for p in pending] == ["at last", "at last"]
    assert [c["delivered"]["released_by"] for c in calls(gw, wait_for=2)] == ["release", "release"]


def test_hold_timeout_then_answer(gw: MockGateway) -> None:
    fixture(gw, "held", content="eventually", hold={"timeout_ms": 150})
    started = time.monotonic()
    assert ask(gw, "held", max_retries=0).choices[0].message.content == "eventually"
    assert time.monotonic() - started >= 0.1
    assert calls(gw)[0]["delivered"]["released_by"] == "timeout"


def test_cancelled_hold_is_journaled_as_a_disconnect(gw: MockGateway) -> None:
    fixture(gw, "held", hold=True)

    async def cancel() -> None:
        async with aiohttp.ClientSession() as session:
            task = asyncio.create_task(
                session.post(f"{gw.base_url}/chat/completions", json=body("held", False), headers=HEADERS)
            )
            await asyncio.to_thread(handle_on(gw).control, "GET", "/holds?wait_for=1")
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(cancel())
    delivered = calls(gw, wait_for=1)[0]["delivered"]
    assert delivered["released_by"] == "client_disconnected" and delivered["client_disconnected"]


def test_wait_for_returns_when_the_calls_arrive(gw: MockGateway, pool: ThreadPoolExecutor) -> None:
    fixture(gw, "late", delay_ms=100)
    pending = pool.submit(ask, gw, "late", max_retries=0)
    assert len(calls(gw, wait_for=1, timeout=10)) == 1
    pending.result(timeout=10)
    started = time.monotonic()
    assert len(calls(gw, wait_for=5, timeout=0.2)) == 1  # gives up at the timeout with what there is
    assert time.monotonic() - started < 5


# --- rate limits ----------------------------------------------------------------------------------------------------


def test_requests_per_minute_per_key(
    gateway_factory: Callable[..., MockGateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = gateway_factory(rate_limit={"requests_per_minute": 2})
    for _ in range(2):
        ask(gateway, "x", max_retries=0)
    with pytest.raises(openai.RateLimitError) as caught:
        ask(gateway, "x", max_retries=0)
    assert caught.value.body["code"] == "usage_limit_exceeded"  # type: ignore[index]
    assert 58 <= int(caught.value.response.headers["retry-after"]) <= 60
    ask(gateway, "x", max_retries=0, api_key="another-key")  # each key has its own budget
    monkeypatch.setenv("EDGEE_BASE_URL", gateway.url)
    with pytest.raises(RuntimeError, match="API error 429"):
        Edgee(API_KEY).send(model=MODEL, input="x")
