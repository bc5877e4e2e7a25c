"""The web inspector's HTTP half, at /__mockgw/ui/: the static page, its JSON view-models, live calls over SSE, and
the few actions that change state (only with `--ui-write` or `ui_write: true`; refused otherwise).

The view-models are made by mockgw.ui from the journal's JSON; this module only reads the state and writes HTTP.
"""

from __future__ import annotations

import asyncio
import json
from pkgutil import get_data
from typing import TYPE_CHECKING, Any

from aiohttp import web

from mockgw.core.errors import ApiError, invalid_request, not_found
from mockgw.core.version import VERSION
from mockgw.faults import catalogue as faults
from mockgw.fixtures import scenarios
from mockgw.gateway.bodies import loads_strict
from mockgw.journal.calls import Call, CallFilter
from mockgw.server import guard, trim
from mockgw.server.inject import HOLDS
from mockgw.server.keys import CALL_LISTENERS, STATE

if TYPE_CHECKING:
    from mockgw.ui.listing import ListQuery

# The inspector's pure parts (mockgw/ui/: listing, call page, exports) are imported by the handlers that use them:
# a server that is never looked at does not load them (start-up, issue 17).

ROOT = "/__mockgw/ui"
API = f"{ROOT}/api"
STATIC = {  # file -> content type; nothing else is served
    "index.html": "text/html",
    "app.js": "text/javascript",
    "app.css": "text/css",
    "favicon.svg": "image/svg+xml",
}
KEEPALIVE_S = 15.0  # an SSE comment this often keeps proxies and the browser from timing out
BATCH_S = 0.05  # calls arriving together are pushed together


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, text=json.dumps(data), content_type="application/json")


def _error(error: ApiError) -> web.Response:
    return web.Response(status=error.status, body=error.body(), content_type="application/json", headers=error.headers)


def _base_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


async def index(request: web.Request) -> web.StreamResponse:
    if request.path == ROOT:
        raise web.HTTPFound(ROOT + "/")
    return await static(request, "index.html")


async def static(request: web.Request, name: str | None = None) -> web.Response:
    name = name or request.match_info["name"]
    if name not in STATIC:
        return _error(not_found(f"The inspector has no file '{name}'."))
    data = get_data("mockgw.ui", f"static/{name}")  # the package's loader: no importlib.resources readers to import
    if data is None:  # a loader that cannot read data files: not one Python's importers have
        return _error(not_found(f"The inspector has no file '{name}'."))
    return web.Response(body=data, content_type=STATIC[name], headers={"Cache-Control": "no-cache"})


def _query(request: web.Request) -> ListQuery | web.Response:
    from mockgw.ui import listing

    try:
        return listing.ListQuery.parse(request.query)
    except ValueError as exc:
        return _error(invalid_request(f"{exc}.", None))


async def calls(request: web.Request) -> web.Response:
    """A page of the call list, newest first, filtered server-side."""
    query = _query(request)
    if isinstance(query, web.Response):
        return query
    from mockgw.ui import listing

    journal = request.app[STATE].journal
    matched = listing.select(journal.query(query.call_filter()), query)
    return _json(listing.page(matched, query, len(journal)))


def _find(request: web.Request) -> Call | None:
    return request.app[STATE].journal.find(request.match_info["id"])


async def call_detail(request: web.Request) -> web.Response:
    call = _find(request)
    if call is None:
        return _error(
            not_found(f"No call '{request.match_info['id']}' is kept in the journal (it may have been reset).")
        )
    from mockgw.ui import listing
    from mockgw.ui.page import call_page

    return _json(call_page(listing.call_json(call), _base_url(request)))


async def call_fixture(request: web.Request) -> web.Response:
    """The call as a fixture file: `Save as fixture` downloads it."""
    call = _find(request)
    if call is None:
        return _error(not_found(f"No call '{request.match_info['id']}' is kept in the journal."))
    from mockgw.ui import export, listing

    return web.Response(
        text=export.fixture_yaml(listing.call_json(call)),
        content_type="application/yaml",
        headers={"Content-Disposition": f'attachment; filename="saved-{call.id}.yaml"'},
    )


async def har(request: web.Request) -> web.Response:
    """A session's calls as a HAR file (`?session=`; every session when absent)."""
    from mockgw.ui import export, listing

    session = request.query.get("session")
    found = request.app[STATE].journal.query(CallFilter(session=session))
    name = f"mockgw-{session or 'default'}.har" if session is not None else "mockgw-all.har"
    return web.Response(
        text=json.dumps(export.har([listing.call_json(c) for c in found], _base_url(request)), indent=1),
        content_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def live(request: web.Request) -> web.StreamResponse:
    """New calls as they are recorded (Server-Sent Events, one `calls` event per batch of rows), with the list's
    filters applied; a `cleared` event when the journal shrank (a reset)."""
    from mockgw.ui import listing

    query = _query(request)
    if isinstance(query, web.Response):
        return query
    state, stopping = request.app[STATE], request.app[HOLDS].stopping
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    wake = asyncio.Event()
    listeners = request.app[CALL_LISTENERS]
    listeners.append(wake)
    seen, kept = state.journal.total, len(state.journal)
    try:
        await response.write(b"retry: 1000\n: connected\n\n")
        while True:
            try:
                await asyncio.wait_for(wake.wait(), KEEPALIVE_S)
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            if stopping.is_set():
                break
            await asyncio.sleep(BATCH_S)
            wake.clear()
            journal = state.journal
            fresh = journal.since(seen)  # only the new calls are made, not the whole journal
            if len(journal) < kept:  # the journal shrank: a reset
                await response.write(b"event: cleared\ndata: {}\n\n")
            seen, kept = journal.total, len(journal)
            rows = [listing.row(listing.call_json(c)) for c in fresh if query.accepts(c)]
            if rows:
                data = json.dumps({"rows": rows[::-1], "kept": kept})
                await response.write(f"event: calls\ndata: {data}\n\n".encode())
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        listeners.remove(wake)
    return response


def _sessions(request: web.Request) -> list[str]:
    state = request.app[STATE]
    names = dict.fromkeys(["", *state.sessions])
    for session in state.journal.session_counts():
        names.setdefault(session)
    return list(names)


def _rule(rule: Any, counts: Any) -> dict[str, Any]:
    count = counts.get(rule.name)
    return {
        "name": rule.name,
        "source": rule.source,
        "fault": faults.describe(rule.fault),
        "nth": list(rule.nth) or None,
        "every": rule.every,
        "times": rule.times,
        "probability": rule.probability,
        "matched": count.matched if count else 0,
        "fired": count.fired if count else 0,
        "runtime": rule.source == "<runtime>",
    }


async def overview(request: web.Request) -> web.Response:
    """The other tabs for one session (`?session=`, default ""): fixtures and their uses, fault rules and their
    counters, scenarios, holds (every session's), and the server's health."""
    state = request.app[STATE]
    name = request.query.get("session", "")
    session = state.session(name)
    fixtures = [
        {
            "name": f.name,
            "source": f.source,
            "priority": f.priority,
            "times": f.times,
            "uses": session.uses.get(f.name, 0),
            "scenario": f.scenario,
        }
        for f in state.fixtures(name)
    ]
    journal = state.journal
    return _json(
        {
            "session": name,
            "sessions": _sessions(request),
            "write": state.settings.ui_write,
            "health": {
                "status": "ok",
                "version": VERSION,
                "seed": state.settings.seed,
                "strict": state.settings.strict,
                "fixtures": len(fixtures),
                "calls_kept": len(journal),
                "calls_total": journal.total,
                "journal_limit": journal.limit,
                "problems": len(state.problems),
            },
            "fixtures": fixtures,
            "files": sorted({f["source"] for f in fixtures}),
            "faults": [_rule(rule, session.fault_counts) for rule in state.fault_rules(name)],
            "scenarios": scenarios.overview(state.fixtures(name), session.scenarios),
            "holds": [h.as_json() for h in request.app[HOLDS].held(None)],
        }
    )


async def _action_body(request: web.Request) -> dict[str, Any] | web.Response:
    """The JSON body of a state-changing action, once write mode and a same-origin JSON request are checked."""
    if not request.app[STATE].settings.ui_write:
        error = ApiError(
            403,
            "read_only",
            "The inspector is read-only. Start the server with `mockgw serve --ui-write` (or `ui_write: true` in "
            "the config file) to release holds, delete fault rules or reset from the page.",
            "permission_error",
        )
        return _error(error)
    origin = request.headers.get("Origin")
    if origin is not None and origin != _base_url(request):  # another site's page, in the user's browser
        message = f"Actions are only taken from the inspector's own page ({_base_url(request)}), not from {origin}."
        return _error(ApiError(403, "cross_origin", message, "permission_error"))
    if request.content_type != "application/json":
        return _error(invalid_request("Send the action as a JSON request (Content-Type: application/json).", None))
    try:
        payload = loads_strict(await request.read() or b"{}")
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        return _error(invalid_request("The body must be a JSON object.", None, code="invalid_json"))
    return payload


async def release(request: web.Request) -> web.Response:
    """Release one held answer (`{"id": "held-3"}`)."""
    payload = await _action_body(request)
    if isinstance(payload, web.Response):
        return payload
    for held in request.app[HOLDS].held(None):
        if held.as_json()["id"] == payload.get("id"):
            held.release("release")
            return _json({"released": 1})
    return _error(not_found(f"No answer '{payload.get('id')}' is held (it may have been released already)."))


async def delete_fault(request: web.Request) -> web.Response:
    """Delete a run-time fault rule (`{"session": "", "name": "..."}`); config rules stay."""
    payload = await _action_body(request)
    if isinstance(payload, web.Response):
        return payload
    session = request.app[STATE].session(str(payload.get("session") or ""))
    name = payload.get("name")
    before = len(session.fault_rules)
    session.fault_rules[:] = [r for r in session.fault_rules if r.name != name]
    session.fault_counts.pop(str(name), None)
    return _json({"removed": before - len(session.fault_rules)})


async def reset(request: web.Request) -> web.Response:
    """Reset one session (`{"session": ""}`): journal, run-time fixtures and rules, counters."""
    payload = await _action_body(request)
    if isinstance(payload, web.Response):
        return payload
    state = request.app[STATE]
    before = trim.footprint(state)
    state.reset(str(payload.get("session") or ""))
    trim.after_freeing(state, before)
    for event in request.app[CALL_LISTENERS]:
        event.set()
    return _json({"reset": True})


async def _wake_listeners(app: web.Application) -> None:
    """On shutdown: the live streams see the server stopping (set by inject's own hook, which runs first) and end."""
    for event in app[CALL_LISTENERS]:
        event.set()


def add_routes(app: web.Application) -> None:
    """Mount the inspector under /__mockgw/ui/."""
    app.on_shutdown.append(_wake_listeners)
    app.router.add_routes(
        [
            web.get(ROOT, guard.guarded(index)),
            web.get(ROOT + "/", guard.guarded(index)),
            web.get(ROOT + "/static/{name}", guard.guarded(static)),
            web.get(API + "/calls", guard.guarded(calls)),
            web.get(API + "/calls/{id}", guard.guarded(call_detail)),
            web.get(API + "/calls/{id}/fixture.yaml", guard.guarded(call_fixture)),
            web.get(API + "/har", guard.guarded(har)),
            web.get(API + "/live", guard.guarded(live)),
            web.get(API + "/overview", guard.guarded(overview)),
            web.post(API + "/release", guard.guarded(release)),
            web.post(API + "/faults/delete", guard.guarded(delete_fault)),
            web.post(API + "/reset", guard.guarded(reset)),
        ]
    )
