"""pytest plugin: a mock Edgee gateway per test session, a reset handle per test, problems raised in the test.

Fixtures: `mockgw` (a MockgwHandle, reset before each test, environment pointed at it), `mockgw_server` (the
session-wide server behind it), `mockgw_settings` (its Settings; override it in a conftest), `make_mockgw` (a factory
of extra isolated servers, stopped at teardown). Marker: `@pytest.mark.mockgw(fixtures=..., strict=..., seed=...,
check=...)`. Settings: ini options `mockgw_*` < MOCKGW_* environment < the marker.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import replace
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from mockgw.core.errors import FixtureError, MockgwError
from mockgw.core.frozen import frozen
from mockgw.core.names import TRUE_WORDS
from mockgw.gateway.config import Settings, control_token, env_set_fields, remote_url, resolve
from mockgw.handle import (
    FixtureSource,
    LocalServer,
    MockgwAssertionError,
    MockgwHandle,
    RemoteServer,
    Server,
    redact_key,
)
from mockgw.record.modes import RecordSettings
from mockgw.server.runner import MockGateway
from mockgw.verdict import marker as matrix_marker
from mockgw.verdict.marker import mockgw_cell, pytest_generate_tests  # noqa: F401  (the mockgw_matrix marker)

# Handles created during a test, checked for server-side problems once the test body has run.
HANDLES = pytest.StashKey[list[MockgwHandle]]()
MARKER_OPTIONS = ("fixtures", "strict", "seed", "check")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("mockgw_fixtures", "mockgw: fixture files or folders loaded by every server", type="paths")
    parser.addini("mockgw_seed", "mockgw: the seed of every random choice", default="")
    parser.addini("mockgw_strict", "mockgw: unmatched requests get 404 and fail the test", default="")
    parser.addini("mockgw_config", "mockgw: a mockgw config file (relative to the ini file)", default="")
    parser.addini("mockgw_url", "mockgw: use this running `mockgw serve` instead of starting one", default="")
    parser.addini("mockgw_api_key", "mockgw: the API key the clients are given (MOCKGW_API_KEY wins)", default="")
    parser.addini(
        "mockgw_patch_env",
        "mockgw: point EDGEE_/OPENAI_/ANTHROPIC_ BASE_URL and API_KEY at the mockgw fixture",
        type="bool",
        default=True,
    )
    parser.addoption(
        "--mockgw-ui",
        action="store_true",
        default=False,
        help="mockgw: when a test fails, print the web inspector's URL and keep its server alive until Enter",
    )

    group = parser.getgroup("mockgw")
    group.addoption(
        "--mockgw-record",
        choices=("none", "once", "new", "all"),
        default="none",
        help="mockgw: record each test's traffic to --mockgw-upstream into cassettes/<file>/<test>.yaml next to the "
        "tests (none, the default, never touches the network and replays the cassettes that exist)",
    )
    group.addoption(
        "--mockgw-control-token",
        metavar="TOKEN",
        help="mockgw: the control token of the running server of mockgw_url/MOCKGW_URL (or MOCKGW_CONTROL_TOKEN)",
    )
    group.addoption("--mockgw-upstream", metavar="URL", help="mockgw: the gateway to record (or MOCKGW_UPSTREAM)")
    group.addoption("--mockgw-upstream-key-env", metavar="NAME", help="mockgw: the upstream key's variable")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mockgw(*fixtures, fixtures=..., strict=None, seed=None, check=True): configure the mockgw fixture for a test",
    )
    matrix_marker.configure(config)


def _ini_dir(config: pytest.Config) -> Path:
    return config.inipath.parent if config.inipath else config.rootpath


def plugin_settings(config: pytest.Config, env: Mapping[str, str] | None = None) -> Settings:
    """The settings of the session's servers: defaults < config file < ini options < MOCKGW_* variables."""
    flags: dict[str, Any] = {}
    fixtures = config.getini("mockgw_fixtures")
    if fixtures:
        flags["fixtures"] = tuple(str(p) for p in fixtures)
    seed = str(config.getini("mockgw_seed")).strip()
    if seed:
        flags["seed"] = int(seed)
    strict = str(config.getini("mockgw_strict")).strip()
    if strict:
        flags["strict"] = strict.lower() in TRUE_WORDS
    flags = {name: value for name, value in flags.items() if name not in env_set_fields(env)}
    config_file = str(config.getini("mockgw_config")).strip()
    config_path = str(_ini_dir(config) / config_file) if config_file else None
    return replace(resolve(flags, config_path, env), host="127.0.0.1", port=0)


@pytest.fixture(scope="session")
def mockgw_settings(pytestconfig: pytest.Config) -> Settings:
    """The settings of the servers the plugin starts (override this fixture to set them in code)."""
    return plugin_settings(pytestconfig)


@pytest.fixture(scope="session")
def mockgw_server(pytestconfig: pytest.Config, mockgw_settings: Settings) -> Iterator[Server]:
    """The session-wide server: started on a free port on first use, or the `mockgw_url`/MOCKGW_URL one."""
    url = remote_url() or str(pytestconfig.getini("mockgw_url")).strip()
    token = pytestconfig.getoption("mockgw_control_token") or control_token()
    server: Server = RemoteServer(url, control_token=token) if url else LocalServer.start(mockgw_settings)
    yield server
    server.close()


@frozen
class MarkerOptions:
    """What `@pytest.mark.mockgw(...)` asks for."""

    fixtures: tuple[FixtureSource, ...] = ()
    strict: bool | None = None
    seed: int | None = None
    check: bool = True

    @classmethod
    def of(cls, node: pytest.Item) -> MarkerOptions:
        marker = node.get_closest_marker("mockgw")
        if marker is None:
            return cls()
        unknown = sorted(set(marker.kwargs) - set(MARKER_OPTIONS))
        if unknown:
            pytest.fail(
                f"@pytest.mark.mockgw: unknown option(s) {', '.join(unknown)}; "
                f"the options are {', '.join(MARKER_OPTIONS)}",
                pytrace=False,
            )
        given = marker.kwargs.get("fixtures", ())
        listed = list(given) if isinstance(given, (list, tuple)) else [given]
        return cls(
            fixtures=(*marker.args, *listed),
            strict=marker.kwargs.get("strict"),
            seed=marker.kwargs.get("seed"),
            check=bool(marker.kwargs.get("check", True)),
        )

    def changes(self, settings: Settings) -> dict[str, Any]:
        """The settings this marker changes, compared with the shared server's."""
        wanted = {"strict": self.strict, "seed": self.seed}
        return {k: v for k, v in wanted.items() if v is not None and getattr(settings, k) != v}


_SESSIONS = count(1)
_RUN_ID = secrets.token_hex(3)  # tells apart runs (and xdist workers) sharing one remote server; not a test input


def _session_name(nodeid: str) -> str:
    """A unique session for one test on a shared remote server, readable in its journal."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", nodeid.rpartition("::")[2])[:48].strip("-")
    return f"{_RUN_ID}-{next(_SESSIONS)}-{name}"


def api_key(config: pytest.Config, env: Mapping[str, str] | None = None) -> str | None:
    """The key to give the clients: MOCKGW_API_KEY, else the `mockgw_api_key` ini option, else None (the handle
    picks one the server accepts, when it knows the server's settings)."""
    env = os.environ if env is None else env
    return env.get("MOCKGW_API_KEY") or str(config.getini("mockgw_api_key")).strip() or None


def _load(handle: MockgwHandle, sources: list[FixtureSource], base: Path, where: str) -> None:
    """Add `sources` to the handle's session; a fixture refused (here or by the server) fails the test loudly."""
    for source in sources:
        try:
            handle.add(source, base=base)
        except (FixtureError, MockgwError) as exc:
            pytest.fail(
                f"mockgw: the fixtures {where} ({source}) could not be loaded into this test's session "
                f"on {handle.server.url}:\n{exc}",
                pytrace=False,
            )


def _register(request: pytest.FixtureRequest, handle: MockgwHandle) -> None:
    request.node.stash.setdefault(HANDLES, []).append(handle)


@pytest.fixture
def mockgw(
    request: pytest.FixtureRequest, mockgw_server: Server, mockgw_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MockgwHandle]:
    """A handle on the session's server, reset before the test; the SDKs' environment variables point at it."""
    options = MarkerOptions.of(request.node)
    server, own = mockgw_server, None
    changes = {**options.changes(mockgw_settings), **matrix_marker.settings_changes(request.node)}
    if changes:
        if isinstance(mockgw_server, RemoteServer):
            pytest.fail(
                f"@pytest.mark.mockgw({', '.join(f'{k}={v!r}' for k, v in changes.items())}) needs a server "
                "started by the plugin, but mockgw_url/MOCKGW_URL points at a running one; start that one "
                "with these settings instead.",
                pytrace=False,
            )
        # strict and seed are server-wide settings: a dedicated server (started in milliseconds) is the clean way.
        server = own = LocalServer.start(replace(mockgw_settings, **changes))
    cassette = _cassette(request)
    recording = _recording(request.config, cassette)
    if recording is not None:  # record & replay (docs/record.md): a recording server of the test's own
        settings = replace(mockgw_settings, **changes, port=0)
        if recording.mode in ("once", "new") and cassette.is_file():
            settings = replace(settings, fixtures=(*settings.fixtures, str(cassette)))
        if own is not None:
            own.close()
        server = own = LocalServer(MockGateway(settings, recording).start())
    remote = isinstance(server, RemoteServer)
    session = _session_name(request.node.nodeid) if remote else ""
    handle = MockgwHandle(server, session, api_key(request.config))
    handle.reset()
    if remote:  # a running server has its own files: the ini's fixtures go into this test's session
        ini_fixtures: list[FixtureSource] = list(request.config.getini("mockgw_fixtures"))
        _load(handle, ini_fixtures, _ini_dir(request.config), "of mockgw_fixtures")
    if recording is None and cassette.is_file():  # a recorded cassette replays, without any network
        _load(handle, [cassette], cassette.parent, "recorded for this test")
    _load(handle, list(options.fixtures), request.path.parent, "of @pytest.mark.mockgw")
    if request.config.getini("mockgw_patch_env"):
        for name, value in handle.env().items():
            monkeypatch.setenv(name, value)
    if options.check:
        _register(request, handle)
    yield handle
    if isinstance(server, RemoteServer):
        handle.reset()  # leave nothing behind on a shared server
    if own is not None:
        own.close()


def _cassette(request: pytest.FixtureRequest) -> Path:
    """The test's recording: cassettes/<test file>/<test name>.yaml beside the test file."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", request.node.name).strip("-")
    return request.path.parent / "cassettes" / request.path.stem / f"{name}.yaml"


def _recording(config: pytest.Config, cassette: Path) -> RecordSettings | None:
    """What --mockgw-record asks for this test (None: replay only)."""
    mode = config.getoption("--mockgw-record", "none")
    if mode == "none":
        return None
    upstream = config.getoption("--mockgw-upstream") or os.environ.get("MOCKGW_UPSTREAM")
    if not upstream:
        pytest.fail("--mockgw-record needs --mockgw-upstream URL (or MOCKGW_UPSTREAM)", pytrace=False)
    key_env = config.getoption("--mockgw-upstream-key-env")
    key = os.environ.get(key_env) if key_env else None
    return RecordSettings(upstream, str(cassette.parent), mode, key, file=cassette.name)


@pytest.fixture
def make_mockgw(request: pytest.FixtureRequest, mockgw_settings: Settings) -> Iterator[Callable[..., MockgwHandle]]:
    """Start extra isolated servers: `make_mockgw(fixtures=..., strict=..., seed=..., check=True, **settings)`."""
    started: list[LocalServer] = []

    def make(
        *sources: FixtureSource,
        fixtures: tuple[FixtureSource, ...] | list[FixtureSource] = (),
        check: bool = True,
        **settings: Any,
    ) -> MockgwHandle:
        server = LocalServer.start(replace(mockgw_settings, **settings))
        started.append(server)
        handle = MockgwHandle(server, api_key=api_key(request.config))
        for source in (*sources, *fixtures):
            handle.add(source, base=request.path.parent)
        if check:
            _register(request, handle)
        return handle

    yield make
    for server in started:
        server.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """After a test body that passed, fail it with what its mock gateways saw go wrong.

    When the body failed, the same report is attached to the failure as a "mockgw" section: the near misses often
    explain the exception (e.g. a 404 from strict mode).
    """
    try:
        result = yield
    except BaseException:
        report = "\n\n".join(text for text in (_problems(item), _refused_keys(item)) if text)
        if report:
            item.add_report_section("call", "mockgw", report)
        raise
    problems = _problems(item)
    if problems:
        pytest.fail(problems, pytrace=False)
    return result


def _problems(item: pytest.Item) -> str:
    """The problem reports of the test's handles, or "" when there are none."""
    failures = []
    for handle in item.stash.get(HANDLES, []):
        try:
            handle.check()
        except MockgwAssertionError as exc:
            failures.append(str(exc))
    return "\n\n".join(failures)


def _refused_keys(item: pytest.Item) -> str:
    """When the test failed and its server refused the clients' key (401/403): which key, and how to set it."""
    lines = []
    for handle in item.stash.get(HANDLES, []):
        try:
            refused = [c for c in handle.calls if c.status in (401, 403)]
        except MockgwError:
            continue
        if refused:
            codes = sorted({f"{c.status} {c.error_code}" for c in refused})
            lines.append(
                f"mockgw refused {len(refused)} request{'s' * (len(refused) != 1)} ({', '.join(codes)}). "
                f"The plugin gave the clients the API key {redact_key(handle.api_key)!r} (EDGEE_API_KEY, "
                "OPENAI_API_KEY, ANTHROPIC_API_KEY); set one the server accepts with the `mockgw_api_key` ini "
                "option or the MOCKGW_API_KEY environment variable."
            )
    return "\n".join(lines)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """With --mockgw-ui, a failed test stops here (its servers still up) until Enter: look at it in the inspector."""
    report = yield
    if report.when == "call" and report.failed and item.config.getoption("mockgw_ui"):
        _pause_for_inspector(item)
    return report


def _pause_for_inspector(item: pytest.Item) -> None:
    urls = dict.fromkeys(
        handle.server.url + "/__mockgw/ui/" + (f"?session={handle.session}" if handle.session else "")
        for handle in item.stash.get(HANDLES, [])
    )
    if not urls:
        return
    capture = item.config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        capture.suspend_global_capture(in_=True)  # the real stdin too, for the Enter
    try:
        print(f"\n{item.nodeid} failed. mockgw inspector: {', '.join(urls)}", flush=True)
        print("Press Enter to go on (the server stays up until then)...", flush=True)
        with contextlib.suppress(EOFError, OSError):  # no input to read (CI, an xdist worker): go on at once
            input()
    finally:
        if capture is not None:
            capture.resume_global_capture()
