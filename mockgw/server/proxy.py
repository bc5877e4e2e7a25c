"""Forwarding to an upstream gateway and recording what comes back (issue 14).

The answer is relayed to the client as it arrives (a stream stays a stream, each chunk written as soon as it is
read) while every SSE event is timestamped. A capture is written when the upstream is done with it, whether or not
the client stayed to the end; the file is replaced atomically, so a stopped server loses nothing already answered.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from aiohttp import web

from mockgw.core.errors import ApiError, gateway_error, not_found
from mockgw.fixtures import matching
from mockgw.fixtures.recorded import RecordedEvent
from mockgw.gateway.outcome import SSE_TYPE, Outcome, RawRequest, error_outcome
from mockgw.gateway.replay import subset
from mockgw.gateway.state import GatewayState
from mockgw.record import cassette, derive
from mockgw.record.capture import CONVERSATION_ENDPOINTS, ENDPOINTS, Capture, split_events
from mockgw.record.modes import RecordSettings, decide, file_name
from mockgw.record.secrets import kept_headers
from mockgw.server import inject, tls
from mockgw.server.keys import FORWARD, STATE

LOG = logging.getLogger("mockgw.record")

# Headers about one hop, never forwarded (either way). accept-encoding: the client library negotiates its own.
HOP_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "te",
        "upgrade",
        "accept-encoding",
        "content-encoding",
        "x-mockgw-session",
    }
)
CREDENTIAL_HEADERS = ("authorization", "x-api-key", "x-edgee-api-key", "api-key")

Forward = Callable[[web.Request, RawRequest], Awaitable[tuple[web.StreamResponse, Outcome] | None]]


class Recorder:
    """The recording server's own state: its settings, the HTTP client, and each file's fixtures so far."""

    def __init__(self, settings: RecordSettings) -> None:
        self.settings = settings
        self.client: aiohttp.ClientSession | None = None
        self.files: dict[Path, list[dict[str, Any]]] = {}
        self.refused: list[str] = []  # secret-scan refusals, also logged
        out = Path(settings.out) if settings.out else None
        self.existed = {p.name for p in out.glob("*.yaml")} if out and out.is_dir() else set()

    def _fixtures(self, path: Path) -> list[dict[str, Any]]:
        if path in self.files:
            return self.files[path]
        if self.settings.mode != "all" and path.is_file():
            document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            return list(document.get("fixtures") or [])
        return []

    def save(self, capture: Capture, literals: tuple[str, ...]) -> Path | None:
        """Add the capture to its session's file and write the file (or log why not)."""
        if not self.settings.out:
            return None
        path = Path(self.settings.out) / file_name(capture.session, self.settings.file)
        fixture = derive.derive_fixture(capture, self.settings.redaction)
        if capture.session and not self.settings.file:  # names stay unique when the folder is served as a whole
            fixture = {**fixture, "name": f"{capture.session}-{fixture['name']}"}
        fixtures = cassette.add(self._fixtures(path), fixture)
        try:
            text = cassette.render(fixtures, str(path), literals)
        except cassette.SecretFound as exc:
            LOG.error("mockgw record: %s", exc)
            self.refused.append(str(exc))
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)  # atomic: a reader never sees half a file
        self.files[path] = fixtures
        return path


RECORDER: web.AppKey[Recorder] = web.AppKey("recorder", Recorder)


def install(app: web.Application, settings: RecordSettings) -> Recorder:
    """Make `app` forward (and record) as `settings` say; the HTTP client lives as long as the app."""
    recorder = Recorder(settings)
    app[RECORDER] = recorder
    app[FORWARD] = forward

    async def start_client(app: web.Application) -> None:
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=600)
        connector = aiohttp.TCPConnector(ssl=tls.client_context())  # verified as always: see server/tls.py
        recorder.client = aiohttp.ClientSession(timeout=timeout, auto_decompress=True, connector=connector)

    async def stop_client(app: web.Application) -> None:
        if recorder.client is not None:
            await recorder.client.close()

    app.on_startup.append(start_client)
    app.on_cleanup.append(stop_client)
    return recorder


def _matched(state: GatewayState, raw: RawRequest) -> bool:
    """Whether a fixture would answer the request (nothing is used up by asking)."""
    endpoint = ENDPOINTS.get(raw.path.rstrip("/"))
    try:
        body = json.loads(raw.body) if raw.body else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False
    session = state.session(raw.session)
    fixtures = state.fixtures_by_priority(raw.session)
    if endpoint not in CONVERSATION_ENDPOINTS:
        return any(
            f.match.endpoint == endpoint and (f.match.body is None or subset(f.match.body, body)) for f in fixtures
        )
    dialect = derive.DIALECTS[endpoint]
    if not isinstance(body, dict):
        return False
    try:
        conv = dialect.parse(body, raw.headers)
    except Exception:
        return False
    selection = matching.select(fixtures, conv, uses=dict(session.uses), states=dict(session.scenarios), ordered=True)
    return selection.winner is not None


def _credentials(headers: Mapping[str, str]) -> tuple[str, ...]:
    """The key values the client sent (the header, and the token after Bearer): never to be written."""
    found: list[str] = []
    for name in CREDENTIAL_HEADERS:
        value = headers.get(name)
        if value:
            found.append(value)
            if value.lower().startswith("bearer "):
                found.append(value[7:].strip())
    return tuple(found)


def upstream_headers(headers: Mapping[str, str], key: str | None) -> dict[str, str]:
    """The client's headers for the upstream: hop headers dropped; with `key`, it replaces the client's credentials."""
    sent = {k: v for k, v in headers.items() if k.lower() not in HOP_HEADERS}
    if key is None:
        return sent
    given = [k for k in sent if k.lower() in CREDENTIAL_HEADERS]
    for name in given:
        sent[name] = f"Bearer {key}" if name.lower() == "authorization" else key
    if not given:
        sent["Authorization"] = f"Bearer {key}"
    return sent


async def forward(request: web.Request, raw: RawRequest) -> tuple[web.StreamResponse, Outcome] | None:
    """Forward the request when the mode says so (None: let the fixtures answer)."""
    recorder = request.app[RECORDER]
    state = request.app[STATE]
    settings = recorder.settings
    matched = settings.mode in ("new", "once") and _matched(state, raw)
    action = decide(settings.mode, matched, file_name(raw.session, settings.file) in recorder.existed)
    if action.refuse is not None:
        return await _refuse(request, not_found(f"Not recorded: {action.refuse}.", code="not_recorded"))
    if not action.forward:
        return None
    return await relay(request, raw, recorder, action.record)


async def _refuse(request: web.Request, error: ApiError) -> tuple[web.StreamResponse, Outcome]:
    outcome = error_outcome(error)
    return await inject.deliver(request, outcome), outcome


async def relay(
    request: web.Request, raw: RawRequest, recorder: Recorder, record: bool
) -> tuple[web.StreamResponse, Outcome]:
    """Send the request upstream and the answer back as it arrives; then record the capture."""
    settings = recorder.settings
    assert recorder.client is not None
    url = settings.upstream.rstrip("/") + raw.path + (f"?{request.query_string}" if request.query_string else "")
    secrets = (*_credentials(raw.headers), *((settings.upstream_key,) if settings.upstream_key else ()))
    sent = inject.Sent()
    request[inject.SENT_KEY] = sent
    started = time.monotonic()

    def ms() -> float:
        return (time.monotonic() - started) * 1000

    try:
        upstream = await recorder.client.request(
            raw.method,
            url,
            data=raw.body or None,
            headers=upstream_headers(raw.headers, settings.upstream_key),
            allow_redirects=False,
        )
    except (aiohttp.ClientError, TimeoutError) as exc:
        where = settings.upstream.rstrip("/")
        return await _refuse(request, gateway_error(502, message=f"The upstream {where} could not be reached: {exc}."))
    async with upstream:
        relayed = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_HEADERS}
        is_stream = upstream.headers.get("content-type", "").lower().startswith(SSE_TYPE)
        response = web.StreamResponse(status=upstream.status, reason=upstream.reason, headers=relayed)
        present = True  # the client is still there to write to
        try:
            await response.prepare(request)
        except ConnectionError:
            present = False
        events: list[RecordedEvent] = []
        buffer = b""
        body = bytearray()
        complete = True
        try:
            async for chunk in upstream.content.iter_any():
                if present:
                    try:
                        await response.write(chunk)
                        sent.bytes += len(chunk)
                    except ConnectionError:  # the client left: keep reading, the capture is still wanted
                        present = False
                        sent.client_disconnected = True
                        sent.ending = "client_disconnected"
                if is_stream:
                    buffer += chunk
                    whole, buffer = split_events(buffer)
                    now = ms()
                    events.extend(RecordedEvent(now, event) for event in whole)
                    sent.events += len(whole) if present else 0
                else:
                    body.extend(chunk)
        except (aiohttp.ClientError, TimeoutError, asyncio.IncompleteReadError):
            complete = False
        if buffer:  # a piece of an event the upstream never finished
            events.append(RecordedEvent(ms(), buffer))
        capture = Capture(
            method=raw.method,
            path=raw.path,
            request_headers=dict(raw.headers),
            request_body=raw.body,
            status=upstream.status,
            headers={k.lower(): v for k, v in upstream.headers.items()},
            body=None if is_stream else bytes(body),
            events=tuple(events) if is_stream else None,
            ms=ms(),
            complete=complete,
            session=raw.session,
            secrets=secrets,
        )
        # written before the client sees the end: once it has its answer, the file has it too
        written = recorder.save(capture, secrets) if record else None
        if present:
            if complete:
                try:
                    await response.write_eof()
                    sent.completed = True
                except ConnectionError:
                    sent.client_disconnected = True
            elif request.transport is not None:  # the same cut, passed on
                sent.ending = "close"
                request.transport.close()
    outcome = Outcome(
        status=capture.status,
        body=capture.body or b"",
        events=tuple(e.data for e in events) if is_stream else None,
        headers=kept_headers(capture.headers, settings.redaction),
        parsed=derive.request_json(capture),
        summary={
            "proxied": settings.upstream,
            "recorded": str(written) if written else None,
            "complete": complete,
        },
    )
    return response, outcome
