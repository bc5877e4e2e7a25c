"""The event-loop watchdog (issue 11, item 3): a step that holds the loop longer than `watchdog_ms` is logged and
kept as a problem naming the request (its journal call id) and the step; a loop that only waited (a busy machine,
another thread) is not a problem."""

from __future__ import annotations

import gc
import json
import logging
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import openai
import pytest

from mockgw.gateway.stalls import Stall, heartbeat_interval
from mockgw.server.runner import MockGateway
from tests.conftest import API_KEY

HELD = "event loop held for "


def control(gateway: MockGateway, method: str, path: str, payload: Any = None, session: str = "") -> Any:
    """`METHOD /__mockgw/<path>` in a session (the X-Mockgw-Session header); the decoded JSON answer."""
    request = urllib.request.Request(
        f"{gateway.url}/__mockgw/{path}",
        data=json.dumps(payload).encode() if payload is not None else None,
        method=method,
        headers={"Content-Type": "application/json", "X-Mockgw-Session": session},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _held(gateway: MockGateway, session: str = "", wait_s: float = 3.0) -> list[str]:
    """The session's watchdog problems, once there is one (the heartbeat reports a stall just after it ends)."""
    deadline = time.monotonic() + wait_s
    while True:
        found = [p for p in control(gateway, "GET", "problems", session=session)["problems"] if p.startswith(HELD)]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def _busy(seconds: float) -> None:
    """Compute (not sleep) for `seconds` of CPU time: what a step of mockgw's own that holds the loop does."""
    start = time.thread_time()
    while time.thread_time() - start < seconds:
        pass


def test_a_request_that_holds_the_loop_is_a_problem_with_its_call_id(
    gateway_factory: Callable[..., MockGateway], caplog: pytest.LogCaptureFixture
) -> None:
    # Eight catastrophic fixture regexes: each search is cut at 10 ms of CPU (core/regexes.py), all eight in the one
    # synchronous matching step of one request: ~80 ms of CPU on the loop, over a 20 ms watchdog.
    gateway = gateway_factory(watchdog_ms=20)
    session = "slow-one"
    client = openai.OpenAI(base_url=f"{gateway.url}/s/{session}/v1", api_key=API_KEY, max_retries=0)
    hello = [{"role": "user", "content": "hello"}]
    client.chat.completions.create(model="openai/gpt-4o", messages=hello)  # the first answer imports generation
    for n in range(8):
        pattern = f"^(a+)+{'bcdefghi'[n]}?$"  # eight patterns: a pattern that ran out once is not tried again
        fixture = {"name": f"backtracker-{n}", "match": {"last_user_message": {"regex": pattern}}}
        control(gateway, "POST", "fixtures", {**fixture, "reply": {"content": "x"}}, session=session)
    ten_kb = [{"role": "user", "content": "a" * 10_000 + "!"}]
    with caplog.at_level(logging.WARNING, logger="mockgw"):
        client.chat.completions.create(model="openai/gpt-4o", messages=ten_kb)
        held = _held(gateway, session)
    calls = control(gateway, "GET", "calls", session=session)["calls"]
    blamed = f"by POST /v1/chat/completions ({calls[-1]['id']}, session 'slow-one')"
    (problem,) = [p for p in held if blamed in p]
    assert "(watchdog limit 20 ms" in problem
    assert "\n    at mockgw/" in problem  # the step (the time-limited regex search, sampled during the hold)
    assert any(problem in record.getMessage() for record in caplog.records)  # and logged
    assert _held(gateway, wait_s=0) == []  # the default session is not blamed for another's request


def test_a_step_outside_any_request_is_a_problem_of_the_default_session(
    gateway_factory: Callable[..., MockGateway],
) -> None:
    gateway = gateway_factory(watchdog_ms=30)
    gateway.run_in_loop(lambda: _busy(0.2))
    (problem,) = _held(gateway)
    assert "by no request" in problem
    assert "test_watchdog.py" in problem and "in _busy" in problem  # the step the loop was held in
    held_ms = float(problem.removeprefix(HELD).split(" ms")[0])
    assert held_ms >= 100  # the heartbeat runs up to one interval late after a 200 ms hold: at least 170 ms


def test_waiting_is_not_a_problem(gateway_factory: Callable[..., MockGateway]) -> None:
    """A loop thread that waits (the machine did not run it, or another thread held the interpreter) is not held
    by mockgw's work: logged, never a problem, so that a busy CI runner does not fail tests."""
    gateway = gateway_factory(watchdog_ms=30)
    gateway.run_in_loop(lambda: time.sleep(0.2))
    assert _held(gateway, wait_s=0.3) == []


def test_a_full_garbage_collection_is_not_a_problem(gateway_factory: Callable[..., MockGateway]) -> None:
    """Its length is the size of the whole process's heap: in a test process, the test suite's, not mockgw's."""
    gateway = gateway_factory(watchdog_ms=30)

    def busy_then_collect() -> None:
        _busy(0.15)
        gc.collect()

    gateway.run_in_loop(busy_then_collect)
    assert _held(gateway, wait_s=0.3) == []


def test_no_watchdog_with_0(gateway_factory: Callable[..., MockGateway]) -> None:
    gateway = gateway_factory(watchdog_ms=0)
    gateway.run_in_loop(lambda: _busy(0.15))
    assert _held(gateway, wait_s=0.3) == []


def test_stall_decisions() -> None:
    assert heartbeat_interval(0.1) == 0.02
    assert heartbeat_interval(10) == 0.025
    assert heartbeat_interval(0.001) == 0.005
    assert Stall(150, 140, 100).counts
    assert not Stall(150, 10, 100).counts  # waiting: a busy machine
    assert not Stall(90, 90, 100).counts
    assert not Stall(150, 140, 100, importing=True).counts  # a module's first load: once per process
    assert not Stall(150, 140, 100, collected=True).counts  # a full collection: the whole process's heap
    text = Stall(150, 140, 100, "POST /v1/chat/completions (call-3)", "mockgw/x.py:1 in f").text()
    assert text == (
        "event loop held for 150 ms (watchdog limit 100 ms, 140 ms of CPU) by POST /v1/chat/completions (call-3): "
        "every other request waited meanwhile\n    at mockgw/x.py:1 in f"
    )
