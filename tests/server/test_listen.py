"""The listening socket: an IP literal is bound by mockgw itself (no resolving at start-up), a host name by the loop."""

from __future__ import annotations

import socket
from collections.abc import Callable

import openai
import pytest

from mockgw.server.listen import bound, family_of
from mockgw.server.runner import MockGateway
from tests.conftest import API_KEY


def _ask(base_url: str) -> str | None:
    client = openai.OpenAI(base_url=base_url, api_key=API_KEY, max_retries=0)
    answer = client.chat.completions.create(model="openai/gpt-4o", messages=[{"role": "user", "content": "hello"}])
    return answer.choices[0].message.content


def test_ip_literals_are_bound_directly_and_names_are_left_to_the_loop() -> None:
    assert family_of("127.0.0.1") == socket.AF_INET
    assert family_of("0.0.0.0") == socket.AF_INET
    assert family_of("::1") == socket.AF_INET6
    assert family_of("localhost") is None
    assert family_of("fe80::1%eth0") is None  # a scoped address: the loop resolves its scope
    assert bound("localhost", 0) is None


def test_a_bound_socket_has_the_loops_options_and_is_not_yet_listening() -> None:
    sock = bound("127.0.0.1", 0)
    assert sock is not None
    with sock:
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) == 1
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 0
        assert sock.getblocking() is False
        assert sock.getsockname()[0] == "127.0.0.1"


def test_a_taken_address_fails_with_the_loops_wording() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(OSError, match=rf"error while attempting to bind on address \('127.0.0.1', {port}\)"):
            bound("127.0.0.1", port)


def test_a_server_on_an_ip_literal_and_one_on_a_host_name_both_answer_a_real_client(
    gateway_factory: Callable[..., MockGateway],
) -> None:
    literal = gateway_factory(fixtures=("fixtures",), host="127.0.0.1")
    named = gateway_factory(fixtures=("fixtures",), host="localhost")
    assert _ask(literal.base_url)
    assert named.base_url.startswith("http://localhost:")
    assert _ask(named.base_url)  # the loop resolved and bound localhost
