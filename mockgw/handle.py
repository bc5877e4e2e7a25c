"""MockgwHandle: what a test holds to script, inspect and check a mock gateway, in-process or remote.

The handle talks to a `Server`: a `LocalServer` (a MockGateway in a thread of this process, state touched on its
loop) or a `RemoteServer` (an already running `mockgw serve`, through the `/__mockgw/` control endpoint). Either
way everything is scoped to one session (the `X-Mockgw-Session` header, or the `/s/<session>/` URL prefix).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

import yaml

from mockgw.core.errors import FixtureError, MockgwError
from mockgw.core.frozen import frozen
from mockgw.core.names import CONTROL_PREFIX, SESSION_HEADER
from mockgw.fixtures.load import Fixture, fixture_files, parse_document, parse_fixture
from mockgw.gateway.config import Settings
from mockgw.gateway.fault_rules import parse_rules
from mockgw.journal.calls import Call, CallFilter
from mockgw.server.runner import MockGateway

DEFAULT_API_KEY = "sk-mockgw-test"

FixtureSource = Mapping[str, Any] | str | Path


class MockgwAssertionError(AssertionError):
    """An expectation about the calls a mock gateway received that did not hold."""


# --- what was received -------------------------------------------------------------------------------------------

# The handle's recorded calls are the journal's own Call records (rebuilt by Call.from_json from a remote server).
RecordedCall = Call


def redact_key(key: str) -> str:
    """An API key as a report may show it: enough to recognise it, not to use it."""
    return f"{key[:5]}…{key[-2:]}" if len(key) > 10 else "*" * len(key)


def call_filter(
    *,
    model: str | None = None,
    fixture: str | None = None,
    path: str | None = None,
    tags: str | Sequence[str] = (),
    text: str | None = None,
    body: Mapping[str, Any] | None = None,
    status: int | None = None,
    session: str | None = None,
) -> CallFilter:
    """The journal's CallFilter for the keywords of `calls(...)` and `assert_called(...)`."""
    return CallFilter(
        path=path,
        model=model,
        fixture=fixture,
        tags=(tags,) if isinstance(tags, str) else tuple(tags),
        status=status,
        session=session,
        text=text,
        body=body,
    )


class CallList(list[Call]):
    """Calls oldest first; call it with filters to select some: `mockgw.calls(text="Porto", tags="agent")`.

    The filters are those of `assert_called`; `session=` reads another session's calls from the same server."""

    def __init__(self, calls: Sequence[Call], fetch: Callable[[str], list[Call]] | None = None) -> None:
        super().__init__(calls)
        self._fetch = fetch

    def __call__(self, *, session: str | None = None, **filters: Any) -> CallList:
        base: Sequence[Call] = self
        if session is not None and self._fetch is not None:
            base = self._fetch(session)
        return CallList(call_filter(session=session, **filters).select(base), self._fetch)


def _near_miss_lines(call: Call, only: str | None = None) -> list[str]:
    lines = []
    for miss in call.near_misses:
        if only is not None and miss.get("fixture") != only:
            continue
        details = "; ".join(
            f"{m['key']}: expected {m['expected']}, got {m['actual']}" for m in miss.get("mismatches", ())
        )
        lines.append(f"near miss {miss.get('fixture')!r}: {details}")
    return lines


def describe_calls(calls: Sequence[Call]) -> str:
    """The calls seen, numbered, with their near misses: the body of every assertion message."""
    if not calls:
        return "No calls were received."
    lines = [f"Calls received ({len(calls)}):"]
    for number, call in enumerate(calls, 1):
        lines.append(f"  {number}. {call.describe()}")
        lines.extend(f"       {line}" for line in _near_miss_lines(call))
    return "\n".join(lines)


@frozen
class FixtureUse:
    """A fixture a session can use, and how often it answered."""

    name: str
    source: str
    runtime: bool  # added at run time (by the test), not loaded from the server's files
    uses: int
    times: int | None = None


# --- the servers a handle can drive ----------------------------------------------------------------------------


class Server(Protocol):
    """What a handle needs of a gateway, whether it runs here or elsewhere."""

    @property
    def url(self) -> str:
        """The root URL, e.g. http://127.0.0.1:40123 (no session prefix)."""
        ...

    @property
    def settings(self) -> Settings | None:
        """The server's settings, when known (None for a remote server)."""
        ...

    def add_fixtures(self, session: str, fixtures: tuple[Fixture, ...], document: Any) -> None: ...

    def fixture_uses(self, session: str) -> list[FixtureUse]: ...

    def add_faults(self, session: str, rules: Any) -> list[str]:
        """Add fault rules (the JSON of `POST /__mockgw/faults`); returns their names."""
        ...

    def calls(self, session: str) -> list[Call]: ...

    def problems(self, session: str) -> list[str]: ...

    def reset(self, session: str) -> None: ...

    def close(self) -> None: ...


class LocalServer:
    """A MockGateway running in a thread of this process; its state is only touched on its own loop."""

    def __init__(self, gateway: MockGateway) -> None:
        self.gateway = gateway

    @classmethod
    def start(cls, settings: Settings) -> LocalServer:
        """Start a gateway on a free port (the port in `settings` is ignored) and return once it listens."""
        return cls(MockGateway(replace(settings, port=0)).start())

    @property
    def url(self) -> str:
        return self.gateway.url

    @property
    def settings(self) -> Settings:
        return self.gateway.settings

    def add_fixtures(self, session: str, fixtures: tuple[Fixture, ...], document: Any) -> None:
        self.gateway.run_in_loop(lambda: self.gateway.state.add_fixtures(session, fixtures))

    def add_faults(self, session: str, rules: Any) -> list[str]:
        state = self.gateway.state

        def add() -> list[str]:
            parsed = parse_rules(rules, first_index=len(state.fault_rules(session)))
            state.add_fault_rules(session, parsed)
            return [rule.name for rule in parsed]

        return self.gateway.run_in_loop(add)

    def fixture_uses(self, session: str) -> list[FixtureUse]:
        def read() -> list[FixtureUse]:
            state = self.gateway.state
            runtime = {id(f) for f in state.session(session).runtime_fixtures}
            uses = state.session(session).uses
            return [
                FixtureUse(f.name, f.source, id(f) in runtime, uses.get(f.name, 0), f.times)
                for f in state.fixtures(session)
            ]

        return self.gateway.run_in_loop(read)

    def calls(self, session: str) -> list[Call]:
        return self.gateway.run_in_loop(lambda: self.gateway.state.journal.query(CallFilter(session=session)))

    def problems(self, session: str) -> list[str]:
        return self.gateway.run_in_loop(lambda: list(self.gateway.state.session(session).problems))

    def reset(self, session: str) -> None:
        self.gateway.run_in_loop(lambda: self.gateway.state.reset(session))

    def close(self) -> None:
        self.gateway.stop()


def control_request(
    url: str, method: str, path: str, session: str, payload: Any = None, timeout: float = 10.0, token: str | None = None
) -> Any:
    """`METHOD <url>/__mockgw<path>` for `session`, with an optional JSON payload; the decoded JSON answer.

    `token` is sent as `Authorization: Bearer`. A refused request raises MockgwError with the status and the
    server's answer; an unreachable server says so."""
    path = "/" + path.lstrip("/")
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(f"{url}{CONTROL_PREFIX}{path}", data=data, method=method)
    request.add_header(SESSION_HEADER, session)
    if token:  # the server's control token (`--control-token`), when it has one
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")
        raise MockgwError(f"mockgw at {url}: {method} {CONTROL_PREFIX}{path} answered {exc.code}: {detail}") from None
    except OSError as exc:
        raise MockgwError(f"mockgw at {url} cannot be reached ({exc}); is `mockgw serve` running?") from None


class RemoteServer:
    """An already running `mockgw serve`, driven through its control endpoint."""

    def __init__(self, url: str, timeout: float = 10.0, control_token: str | None = None) -> None:
        self._url = url.rstrip("/")
        self.timeout = timeout
        self.control_token = control_token  # sent as `Authorization: Bearer` when the server requires one

    @property
    def url(self) -> str:
        return self._url

    @property
    def settings(self) -> None:
        return None

    def _call(self, method: str, path: str, session: str, payload: Any = None) -> Any:
        return control_request(self._url, method, path, session, payload, self.timeout, self.control_token)

    def add_fixtures(self, session: str, fixtures: tuple[Fixture, ...], document: Any) -> None:
        self._call("POST", "/fixtures", session, document)

    def add_faults(self, session: str, rules: Any) -> list[str]:
        parse_rules(rules)  # refused here, with the rule and field at fault, rather than as a bare 400
        return list(self._call("POST", "/faults", session, rules)["added"])

    def fixture_uses(self, session: str) -> list[FixtureUse]:
        listed = self._call("GET", "/fixtures", session)["fixtures"]
        return [
            FixtureUse(f["name"], f["source"], f["source"] == "<runtime>", int(f["uses"]), f.get("times"))
            for f in listed
        ]

    def calls(self, session: str) -> list[Call]:
        query = urllib.parse.urlencode({"session": session})
        return [Call.from_json(c) for c in self._call("GET", f"/calls?{query}", session)["calls"]]

    def problems(self, session: str) -> list[str]:
        return list(self._call("GET", "/problems", session)["problems"])

    def reset(self, session: str) -> None:
        self._call("POST", "/reset", session)

    def close(self) -> None:
        """Nothing to stop: the server is not ours."""


# --- fixtures from what a test writes ----------------------------------------------------------------------------


def _parse(document: Any, source: str) -> tuple[Fixture, ...]:
    if isinstance(document, Mapping) and "fixtures" in document:
        return parse_document(document, source)
    return (parse_fixture(document, source),)


def _yaml(text: str, source: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FixtureError(source, None, "", f"not valid YAML: {exc}") from None


def fixture_documents(source: FixtureSource, base: Path | None = None) -> list[tuple[Any, str]]:
    """(document, source label) pairs for what `add()` accepts.

    A mapping is one fixture or a whole file's document; a string with a line break (or starting with `{`) is
    YAML text; any other string or Path names a file or a folder of *.yaml files (relative to `base`).
    """
    if isinstance(source, Mapping):
        return [(source, "<mockgw.add>")]
    if isinstance(source, str) and ("\n" in source or source.lstrip().startswith("{")):
        return [(_yaml(source, "<yaml text>"), "<yaml text>")]
    path = Path(source)
    if base is not None and not path.is_absolute():
        path = base / path
    return [(_yaml(file.read_text(encoding="utf-8"), str(file)), str(file)) for file in fixture_files([path])]


class Route(list[str]):
    """What `add()` added: the names of its fixtures (it is that list) and the calls they answered, like respx's
    routes: `route.called`, `route.call_count`, `route.calls` (a CallList, filterable like `mockgw.calls`)."""

    def __init__(self, handle: MockgwHandle, names: Sequence[str]) -> None:
        super().__init__(names)
        self._handle = handle

    @property
    def names(self) -> list[str]:
        """The names of the fixtures added."""
        return list(self)

    @property
    def calls(self) -> CallList:
        """The calls of the handle's session that these fixtures answered, oldest first."""
        every = self._handle.calls
        return CallList([c for c in every if c.fixture is not None and c.fixture in self], every._fetch)

    @property
    def call_count(self) -> int:
        return len(self.calls)

    @property
    def called(self) -> bool:
        return bool(self.calls)

    def __repr__(self) -> str:
        return f"<Route {list(self)!r}>"


# --- the handle ------------------------------------------------------------------------------------------------


class MockgwHandle:
    """A session on a mock gateway: its URLs, its fixtures, the calls it received and checks on them."""

    def __init__(self, server: Server, session: str = "", api_key: str | None = None) -> None:
        self.server = server
        self.session = session
        self.api_key = api_key or _api_key_for(server.settings)

    def __repr__(self) -> str:
        return f"<MockgwHandle {self.url} session={self.session!r}>"

    # where to send requests

    @property
    def root_url(self) -> str:
        """The server root for this session (what the edgee and anthropic SDKs take as base URL)."""
        return self.server.url + (f"/s/{self.session}" if self.session else "")

    @property
    def url(self) -> str:
        """The OpenAI-style base URL for this session (`…/v1`)."""
        return f"{self.root_url}/v1"

    @property
    def headers(self) -> dict[str, str]:
        """Headers naming the session, for clients that talk to the server root (e.g. `default_headers=`)."""
        return {SESSION_HEADER: self.session} if self.session else {}

    def env(self) -> dict[str, str]:
        """The environment variables that point the edgee, openai and anthropic SDKs here."""
        return {
            "EDGEE_BASE_URL": self.root_url,
            "EDGEE_API_KEY": self.api_key,
            "OPENAI_BASE_URL": self.url,
            "OPENAI_API_KEY": self.api_key,
            "ANTHROPIC_BASE_URL": self.root_url,
            "ANTHROPIC_API_KEY": self.api_key,
        }

    # scripting

    def add(self, source: FixtureSource, *, base: Path | None = None) -> Route:
        """Add fixtures for this session: a dict, YAML text, or a file/folder path. Returns their Route: the
        list of their names, with `.calls`, `.called` and `.call_count`.

        A broken fixture raises FixtureError here, naming the source, fixture and field.
        """
        names: list[str] = []
        for document, label in fixture_documents(source, base):
            fixtures = _parse(document, label)
            self.server.add_fixtures(self.session, fixtures, document)
            names.extend(f.name for f in fixtures)
        return Route(self, names)

    def fault(
        self,
        fault: Mapping[str, Any] | Sequence[Mapping[str, Any]] | str,
        *,
        match: Mapping[str, Any] | None = None,
        name: str | None = None,
        nth: int | Sequence[int] | None = None,
        every: int | None = None,
        times: int | None = None,
        probability: float | None = None,
    ) -> list[str]:
        """Add fault rules for this session; returns their names. Rules are tried before fixtures (docs/faults.md).

        Either one fault of the catalogue with its schedule as keywords,
        `fault({"type": "error", "status": 503}, times=2)`, or whole rules (a dict with a `fault` key, a list of
        them, or YAML text). A broken rule raises FixtureError naming the rule and the field.
        """
        if isinstance(fault, str):
            fault = _yaml(fault, "<yaml text>")
        if isinstance(fault, Mapping) and "fault" not in fault and "faults" not in fault:
            listed = list(nth) if isinstance(nth, Sequence) else nth
            schedule = {"match": match, "name": name, "nth": listed, "every": every, "times": times}
            rule = {k: v for k, v in {**schedule, "probability": probability}.items() if v is not None}
            fault = {"fault": dict(fault), **rule}
        return self.server.add_faults(self.session, fault)

    def reset(self) -> None:
        """Forget this session's run-time fixtures, counters, calls and problems."""
        self.server.reset(self.session)

    def control(self, method: str, path: str, payload: Any = None, *, timeout: float = 10.0) -> Any:
        """Any request of the control endpoint (docs/scripting.md) for this session; the decoded JSON answer:
        `mockgw.control("GET", "/holds?wait_for=1")`, `mockgw.control("POST", "/release")`,
        `mockgw.control("PUT", "/clock", {"now": "2030-01-01T00:00:00Z"})`. A refused request raises MockgwError
        with the status and the server's error."""
        token = getattr(self.server, "control_token", None)  # a RemoteServer's (a LocalServer needs none)
        return control_request(self.server.url, method, path, self.session, payload, timeout, token)

    # inspecting

    @property
    def calls(self) -> CallList:
        """Every request this session received, oldest first; `mockgw.calls(text=..., tags=..., body=...,
        session=...)` selects some (the filters of `assert_called`)."""
        return CallList(self.server.calls(self.session), self.server.calls)

    @property
    def last_call(self) -> Call:
        calls = self.calls
        if not calls:
            raise MockgwAssertionError("mockgw received no calls.")
        return calls[-1]

    def fixture_uses(self) -> list[FixtureUse]:
        """Every fixture this session can use, with how often it answered."""
        return self.server.fixture_uses(self.session)

    # checking

    def assert_called(
        self,
        times: int | None = None,
        *,
        model: str | None = None,
        fixture: str | None = None,
        path: str | None = None,
        tags: str | Sequence[str] = (),
        text: str | None = None,
        body: Mapping[str, Any] | None = None,
        status: int | None = None,
        session: str | None = None,
    ) -> CallList:
        """The calls that fit the filters; fails unless there are `times` of them (at least one when None).

        `tags`: every one of them; `text`: contained in the last user message; `body`: a subset of the JSON sent
        (objects may have more keys); `session`: another session's calls on the same server."""
        __tracebackhide__ = True
        where = call_filter(
            model=model, fixture=fixture, path=path, tags=tags, text=text, body=body, status=status, session=session
        )
        calls = self.calls(session=session) if session is not None else self.calls
        wanted = CallList(where.select(calls), self.server.calls)
        if (times is None and wanted) or len(wanted) == times:
            return wanted
        filters = where.describe()
        expected = "at least one call" if times is None else f"{times} call{'s' * (times != 1)}"
        raise MockgwAssertionError(
            f"mockgw expected {expected}{' with ' + filters if filters else ''}, got {len(wanted)}.\n"
            + describe_calls(calls)
        )

    def assert_not_called(self) -> None:
        __tracebackhide__ = True
        self.assert_called(0)

    def assert_all_fixtures_used(self) -> None:
        """Fails when a fixture added in this test never answered, naming the nearest requests it missed."""
        __tracebackhide__ = True
        unused = [f for f in self.fixture_uses() if f.runtime and f.uses == 0]
        if not unused:
            return
        calls = self.calls
        lines = [f"mockgw: {len(unused)} fixture{'s' * (len(unused) != 1)} never used:"]
        for use in unused:
            lines.append(f"  - {use.name!r} (from {use.source})")
            for number, call in enumerate(calls, 1):
                lines.extend(f"      call {number}: {line}" for line in _near_miss_lines(call, use.name))
        lines.append(describe_calls(calls))
        raise MockgwAssertionError("\n".join(lines))

    def assert_no_unmatched(self) -> None:
        """Fails when a model request was answered by no fixture (generated text, or strict mode's 404)."""
        __tracebackhide__ = True
        calls = self.calls
        unmatched = [c for c in calls if c.unmatched]
        if unmatched:
            raise MockgwAssertionError(
                f"mockgw: {len(unmatched)} request{'s' * (len(unmatched) != 1)} matched no fixture.\n"
                + describe_calls(calls)
            )

    def problems(self) -> list[str]:
        """What went wrong in this session, as the server keeps it (`GET /__mockgw/problems`): requests unmatched in
        strict mode, requests refused as invalid (schema or conversation rules) that no fixture or rule scripted,
        refused fixtures and rules, and internal errors."""
        return list(self.server.problems(self.session))

    def check(self) -> None:
        """Raise the server's problems in this test (the plugin calls it after each test)."""
        __tracebackhide__ = True
        found = self.problems()
        if found:
            listing = "\n".join(f"  - {p}" for p in found)
            raise MockgwAssertionError(
                f"mockgw saw {len(found)} problem{'s' * (len(found) != 1)} during this test:\n{listing}\n"
                + describe_calls(self.calls)
            )


def _api_key_for(settings: Settings | None) -> str:
    """A key the server accepts: its first active key when it has a key table, else a test key."""
    if settings is not None:
        for key in settings.keys:
            if key.state == "active" and not key.models:
                return key.key
    return DEFAULT_API_KEY
