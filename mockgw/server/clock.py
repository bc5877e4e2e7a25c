"""`/__mockgw/clock`: read or fix the gateway clock (Edge Tools' `edgee_current_time`, answers' `created`)."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from mockgw.core.errors import ConfigError, invalid_request
from mockgw.core.names import CONTROL_PREFIX
from mockgw.gateway.bodies import loads_strict
from mockgw.gateway.config import parse_clock
from mockgw.gateway.state import GatewayState
from mockgw.server import guard
from mockgw.server.keys import STATE

PATH = f"{CONTROL_PREFIX}/clock"


def _json(state: GatewayState) -> web.Response:
    fixed = state.clock_now
    now = datetime.fromtimestamp(state.now(), UTC).isoformat().replace("+00:00", "Z")
    return web.json_response({"now": now, "fixed": fixed is not None})


async def get_clock(request: web.Request) -> web.Response:
    """The gateway time, and whether it is fixed."""
    return _json(request.app[STATE])


async def set_clock(request: web.Request) -> web.Response:
    """`{"now": "2026-01-01T00:00:00Z"}` fixes the clock; `{"now": null}` lets it follow the real time again."""
    state = request.app[STATE]
    raw = await request.read()
    try:
        payload = loads_strict(raw)
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or "now" not in payload or not isinstance(payload["now"], (str, type(None))):
        error = invalid_request('Send {"now": "2026-01-01T00:00:00Z"} (an ISO 8601 time) or {"now": null}.', "now")
        return web.Response(status=400, body=error.body(), content_type="application/json")
    try:
        state.clock_now = parse_clock(payload["now"]) if payload["now"] is not None else None
    except ConfigError as exc:
        error = invalid_request(str(exc).replace("clock: ", "now: ", 1), "now")
        return web.Response(status=400, body=error.body(), content_type="application/json")
    return _json(state)


def add_routes(app: web.Application) -> None:
    app.router.add_routes([web.get(PATH, guard.guarded(get_clock)), web.put(PATH, guard.guarded(set_clock))])
