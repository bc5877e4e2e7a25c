"""The baseline for `make bench`: a bare aiohttp server answering every request with a constant body.

Run as `python bench/bare.py PORT JSON_FILE SSE_FILE`. The bodies are the bytes mockgw sent for the same
request (bench/run.py captures them), so both servers write the same amount. A request whose body asks for
a stream gets the SSE events, one write each on one StreamResponse, as any token-streaming server does.
"""

from __future__ import annotations

import sys
from pathlib import Path

from aiohttp import web

EVENT_END = b"\n\n"


def make_app(json_body: bytes, sse_body: bytes) -> web.Application:
    """An app whose one handler answers with `json_body`, or streams `sse_body` event by event."""
    events = [part + EVENT_END for part in sse_body.split(EVENT_END) if part]

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if b'"stream":true' not in body:
            return web.Response(body=json_body, content_type="application/json")
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        for event in events:
            await response.write(event)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


def main() -> None:
    port, json_file, sse_file = int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    app = make_app(json_file.read_bytes(), sse_file.read_bytes())
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    main()
