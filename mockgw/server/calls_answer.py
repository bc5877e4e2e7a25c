"""`GET /__mockgw/calls` written as it is made: pages, cursors, and the loop's turn between calls.

A full journal is large (a 4 MiB body appears three times in its call: `body`, `messages`, `last_user_message`),
and making and serialising it in one go held the loop for seconds. Here each call is made and serialised alone,
the loop gets its turn every few milliseconds, and an answer past CHUNK_BYTES is sent chunked as it is made
(never whole in memory). `limit` looks at the newest calls only, so `?limit=1` costs one call, and the answer says
how to get the next page.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from typing import Any

from aiohttp import web

from mockgw.core.errors import ApiError, invalid_request
from mockgw.gateway.bodies import dumps_compact
from mockgw.journal.calls import CallFilter, Entry, Journal

CHUNK_BYTES = 256 * 1024  # an answer bigger than this is streamed (chunked transfer) as it is made
SLICE_S = 0.005  # the loop gets its turn at least this often while calls are made and serialised
TURN_S = 0.001  # and its turn lasts this long: an arriving request needs several loop iterations to be answered


def cursor(request: web.Request, name: str) -> int | ApiError | None:
    """`?after=` / `?before=`: a call id (`call-12`) or its number (`12`); None when absent."""
    text = request.query.get(name)
    if text is None or text == "":
        return None
    number = text.removeprefix("call-")
    if not number.isdigit():
        return invalid_request(
            f"Query parameter '{name}' must be a call id such as 'call-12' (the `id` of a call), got '{text}'.", name
        )
    return int(number)


class Slicer:
    """Gives the loop its turn when the work since the last turn took SLICE_S."""

    def __init__(self) -> None:
        self.since = time.perf_counter()

    async def tick(self) -> None:
        if time.perf_counter() - self.since >= SLICE_S:
            await asyncio.sleep(TURN_S)
            self.since = time.perf_counter()


class JsonWriter:
    """An answer written in pieces: one plain response when it stays small, else chunked as it grows (in pieces of
    at most CHUNK_BYTES, the loop's turn between them)."""

    def __init__(self, request: web.Request, slicer: Slicer) -> None:
        self.request = request
        self.slicer = slicer
        self.buffer = bytearray()
        self.response: web.StreamResponse | None = None

    async def add(self, data: bytes) -> None:
        if len(self.buffer) + len(data) < CHUNK_BYTES:
            self.buffer += data
            return
        if self.response is None:
            self.response = web.StreamResponse(headers={"Content-Type": "application/json"})
            self.response.enable_chunked_encoding()
            await self.response.prepare(self.request)
        if self.buffer:
            await self.response.write(bytes(self.buffer))  # waits while the client is slow to read (backpressure)
            self.buffer.clear()
        view = memoryview(data)
        for start in range(0, len(data), CHUNK_BYTES):  # a big field in slices, not copied into the buffer first
            await self.response.write(view[start : start + CHUNK_BYTES])
            await self.slicer.tick()

    async def finish(self) -> web.StreamResponse:
        if self.response is None:
            return web.Response(body=bytes(self.buffer), content_type="application/json")
        await self.response.write(bytes(self.buffer))
        await self.response.write_eof()
        return self.response


async def choose(entries: Sequence[Entry], where: CallFilter, forward: bool) -> tuple[list[Entry], bool]:
    """The first `where.limit` accepted entries going forward (or the newest going back), oldest first, and
    whether more are accepted beyond them. Only the calls looked at are made."""
    slicer = Slicer()
    chosen: list[Entry] = []
    more = False
    for entry in entries if forward else reversed(entries):
        if where.accepts(entry.call()):
            if len(chosen) == where.limit:
                more = True
                break
            chosen.append(entry)
        await slicer.tick()
    return (chosen if forward else chosen[::-1]), more


async def answer(
    request: web.Request,
    journal: Journal,
    where: CallFilter,
    after: int | None,
    before: int | None,
    held: Iterable[dict[str, Any]],
) -> web.StreamResponse:
    """`{"calls": [...], "held": [...]}`, plus `"next"` (the URL of the next page, or null) when paging."""
    entries = journal.entries(where.session, after, before)
    paging = where.limit is not None or after is not None or before is not None
    next_url: str | None = None
    chosen = where.limit is not None
    if where.limit:
        forward = after is not None
        entries, more = await choose(entries, where, forward)
        if more and entries:
            edge = f"call-{(entries[-1] if forward else entries[0]).number}"
            place = {"after": edge} if forward else {"before": edge}
            next_url = str(request.rel_url.without_query_params("after", "before").extend_query(place))
    slicer = Slicer()
    writer = JsonWriter(request, slicer)
    await writer.add(b'{"calls":[')
    first = True
    for entry in entries:
        call = entry.call()
        await slicer.tick()  # a big call takes milliseconds to make, and as many to serialise
        if not chosen and not where.accepts(call):
            continue
        opening = b"{" if first else b",{"
        for key, value in call.to_json().items():  # field by field: a 4 MB body is serialised apart from the rest
            await writer.add(opening + dumps_compact(key) + b":" + dumps_compact(value))
            opening = b","
            await slicer.tick()
        await writer.add(b"}")
        first = False
    await writer.add(b'],"held":' + dumps_compact(list(held)))
    if paging:
        await writer.add(b',"next":' + dumps_compact(next_url))
    await writer.add(b"}")
    return await writer.finish()
