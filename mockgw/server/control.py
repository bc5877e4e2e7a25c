"""The control endpoint under /__mockgw/: health, the call journal, run-time fixtures, reset.

One route table. Every operation is scoped to the session named by `X-Mockgw-Session` (or `?session=`).
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from aiohttp import web

from mockgw.core.errors import ApiError, FixtureError, MockgwError, invalid_request, not_found
from mockgw.core.explain import lines
from mockgw.core.names import CONTROL_PREFIX, SESSION_HEADER
from mockgw.core.version import VERSION as __version__
from mockgw.faults import catalogue as faults
from mockgw.fixtures import scenarios
from mockgw.fixtures.load import parse_json_payload
from mockgw.gateway.bodies import loads_strict
from mockgw.gateway.fault_rules import FaultRule, parse_rules
from mockgw.journal.calls import NO_STATUS, CallFilter
from mockgw.record import export
from mockgw.server import calls_answer, guard, trim
from mockgw.server.inject import HOLDS
from mockgw.server.keys import CALL_LISTENERS, SESSION_PREFIX, STATE
from mockgw.server.loop import DUST_S, timer_delay
from mockgw.server.watchdog import watched

PREFIX = CONTROL_PREFIX


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, text=json.dumps(data), content_type="application/json")


def _error(error: ApiError) -> web.Response:
    return web.Response(status=error.status, body=error.body(), content_type="application/json", headers=error.headers)


def session_of(request: web.Request) -> str:
    """The session of a control call: the `/s/<session>/` prefix, the header, or `?session=`."""
    return request.match_info.get("session") or request.headers.get(SESSION_HEADER) or request.query.get("session", "")


def _int(request: web.Request, name: str) -> int | ApiError | None:
    value = request.query.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        return invalid_request(f"Query parameter '{name}' must be an integer, got '{value}'.", name)


def _ints(request: web.Request, *names: str) -> tuple[int | None, ...] | ApiError:
    """The integer query parameters `names` (None when absent), or a 400 naming the first that is not one."""
    values = []
    for name in names:
        value = _int(request, name)
        if isinstance(value, ApiError):
            return value
        values.append(value)
    return tuple(values)


def _timeout(request: web.Request) -> float | ApiError:
    """`?timeout=S` (seconds, default 5) for the long-polling reads."""
    try:
        return float(request.query.get("timeout", "5"))
    except ValueError:
        return invalid_request("Query parameter 'timeout' must be a number of seconds.", "timeout")


def _refused(exc: FixtureError, route: str, code: str) -> ApiError:
    """A refused payload as a 400: every mistake as `route: path: message`, `param` the first mistake's path."""
    problems = [replace(p, source=route) if p.source == "<runtime>" else p for p in exc.problems]
    return invalid_request(lines(problems), problems[0].path or None, code=code)


async def health(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return _json({"status": "ok", "version": __version__, "fixtures": len(state.fixtures(session_of(request)))})


async def list_calls(request: web.Request) -> web.StreamResponse:
    """The journal, oldest first; `wait_for=N&timeout=S` waits until N calls match (or the timeout).

    `limit=N` keeps the newest N (or, with `after=<id>`, the first N after that call); `before=<id>` ends before
    one. The answer is written call by call (server/calls_answer.py): reading never holds the loop."""
    state = request.app[STATE]
    status_text = request.query.get("status")
    no_status = status_text in (NO_STATUS, "none")  # the calls that got no answer (connection dropped or hung)
    numbers = _ints(request, *(() if no_status else ("status",)), "limit", "wait_for")
    if isinstance(numbers, ApiError):
        return _error(numbers)
    status: int | str | None = NO_STATUS if no_status else numbers[0]
    limit, wait_for = numbers[-2:]
    if limit is not None and limit < 1:
        return _error(invalid_request("Query parameter 'limit' must be a positive integer.", "limit"))
    after, before = calls_answer.cursor(request, "after"), calls_answer.cursor(request, "before")
    for place in (after, before):
        if isinstance(place, ApiError):
            return _error(place)
    assert not isinstance(after, ApiError) and not isinstance(before, ApiError)
    timeout = _timeout(request)
    if isinstance(timeout, ApiError):
        return _error(timeout)
    session = session_of(request)
    where = CallFilter(
        path=request.query.get("path"),
        model=request.query.get("model"),
        fixture=request.query.get("fixture"),
        tags=tuple(request.query.getall("tag", ())),
        text=request.query.get("text"),
        edgee_session_id=request.query.get("edgee_session_id"),
        status=status,
        session=session if (session or "all" not in request.query) else None,
        limit=limit,
    )
    if wait_for is not None:
        journal = state.journal
        await wait_until(
            request.app[CALL_LISTENERS], lambda: len(journal.query(where, after, before)) >= wait_for, timeout
        )
    held = request.app[HOLDS].held(where.session)
    held_json = [h.as_json() for h in held if where.fixture is None or h.fixture == where.fixture]
    return await calls_answer.answer(request, state.journal, where, after, before, held_json)


async def wait_until(listeners: list[asyncio.Event], done: Callable[[], bool], timeout: float) -> None:
    """Wait until `done()` holds or `timeout` seconds pass; whoever changes the state sets the listeners' events.

    Never less than `timeout`: the wait is armed on the loop's clock (server/loop.py), whose timers fire up to half a
    millisecond early on uvloop."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    event = asyncio.Event()
    listeners.append(event)
    try:
        while not done() and loop.time() + DUST_S < deadline:
            event.clear()
            try:
                await asyncio.wait_for(event.wait(), timer_delay(loop, deadline - loop.time()))
            except TimeoutError:
                break
    finally:
        listeners.remove(event)


async def clear_calls(request: web.Request) -> web.Response:
    state = request.app[STATE]
    before = trim.footprint(state)
    state.journal.clear(session_of(request))
    trim.after_freeing(state, before)  # what the journal held goes back to the system, not only to the allocator
    return _json({"cleared": True})


async def list_fixtures(request: web.Request) -> web.Response:
    state = request.app[STATE]
    session = state.session(session_of(request))
    return _json(
        {
            "fixtures": [
                {
                    "name": f.name,
                    "source": f.source,
                    "priority": f.priority,
                    "times": f.times,
                    "uses": session.uses.get(f.name, 0),
                    "replies": len(f.replies),
                    "scenario": f.scenario,
                    "when_state": f.when_state,
                    "set_state": f.set_state,
                }
                for f in state.fixtures(session_of(request))
            ]
        }
    )


async def add_fixtures(request: web.Request) -> web.Response:
    """Add fixtures at run time: one fixture object, or a whole file's document, as JSON."""
    state = request.app[STATE]
    try:
        payload = loads_strict(await request.read())
    except ValueError:  # not JSON, NaN, or nested too deeply
        return _error(
            invalid_request("The body must be a fixture or a fixture file document, as JSON.", code="invalid_json")
        )
    try:
        fixtures = parse_json_payload(payload)
        state.add_fixtures(session_of(request), fixtures)
    except FixtureError as exc:
        refused = _refused(exc, f"POST {PREFIX}/fixtures", "invalid_fixture")
        # Also kept as a problem: the test that sent it fails at teardown even if nobody reads this 400.
        state.add_problem(session_of(request), f"a fixture sent to POST {PREFIX}/fixtures was refused: {exc}")
        return _error(refused)
    return _json({"added": [f.name for f in fixtures]}, status=201)


async def delete_fixtures(request: web.Request) -> web.Response:
    """Remove the session's run-time fixtures (all, or `?name=`)."""
    session = request.app[STATE].session(session_of(request))
    name = request.query.get("name")
    before = len(session.runtime_fixtures)
    session.runtime_fixtures[:] = [f for f in session.runtime_fixtures if name is not None and f.name != name]
    return _json({"removed": before - len(session.runtime_fixtures)})


async def reset(request: web.Request) -> web.Response:
    """Journal, run-time fixtures, counters and problems back to the start for this session; its held answers
    are released (a held request left behind would otherwise wait for a test that has moved on)."""
    session = session_of(request)
    released = request.app[HOLDS].release(session)
    state = request.app[STATE]
    before = trim.footprint(state)
    state.reset(session)
    trim.after_freeing(state, before)
    return _json({"reset": True, "released": released})


async def unknown(request: web.Request) -> web.Response:
    """Any other request under the prefix: 405 on a known control path, else 404 (never journaled)."""
    control = [r for r in request.app.router.resources() if r.canonical.startswith(PREFIX + "/")]
    allowed: set[str] = set()
    for resource in control:
        allowed |= (await resource.resolve(request))[1]
    if allowed:
        methods = ", ".join(sorted(allowed))
        message = f"Method {request.method} is not allowed on '{request.path}'. Use {methods}."
        error = ApiError(405, "method_not_allowed", message, "invalid_request_error", headers={"Allow": methods})
        return _error(error)
    paths = ", ".join(sorted({r.canonical for r in control}))
    return _error(not_found(f"Unknown control path '{request.path}'. The control endpoint serves {paths}."))


async def list_problems(request: web.Request) -> web.Response:
    """What this session's test should fail on (the single truth, for every client): requests unmatched in strict
    mode, unscripted requests refused with 400, refused fixtures and fault rules, internal errors."""
    return _json({"problems": list(request.app[STATE].session(session_of(request)).problems)})


async def list_sessions(request: web.Request) -> web.Response:
    """Every session the server knows (by its state or its kept calls), with its call and problem counts."""
    state = request.app[STATE]
    state.sessions.sweep()  # a session idle too long is not listed, even when no new session came to drop it
    calls = state.journal.session_counts()
    names = sorted({*state.sessions, *calls})
    return _json(
        {
            "sessions": [
                {
                    "name": name,
                    "calls": calls.get(name, 0),
                    "problems": len(state.sessions[name].problems) if name in state.sessions else 0,
                }
                for name in names
            ]
        }
    )


def _rule_json(rule: FaultRule, counts: Any) -> dict[str, Any]:
    count = counts.get(rule.name)
    return {
        "name": rule.name,
        "source": rule.source,
        "match": dict(rule.match_json),
        "fault": faults.describe(rule.fault),
        "nth": list(rule.nth) or None,
        "every": rule.every,
        "times": rule.times,
        "probability": rule.probability,
        "matched": count.matched if count else 0,
        "fired": count.fired if count else 0,
    }


async def list_faults(request: web.Request) -> web.Response:
    """The fault rules in the order they are tried (config first), with how often each matched and fired."""
    state = request.app[STATE]
    session = session_of(request)
    counts = state.session(session).fault_counts
    return _json({"faults": [_rule_json(rule, counts) for rule in state.fault_rules(session)]})


async def add_faults(request: web.Request) -> web.Response:
    """Add fault rules at run time: one rule, a list, or `{"faults": [...]}`, as JSON."""
    state = request.app[STATE]
    session = session_of(request)
    try:
        payload = loads_strict(await request.read())
    except ValueError:  # not JSON, NaN, or nested too deeply
        return _error(invalid_request("The body must be a fault rule or a list of them, as JSON.", code="invalid_json"))
    try:
        rules = parse_rules(payload, first_index=len(state.fault_rules(session)))
        state.add_fault_rules(session, rules)
    except FixtureError as exc:
        # Kept as a problem too, like a refused fixture: the test fails even if nobody reads this 400.
        state.add_problem(session, f"a fault rule sent to POST {PREFIX}/faults was refused: {exc}")
        return _error(_refused(exc, f"POST {PREFIX}/faults", "invalid_fault"))
    return _json({"added": [r.name for r in rules]}, status=201)


async def delete_faults(request: web.Request) -> web.Response:
    """Remove the session's run-time fault rules (all, or `?name=`) and their counters."""
    session = request.app[STATE].session(session_of(request))
    name = request.query.get("name")
    removed = {r.name for r in session.fault_rules if name is None or r.name == name}
    session.fault_rules[:] = [r for r in session.fault_rules if r.name not in removed]
    session.fault_counts = {k: v for k, v in session.fault_counts.items() if k not in removed}
    return _json({"removed": len(removed)})


async def release(request: web.Request) -> web.Response:
    """Let held answers go (`hold`, `hang`, `stall`): all of the session's, or `?fixture=` / `?count=` oldest."""
    count = _int(request, "count")
    if isinstance(count, ApiError):
        return _error(count)
    released = request.app[HOLDS].release(session_of(request), request.query.get("fixture"), count)
    return _json({"released": released})


async def list_holds(request: web.Request) -> web.Response:
    """The answers held right now; `wait_for=N&timeout=S` returns as soon as N are held."""
    holds = request.app[HOLDS]
    wait_for = _int(request, "wait_for")
    if isinstance(wait_for, ApiError):
        return _error(wait_for)
    timeout = _timeout(request)
    if isinstance(timeout, ApiError):
        return _error(timeout)
    session, fixture = session_of(request), request.query.get("fixture")
    if wait_for is not None:
        await wait_until(holds.listeners, lambda: len(holds.held(session, fixture)) >= wait_for, timeout)
    return _json({"held": [h.as_json() for h in holds.held(session, fixture)]})


async def list_scenarios(request: web.Request) -> web.Response:
    """Where each scenario of this session stands: its state, the states it knows, the fixtures ready to answer."""
    state = request.app[STATE]
    session = session_of(request)
    return _json({"scenarios": scenarios.overview(state.fixtures(session), state.session(session).scenarios)})


async def set_scenario(request: web.Request) -> web.Response:
    """Put one scenario of this session in a state (`{"state": "..."}`), e.g. to start a test mid-flow."""
    try:
        payload = loads_strict(await request.read())
    except ValueError:  # not JSON, NaN, or nested too deeply
        payload = None
    if not isinstance(payload, dict) or not isinstance(payload.get("state"), str) or not payload["state"]:
        return _error(invalid_request('The body must be {"state": "<state name>"}.', "state", code="invalid_json"))
    name = request.match_info["name"]
    request.app[STATE].session(session_of(request)).scenarios[name] = payload["state"]
    return _json({"name": name, "state": payload["state"]})


async def near_misses(request: web.Request) -> web.Response:
    """The session's model calls that no fixture answered, each with its closest fixtures and what failed."""
    state = request.app[STATE]
    session = session_of(request)
    unmatched = [
        {
            "call": call.id,
            "time": call.time,
            "path": call.path,
            "model": call.model,
            "status": call.status,
            "near_misses": list(call.near_misses),
        }
        for call in state.journal.query(CallFilter(session=session))
        if call.fixture is None and (call.near_misses or _code(call.response) == "no_matching_fixture")
    ]
    return _json({"unmatched": unmatched})


def _code(summary: Any) -> Any:
    error = summary.get("error") if isinstance(summary, Mapping) else None
    return error.get("code") if isinstance(error, Mapping) else None


async def export_calls(request: web.Request) -> web.Response:
    """`GET /__mockgw/export`: the session's calls (`?all` for every session) as a fixture file (YAML)."""
    session = session_of(request)
    where = CallFilter(session=session if (session or "all" not in request.query) else None)
    try:
        text = export.export(request.app[STATE].journal.query(where), "GET /__mockgw/export")
    except MockgwError as exc:  # something key-shaped in a request or answer: not handed out as a fixture file
        return _error(invalid_request(str(exc), code="secret_in_export"))
    return web.Response(text=text, content_type="application/yaml")


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CALL_FILTERS = (
    "path",
    "model",
    "fixture",
    "tag",
    "text",
    "status",
    "limit",
    "all",
    "edgee_session_id",
    "after",
    "before",
)


def checked(handler: Handler, params: Sequence[str]) -> Handler:
    """`handler`, refusing query parameters it does not know (a typo like `?sesion=` would otherwise select
    nothing, silently) with a 400 that names the valid ones."""
    valid = sorted({"session", *params})

    @functools.wraps(handler)
    async def check(request: web.Request) -> web.StreamResponse:
        unknown = [name for name in request.query if name not in valid]
        if unknown:
            return _error(unknown_parameter(request, unknown[0], valid))
        return await handler(request)

    return check


def unknown_parameter(request: web.Request, name: str, valid: Sequence[str]) -> ApiError:
    """The 400 for an unknown query parameter: the valid ones, and the nearest of them."""
    path = request.path.replace(f"/s/{request.match_info.get('session', '')}", "", 1)
    import difflib  # only for this mistake: serving does not import it

    nearest = difflib.get_close_matches(name, valid, n=1)
    hint = f" Did you mean '{nearest[0]}'?" if nearest else ""
    return invalid_request(
        f"Unknown query parameter '{name}' on {request.method} {path}.{hint} The valid ones are: {', '.join(valid)}.",
        name,
        code="unknown_parameter",
    )


# The control routes: method, path under the prefix, handler, and the query parameters it takes (besides session).
ROUTES: tuple[tuple[str, str, Handler, tuple[str, ...]], ...] = (
    ("GET", "/health", health, ()),
    ("GET", "/calls", list_calls, (*CALL_FILTERS, "wait_for", "timeout")),
    ("DELETE", "/calls", clear_calls, ()),
    ("GET", "/fixtures", list_fixtures, ()),
    ("POST", "/fixtures", add_fixtures, ()),
    ("DELETE", "/fixtures", delete_fixtures, ("name",)),
    ("POST", "/reset", reset, ()),
    ("GET", "/problems", list_problems, ()),
    ("GET", "/sessions", list_sessions, ()),
    ("GET", "/faults", list_faults, ()),
    ("POST", "/faults", add_faults, ()),
    ("DELETE", "/faults", delete_faults, ("name",)),
    ("POST", "/release", release, ("fixture", "count")),
    ("GET", "/holds", list_holds, ("fixture", "wait_for", "timeout")),
    ("GET", "/scenarios", list_scenarios, ()),
    ("PUT", "/scenarios/{name}", set_scenario, ()),
    ("GET", "/near-misses", near_misses, ()),
    ("GET", "/export", export_calls, ("all",)),
)


def add_routes(app: web.Application) -> None:
    for method, path, handler, params in ROUTES:
        app.router.add_route(method, PREFIX + path, watched(guard.guarded(checked(handler, params))))


def add_session_routes(app: web.Application) -> None:
    """Every control route again under `/s/<session>/`, so a session can be named by URL alone."""
    for route in list(app.router.routes()):
        path = route.resource.canonical if route.resource is not None else ""
        if path.startswith(PREFIX) and route.method != "HEAD":
            app.router.add_route(route.method, SESSION_PREFIX + path, route.handler)
