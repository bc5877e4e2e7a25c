"""mockgw serves on uvloop where it is installed (the server thread and `mockgw serve`), asyncio's loop otherwise."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import openai
import pytest
import uvloop

from mockgw.server import loop
from mockgw.server.runner import MockGateway


def _loop_of(gateway: MockGateway) -> type[asyncio.AbstractEventLoop]:
    return gateway.run_in_loop(lambda: type(asyncio.get_running_loop()))


def test_the_server_thread_runs_on_uvloop_and_answers_a_real_client(
    gateway_factory: Callable[..., MockGateway],
) -> None:
    gateway = gateway_factory(fixtures=("fixtures",))
    assert _loop_of(gateway) is uvloop.Loop
    client = openai.OpenAI(base_url=gateway.base_url, api_key="sk-test", max_retries=0)
    answer = client.chat.completions.create(model="openai/gpt-4o", messages=[{"role": "user", "content": "hello"}])
    assert answer.choices[0].message.content


def test_mockgw_loop_asyncio_picks_the_standard_loop(
    monkeypatch: pytest.MonkeyPatch, gateway_factory: Callable[..., MockGateway]
) -> None:
    monkeypatch.setenv("MOCKGW_LOOP", "asyncio")
    gateway = gateway_factory(fixtures=("fixtures",))
    assert not issubclass(_loop_of(gateway), uvloop.Loop)
    assert isinstance(gateway.run_in_loop(asyncio.get_running_loop), asyncio.BaseEventLoop)


def test_run_uses_uvloop_and_returns_the_coroutines_result() -> None:
    async def which() -> type[asyncio.AbstractEventLoop]:
        return type(asyncio.get_running_loop())

    assert loop.run(which()) is uvloop.Loop
