"""What the API routes (`app`) and the control endpoint (`control`) share: the application's keys, the session
route prefix. Both import it; neither imports the other's internals back."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web

from mockgw.gateway.outcome import Outcome
from mockgw.gateway.state import GatewayState

STATE: web.AppKey[GatewayState] = web.AppKey("state", GatewayState)
CALL_LISTENERS: web.AppKey[list[asyncio.Event]] = web.AppKey("call_listeners", list)  # woken on each journal entry
SESSION_PREFIX = "/s/{session:[A-Za-z0-9._~-]{1,128}}"  # `/s/<session>/...`: the session in the URL
# Set by server/proxy.py when recording: forwards a request upstream, or returns None to let mockgw answer it.
FORWARD: web.AppKey[Callable[..., Awaitable[tuple[web.StreamResponse, Outcome] | None]]] = web.AppKey("forward")
