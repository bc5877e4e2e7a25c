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
from collections.abc import Mapping, Sequence
from dataclasses import field, replace
from pathlib import Path
from typing import Any, Protocol

import yaml

from mockgw.core.errors import FixtureError, MockgwError
from mockgw.core.frozen import frozen
from mockgw.fixtures.load import Fixture, fixture_files, parse_document, parse_fixture
from mockgw.gateway.config import Settings
from mockgw.gateway.fault_rules import parse_rules
from mockgw.journal.calls import CallFilter
from mockgw.server.runner import MockGateway

SESSION_HEADER = "X-Mockgw-Session"
DEFAULT_API_KEY = "sk-mockgw-test"
CONTROL = "/__mockgw"
UNMATCHED_CODE = "no_matching_fixture"

FixtureSource = Mapping[str, Any] | str | Path


class MockgwAssertionError(AssertionError):
    """An expectation about the calls a mock gateway received that did not hold."""


# --- what was received -------------------------------------------------------------------------------------------


def _text_of(content: Any) -> str:
    """Message content flattened to text: a string, or the text parts of a parts list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, Mapping))
    return ""


def _messages_of(body: Any) -> tuple[Mapping[str, Any], ...]:
    if not isinstance(body, Mapping):
        return ()
    messages = body.get("messages", body.get("input"))
    if isinstance(messages, str):  # Responses API: a bare string input is one user message
        return ({"role": "user", "content": messages},)
    if isinstance(messages, list):
        return tuple(m for m in messages if isinstance(m, Mapping))
    return ()


def _tool_names(body: Any) -> tuple[str, ...]:
    if not isinstance(body, Mapping) or not isinstance(body.get("tools"), list):
        return ()
    names = []
    for tool in body["tools"]:
        if isinstance(tool, Mapping):
            function = tool.get("function")
            name = function.get("name") if isinstance(function, Mapping) else tool.get("name")
            if isinstance(name, str):
                names.append(name)
    return tuple(names)


@frozen
class RecordedCall:
    """One request the gateway received, as the journal keeps it (credentials redacted)."""

    path: str
    method: str
    status: int
    model: str | None
    fixture: str | None
    body: Any
    headers: Mapping[str, str]
    tags: tuple[str, ...] = ()
    session: str = ""
    id: str = ""
    response: Mapping[str, Any] = field(default_factory=dict)
    near_misses: tuple[Mapping[str, Any], ...] = ()
    fault: str | None = None  # the kind of fault injected into this answer, if any
    delivered: Mapping[str, Any] = field(default_factory=dict)  # what went out and how it ended

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RecordedCall:
        """A call from its journal JSON (`GET /__mockgw/calls`)."""
        return cls(
            path=data["path"],
            method=data["method"],
            status=int(data["status"]),
            model=data.get("model"),
            fixture=data.get("fixture"),
            body=data.get("body"),
            headers=dict(data.get("headers") or {}),
            tags=tuple(data.get("tags") or ()),
            session=data.get("session", ""),
            id=data.get("id", ""),
            response=dict(data.get("response") or {}),
            near_misses=tuple(data.get("near_misses") or ()),
            fault=data.get("fault"),
            delivered=dict(data.get("delivered") or {}),
        )

    @property
    def messages(self) -> tuple[Mapping[str, Any], ...]:
        """The request's messages as sent (`messages`, or the Responses API's `input`)."""
        return _messages_of(self.body)

    @property
    def last_user_message(self) -> str | None:
        """The text of the last user message, or None when there is none."""
        for message in reversed(self.messages):
            if message.get("role") == "user":
                return _text_of(message.get("content"))
        return None

    @property
    def tools(self) -> tuple[str, ...]:
        """The names of the tools offered."""
        return _tool_names(self.body)

    @property
    def error_code(self) -> str | None:
        """The `error.code` the gateway answered with, if it answered with an error."""
        error = self.response.get("error")
        return error.get("code") if isinstance(error, Mapping) else None

    @property
    def is_model_request(self) -> bool:
        """A request for a model answer (not a model listing): one that fixtures could match."""
        return self.method == "POST" and isinstance(self.body, Mapping) and "model" in self.body

    @property
    def unmatched(self) -> bool:
        """A model request that no fixture answered (generated text, or strict mode's 404)."""
        return (
            self.is_model_request and self.fixture is None and (self.status == 200 or self.error_code == UNMATCHED_CODE)
        )

    @property
    def refused(self) -> bool:
        """Refused as a bad request (400) that no fixture or fault scripted: the real gateway would refuse it too."""
        return self.status == 400 and self.fixture is None and self.fault is None

    def describe(self) -> str:
        """One line: method, path, model, last user message, and what answered."""
        parts = [f"{self.method} {self.path}", f"-> {self.status}"]
        if self.model:
            parts.insert(1, f"model={self.model!r}")
        if self.last_user_message is not None:
            text = self.last_user_message
            parts.insert(2, f"last user message={text[:60] + '...' if len(text) > 60 else text!r}")
        if self.fault:
            parts.append(f"fault={self.fault}")
        if self.fixture:
            parts.append(f"fixture={self.fixture!r}")
        elif self.error_code:
            parts.append(f"error={self.error_code}")
        elif self.is_model_request:
            parts.append("no fixture (generated answer)")
        return " ".join(parts)


def _near_miss_lines(call: RecordedCall, only: str | None = None) -> list[str]:
    lines = []
    for miss in call.near_misses:
        if only is not None and miss.get("fixture") != only:
            continue
        details = "; ".join(
            f"{m['key']}: expected {m['expected']}, got {m['actual']}" for m in miss.get("mismatches", ())
        )
        lines.append(f"near miss {miss.get('fixture')!r}: {details}")
    return lines


def describe_calls(calls: Sequence[RecordedCall]) -> str:
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

    def calls(self, session: str) -> list[RecordedCall]: ...

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

    def calls(self, session: str) -> list[RecordedCall]:
        found = self.gateway.run_in_loop(lambda: self.gateway.state.journal.query(CallFilter(session=session)))
        return [RecordedCall.from_json(call.as_json()) for call in found]

    def problems(self, session: str) -> list[str]:
        return self.gateway.run_in_loop(lambda: list(self.gateway.state.session(session).problems))

    def reset(self, session: str) -> None:
        self.gateway.run_in_loop(lambda: self.gateway.state.reset(session))

    def close(self) -> None:
        self.gateway.stop()


class RemoteServer:
    """An already running `mockgw serve`, driven through its control endpoint."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self._url = url.rstrip("/")
        self.timeout = timeout

    @property
    def url(self) -> str:
        return self._url

    @property
    def settings(self) -> None:
        return None

    def _call(self, method: str, path: str, session: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(f"{self._url}{CONTROL}{path}", data=data, method=method)
        request.add_header(SESSION_HEADER, session)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            raise MockgwError(
                f"mockgw at {self._url}: {method} {CONTROL}{path} answered {exc.code}: {detail}"
            ) from None
        except OSError as exc:
            raise MockgwError(f"mockgw at {self._url} cannot be reached ({exc}); is `mockgw serve` running?") from None

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

    def calls(self, session: str) -> list[RecordedCall]:
        query = urllib.parse.urlencode({"session": session})
        return [RecordedCall.from_json(c) for c in self._call("GET", f"/calls?{query}", session)["calls"]]

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

    def add(self, source: FixtureSource, *, base: Path | None = None) -> list[str]:
        """Add fixtures for this session: a dict, YAML text, or a file/folder path. Returns their names.

        A broken fixture raises FixtureError here, naming the source, fixture and field.
        """
        names: list[str] = []
        for document, label in fixture_documents(source, base):
            fixtures = _parse(document, label)
            self.server.add_fixtures(self.session, fixtures, document)
            names.extend(f.name for f in fixtures)
        return names

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

    # inspecting

    @property
    def calls(self) -> list[RecordedCall]:
        """Every request this session received, oldest first."""
        return self.server.calls(self.session)

    @property
    def last_call(self) -> RecordedCall:
        calls = self.calls
        if not calls:
            raise MockgwAssertionError("mockgw received no calls.")
        return calls[-1]

    def fixture_uses(self) -> list[FixtureUse]:
        """Every fixture this session can use, with how often it answered."""
        return self.server.fixture_uses(self.session)

    # checking

    def assert_called(
        self, times: int | None = None, *, model: str | None = None, fixture: str | None = None, path: str | None = None
    ) -> list[RecordedCall]:
        """The calls that fit the filters; fails unless there are `times` of them (at least one when None)."""
        __tracebackhide__ = True
        calls = self.calls
        wanted = [
            c
            for c in calls
            if (model is None or c.model == model)
            and (fixture is None or c.fixture == fixture)
            and (path is None or c.path == path)
        ]
        if (times is None and wanted) or len(wanted) == times:
            return wanted
        filters = ", ".join(f"{k}={v!r}" for k, v in (("model", model), ("fixture", fixture), ("path", path)) if v)
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
        """What went wrong in this session: the server's problems, strict mode's unmatched requests, and requests
        refused as invalid (schema or conversation rules) that no fixture scripted."""
        found = list(self.server.problems(self.session))
        for call in self.calls:
            message = call.response.get("error", {}).get("message", "")
            if call.error_code == UNMATCHED_CODE:
                found.append(f"unmatched request in strict mode: {call.describe()}\n    {message}")
            elif call.refused:
                found.append(f"request refused with 400: {call.describe()}\n    {message}")
        return found

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
