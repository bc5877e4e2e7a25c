"""Many clients connecting at once are all accepted and answered (server/accept.py on uvloop), and a stopped
gateway's port is closed."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import pytest

from mockgw.server.runner import MockGateway
from tests.conftest import API_KEY
from tests.support.rawhttp import journal

CLIENTS = 300


async def _ask(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {API_KEY}\r\n"
        "Connection: close\r\n\r\n".encode()
    )
    answer = await reader.read()
    writer.close()
    return answer


async def test_three_hundred_clients_connecting_at_once_are_all_answered_and_journaled(
    gateway_factory: Callable[..., MockGateway],
) -> None:
    gateway = gateway_factory()
    answers = await asyncio.gather(*(_ask(gateway.port) for _ in range(CLIENTS)))
    assert all(answer.startswith(b"HTTP/1.1 200 OK") for answer in answers)
    assert len(await asyncio.to_thread(journal, gateway.port)) == CLIENTS


def test_a_stopped_gateway_accepts_nothing_more(gateway_factory: Callable[..., MockGateway]) -> None:
    gateway = gateway_factory()
    port = gateway.port
    gateway.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
