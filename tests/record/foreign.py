"""A foreign OpenAI-compatible gateway with every quirk record & replay must survive (a real aiohttp server).

Unknown extra fields, `: keep-alive` comments, `event:` lines, CRLF line endings, tool-call argument deltas split
mid-JSON, gzip-encoded JSON, Set-Cookie and openai-organization response headers, a 429 with Retry-After, and a
stream cut before [DONE]. What the last user message contains picks the behaviour.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
from typing import Any

from aiohttp import web

SET_COOKIE = "gw_session=sess-cookie-value-123; Path=/; HttpOnly"
ORGANIZATION = "org-foreign-secret-organization"
QUIRK_HEADERS = {"Set-Cookie": SET_COOKIE, "openai-organization": ORGANIZATION, "x-foreign-request": "req-42"}
CREATED = 1_790_000_000
LEAKED_BEARER = "tok_live_4f9a8b7c6d5e"
LEAKED_JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIn0.c2lnbmF0dXJlLXZhbHVl"
LEAKED_SK = "sk-proj-leakedkey1234567890abcd"


def _last_user(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


def _chunk(number: int, delta: dict[str, Any], finish: str | None = None, model: str = "") -> dict[str, Any]:
    return {
        "id": "chatcmpl-foreign-1",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": model,
        "system_fingerprint": "fp_foreign",
        "x_foreign_trace": {"n": number},  # unknown to every client
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
    }


def _event(payload: Any) -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    return f"event: chunk\r\ndata: {data}\r\n\r\n".encode()


def _stream_chunks(body: dict[str, Any], text: str) -> list[dict[str, Any]]:
    model = body.get("model", "")
    chunks = [_chunk(0, {"role": "assistant", "content": ""}, model=model)]
    if "weather" in text and body.get("tools"):
        pieces = ['{"ci', 'ty": "Pa', 'ris", "unit": "cel', 'sius"}']  # split mid-JSON, as real providers do
        first = {"index": 0, "id": "call_foreign_1", "type": "function", "function": {"name": "get_weather"}}
        chunks.append(_chunk(1, {"tool_calls": [{**first, "function": {"name": "get_weather", "arguments": ""}}]}))
        chunks += [
            _chunk(2 + i, {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
            for i, piece in enumerate(pieces)
        ]
        chunks.append(_chunk(9, {}, "tool_calls", model))
    else:
        for i, word in enumerate(["Bonjour", " from", " the", " foreign", " gateway"]):
            chunks.append(_chunk(1 + i, {"content": word}, model=model))
        chunks.append(_chunk(9, {}, "stop", model))
    if (body.get("stream_options") or {}).get("include_usage"):
        usage = {"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16, "x_cost": 0.001}
        chunks.append({**_chunk(10, {}, model=model), "choices": [], "usage": usage})
    return chunks


def _completion(body: dict[str, Any], text: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": "Bonjour from the foreign gateway", "x_mood": "sunny"}
    finish = "stop"
    if "weather" in text and body.get("tools"):
        call = {"id": "call_foreign_1", "type": "function"}
        call["function"] = {"name": "get_weather", "arguments": '{"city": "Paris", "unit": "celsius"}'}
        message = {"role": "assistant", "content": None, "tool_calls": [call]}
        finish = "tool_calls"
    return {
        "id": "chatcmpl-foreign-json",
        "object": "chat.completion",
        "created": CREATED,
        "model": body.get("model", ""),
        "system_fingerprint": "fp_foreign",
        "x_foreign_trace": {"region": "eu"},
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 6, "total_tokens": 17, "x_cost": 0.002},
    }


def _error(status: int, code: str, message: str, kind: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "type": kind, "param": None}}


async def chat(request: web.Request) -> web.StreamResponse:
    request.app[SEEN].append(dict(request.headers))
    body = await request.json()
    if not body.get("messages"):  # an error envelope without `code` and `param`
        return web.json_response(
            {"error": {"message": "messages is required", "type": "invalid_request_error"}}, status=400
        )
    text = _last_user(body)
    if "limit" in text:
        payload = _error(429, "rate_limited", "Slow down: 2 requests per minute", "rate_limit_error")
        return web.json_response(payload, status=429, headers={"Retry-After": "2", **QUIRK_HEADERS})
    if "boom" in text:
        payload = _error(503, "upstream_unavailable", "The provider is down", "server_error")
        return web.json_response(payload, status=503, headers=QUIRK_HEADERS)
    if "leak" in text:  # an upstream that puts secrets in its answer: only redact rules can let it be written
        leaked = f"Bearer {LEAKED_BEARER} and {LEAKED_JWT} and {LEAKED_SK}"
        return web.json_response({**_completion(body, text), "leak": leaked}, headers=QUIRK_HEADERS)
    if "echo" in text:  # echoes the credentials it was sent (some gateways do, in debug fields)
        echoed = {**_completion(body, text), "debug": {"auth": request.headers.get("Authorization", "")}}
        return web.json_response(echoed, headers=QUIRK_HEADERS)
    if not body.get("stream"):
        response = web.json_response(_completion(body, text), headers=QUIRK_HEADERS)
        response.enable_compression(web.ContentCoding.gzip)
        return response
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8", **QUIRK_HEADERS})
    await response.prepare(request)
    await response.write(b": keep-alive\r\n\r\n")
    chunks = _stream_chunks(body, text)
    for number, chunk in enumerate(chunks):
        if "cut" in text and number == 3:  # gone before [DONE], in the middle of the body
            assert request.transport is not None
            request.transport.close()
            return response
        await response.write(_event(chunk))
        await asyncio.sleep(0.01 if number else 0.03)
    await response.write(b"data: [DONE]\r\n\r\n")
    await response.write_eof()
    return response


async def models(request: web.Request) -> web.Response:
    data = [{"id": "openai/gpt-4o", "object": "model", "created": CREATED, "owned_by": "openai", "x_tier": "gold"}]
    return web.json_response({"object": "list", "data": data}, headers=QUIRK_HEADERS)


SEEN: web.AppKey[list[dict[str, str]]] = web.AppKey("seen", list)


class ForeignGateway:
    """The foreign server in a thread of its own (like a real upstream: its own loop, its own port)."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls  # an https upstream when given
        self.app = web.Application()
        self.app[SEEN] = []
        self.app.router.add_post("/v1/chat/completions", chat)
        self.app.router.add_get("/v1/models", models)
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._runner = web.AppRunner(self.app, access_log=None)
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def seen(self) -> list[dict[str, str]]:
        return self.app[SEEN]

    def start(self) -> ForeignGateway:
        self._thread.start()

        async def up() -> str:
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.tls)
            await site.start()
            scheme = "https" if self.tls else "http"
            return f"{scheme}://127.0.0.1:{self._runner.addresses[0][1]}"

        self.url = asyncio.run_coroutine_threadsafe(up(), self._loop).result(10)
        return self

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
