"""Answers written together at the end of the loop's turn (server/batch.py).

On real sockets: the turn's first write goes at once, the others when the turn ends (or once `MAX_BATCH` are kept),
in order, closing after when asked, skipping a client that left. Through the gateway: many clients at once each get
their own answer, and a timed stream's head, kept for the turn's end behind many others, still comes before its
events (the ticker's pass writes what is kept first).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import openai

from mockgw.server.batch import MAX_BATCH, WriteBatch
from mockgw.server.runner import MockGateway
from tests.conftest import API_KEY, handle_on
from tests.server.test_fast_path import CHAT, KEY, _read_answer, _request, chat


async def _pairs(count: int) -> list[tuple[asyncio.Transport, socket.socket]]:
    """`count` connected pairs: a transport of the running loop, and the blocking socket its peer reads."""
    loop = asyncio.get_running_loop()
    pairs = []
    for _ in range(count):
        ours, theirs = socket.socketpair()
        transport, _ = await loop.create_connection(asyncio.Protocol, sock=ours)
        theirs.setblocking(False)
        pairs.append((transport, theirs))
    return pairs


def _received(sock: socket.socket) -> bytes:
    """What the peer can read now, without waiting (b"" for nothing; EOF reads as b"<eof>")."""
    try:
        data = sock.recv(65536)
    except BlockingIOError:
        return b""
    return data or b"<eof>"


async def test_the_turns_first_write_goes_at_once_and_the_others_when_the_turn_ends() -> None:
    (first, first_peer), (second, second_peer), (third, third_peer) = await _pairs(3)
    batch = WriteBatch(asyncio.get_running_loop())
    batch.send(first, b"one")
    batch.send(second, b"two")
    batch.send(second, b" and more")
    batch.send(third, b"bye", close=True)
    assert _received(first_peer) == b"one"
    assert _received(second_peer) == b"" and _received(third_peer) == b""
    await asyncio.sleep(0)  # the turn ends
    assert _received(second_peer) == b"two and more"  # in the order given
    assert _received(third_peer) == b"bye"
    await asyncio.sleep(0.01)
    assert _received(third_peer) == b"<eof>"  # closed after its write
    batch.send(second, b"next turn")  # a new turn: its first write goes at once again
    assert _received(second_peer) == b"next turn"
    for transport, peer in ((first, first_peer), (second, second_peer)):
        transport.close()
        peer.close()
    third_peer.close()


async def test_a_full_batch_goes_at_once_and_a_client_that_left_is_skipped() -> None:
    pairs = await _pairs(MAX_BATCH + 1)
    batch = WriteBatch(asyncio.get_running_loop())
    (gone, gone_peer), *kept = pairs
    batch.send(kept[0][0], b"first")  # the turn's first: at once
    batch.send(gone, b"lost")
    gone.close()  # the client leaves before the turn ends
    for index, (transport, _) in enumerate(kept[1:], 1):
        batch.send(transport, b"answer %d" % index)
    # kept after the first: the gone one and MAX_BATCH - 1 others, a full batch: everything went at once
    assert [_received(peer) for _, peer in kept] == [b"first"] + [b"answer %d" % i for i in range(1, len(kept))]
    await asyncio.sleep(0.01)
    assert _received(gone_peer) == b"<eof>"  # nothing written to it, no error raised
    for transport, peer in pairs:
        transport.close()
        peer.close()


def _send_while_held(gateway: MockGateway, sends: Iterable[tuple[socket.socket, bytes]]) -> None:
    """Send every request while the server's loop is held (the test reaches inside for its loop): when it comes
    back, they are all waiting, and one turn answers them all."""
    loop = gateway._loop
    assert loop is not None
    held = threading.Event()
    loop.call_soon_threadsafe(lambda: (held.set(), time.sleep(0.2)))
    assert held.wait(10)
    for sock, request in sends:
        sock.sendall(request)


ECHO = 'version: 1\nfixtures:\n  - name: echo\n    match: {}\n    reply: {content: "echo {{ last_user_message }}"}\n'


async def test_the_openai_sdk_asking_many_at_once_gets_each_its_own_answer(
    gateway_factory: Callable[..., MockGateway], tmp_path: Path
) -> None:
    """A test suite's or an agent's concurrent calls through one AsyncOpenAI client (its pool of connections):
    answers given in the same turn go out together, and each call still gets its own, whole and in order."""
    fixtures = tmp_path / "echo.yaml"
    fixtures.write_text(ECHO)
    gateway = gateway_factory(fixtures=(str(fixtures),))
    count = 3 * MAX_BATCH
    async with openai.AsyncOpenAI(base_url=gateway.base_url, api_key=API_KEY, max_retries=0) as client:

        async def ask(n: int) -> str | None:
            reply = await client.chat.completions.create(
                model="openai/gpt-4o", messages=[{"role": "user", "content": f"caller {n}"}]
            )
            return reply.choices[0].message.content

        for _ in range(2):  # the second round on the connections the first one left open
            assert await asyncio.gather(*(ask(n) for n in range(count))) == [f"echo caller {n}" for n in range(count)]
    assert len(handle_on(gateway).calls()) == 2 * count


def test_many_clients_at_once_each_get_their_own_answer(
    gateway_factory: Callable[..., MockGateway], tmp_path: Path
) -> None:
    fixtures = tmp_path / "echo.yaml"
    fixtures.write_text(ECHO)
    gateway = gateway_factory(fixtures=(str(fixtures),))
    count = 3 * MAX_BATCH
    socks = [socket.create_connection(("127.0.0.1", gateway.port), timeout=10) for _ in range(count)]
    requests = [_request("POST", CHAT, chat(f"client {n}"), KEY) for n in range(count)]
    _send_while_held(gateway, zip(socks, requests, strict=True))
    contents = []
    for sock in socks:
        answer = _read_answer(sock, bytearray())
        sock.close()
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
        contents.append(json.loads(answer.split(b"\r\n\r\n", 1)[1])["choices"][0]["message"]["content"])
    assert contents == [f"echo client {n}" for n in range(count)]
    assert len(handle_on(gateway).calls()) == count


def test_a_timed_streams_head_kept_behind_others_still_comes_before_its_events(
    gateway_factory: Callable[..., MockGateway], tmp_path: Path
) -> None:
    """Streams whose next event is due within a millisecond, started many in one turn (the server's loop is held
    while they are sent): the turn lasts longer than that, so the ticker's pass comes before the turn's end, and
    must write the kept heads first."""
    fixtures = tmp_path / "paced.yaml"
    fixtures.write_text(
        "version: 1\nfixtures:\n  - name: paced\n    match: {}\n"
        "    reply: {content: one two three four five, chunk_tokens: 1, chunk_ms: 1}\n"
    )
    gateway = gateway_factory(fixtures=(str(fixtures),))
    count = 4 * MAX_BATCH
    request = _request("POST", CHAT, chat("paced", stream=True), {**KEY, "Connection": "close"})
    socks = [socket.create_connection(("127.0.0.1", gateway.port), timeout=10) for _ in range(count)]
    _send_while_held(gateway, ((sock, request) for sock in socks))
    answers = []
    for sock in socks:
        answers.append(_read_answer(sock, bytearray()))
        sock.close()
    for answer in answers:
        head, body = answer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"Transfer-Encoding: chunked" in head
        assert body.endswith(b"0\r\n\r\n")
        assert body.count(b"data: ") == 8  # the role, five words, the finish, [DONE]: none lost or misplaced
