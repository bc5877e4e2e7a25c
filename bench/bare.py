"""The baseline for `make bench`: a bare aiohttp server answering every request with a constant body.

Run as `python bench/bare.py PORT JSON_FILE SSE_FILE [TIMED_SSE_FILE]`. The bodies are the bytes mockgw sent for
the same request (bench/run.py captures them), so both servers write the same amount. A request whose body asks for
a stream gets the SSE events, one write each on one StreamResponse, as any token-streaming server does. With
TIMED_SSE_FILE, a request tagged `timed1000` (stream-1000-timed) gets those events 20 ms apart, each wait an
`asyncio.sleep` of its own, as a hand-written paced stream does.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from aiohttp import web

EVENT_END = b"\n\n"
TIMED_TAG = "timed1000"
TIMED_CHUNK_S = 0.020


def make_app(json_body: bytes, sse_body: bytes, timed_body: bytes = b"") -> web.Application:
    """An app whose one handler answers with `json_body`, or streams `sse_body` event by event."""
    events = [part + EVENT_END for part in sse_body.split(EVENT_END) if part]
    timed = [part + EVENT_END for part in timed_body.split(EVENT_END) if part]

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if b'"stream":true' not in body:
            return web.Response(body=json_body, content_type="application/json")
        if timed and request.headers.get("X-Edgee-Tags") == TIMED_TAG:
            return await paced(request)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        for event in events:
            await response.write(event)
        await response.write_eof()
        return response

    async def paced(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        for index, event in enumerate(timed):
            if index:
                await asyncio.sleep(TIMED_CHUNK_S)
            await response.write(event)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


def main() -> None:
    port, json_file, sse_file = int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    timed = Path(sys.argv[4]).read_bytes() if len(sys.argv) > 4 else b""
    app = make_app(json_file.read_bytes(), sse_file.read_bytes(), timed)
    # the same listen backlog as mockgw's (server/runner.py): 1,000 connections at once overflow the default 128
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None, backlog=4096)


if __name__ == "__main__":
    main()
