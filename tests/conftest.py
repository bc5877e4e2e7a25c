"""Shared test helpers: a gateway per test, started in a thread, with the settings the test asks for."""

from __future__ import annotations

import atexit
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import certifi
import pytest
from hypothesis import settings

from mockgw.gateway.config import Settings
from mockgw.handle import LocalServer, MockgwHandle, RemoteServer
from mockgw.server.runner import MockGateway
from tests.support.long_first import long_first, one_test_at_a_time

API_KEY = "sk-edgee-test-key"

# Every test talks plain HTTP to 127.0.0.1, yet each openai, anthropic or httpx client loads the whole CA bundle when
# it is built: 21 ms of CPU, hundreds of times a run, here and in the processes the tests start (docs pages, bots,
# user suites). They get a trust store of one certificate (0.6 ms): nothing in the suite verifies a certificate.
# Whatever downloads over HTTPS (the wheel test's pip) runs with `network_env()`.
SHORT_TRUST_STORE = "MOCKGW_TESTS_SHORT_TRUST_STORE"
CERTIFICATE = re.compile(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n", re.S)


def _use_a_short_trust_store() -> None:
    first = CERTIFICATE.search(Path(certifi.where()).read_text(encoding="utf-8"))
    if "SSL_CERT_FILE" in os.environ or first is None:
        return
    handle, store = tempfile.mkstemp(prefix="mockgw-tests-ca-", suffix=".pem")
    with os.fdopen(handle, "w") as out:
        out.write(first.group(0))
    atexit.register(os.unlink, store)
    os.environ["SSL_CERT_FILE"] = os.environ[SHORT_TRUST_STORE] = store


_use_a_short_trust_store()


def _keep_bytecode() -> None:
    """Let this run and every Python it starts cache compiled modules, whatever the environment says.

    With PYTHONDONTWRITEBYTECODE set (as in some containers), every xdist worker compiled mockgw and the tests and
    rewrote every test module's assertions anew, each run (~2.5 s of CPU per worker), and so did each of the
    Python processes the tests start (`mockgw serve`, users' pytest runs, docs pages, bots) for what they import.
    The caches go where Python puts them by default (`__pycache__/`, ignored by git); sources are still checked
    against them (their mtime), so an edit is never missed."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # before xdist starts its workers: they inherit it
    sys.dont_write_bytecode = False


_keep_bytecode()


def network_env() -> dict[str, str]:
    """This process's environment with the real trust store, for a subprocess that downloads over HTTPS."""
    env = dict(os.environ)
    if env.pop(SHORT_TRUST_STORE, None) is not None:
        env.pop("SSL_CERT_FILE", None)
    return env


# CI runs the property tests on a fixed sequence of examples (the same run every time, as mockgw's --seed promises);
# on a developer's machine Hypothesis explores new examples and keeps the failing ones in .hypothesis/.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


def pytest_configure(config: pytest.Config) -> None:
    one_test_at_a_time(config)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    long_first(items)  # on 2 workers, no long test left for the end (tests/support/long_first.py)


@pytest.fixture
def gateway_factory() -> Iterator[Callable[..., MockGateway]]:
    """Start gateways with custom settings; all are stopped at teardown."""
    started: list[MockGateway] = []

    def start(**changes: Any) -> MockGateway:
        gateway = MockGateway(replace(Settings(port=0), **changes)).start()
        started.append(gateway)
        return gateway

    yield start
    for gateway in started:
        gateway.stop()


@pytest.fixture
def gateway(gateway_factory: Callable[..., MockGateway]) -> MockGateway:
    """A gateway with the bundled fixtures folder loaded."""
    return gateway_factory(fixtures=("fixtures",))


def handle_on(gateway: MockGateway, session: str = "") -> MockgwHandle:
    """The product's own handle on a session of `gateway`, driving it through the control endpoint as a remote
    server (so the journal a test reads has gone through its JSON, like a CI job's)."""
    return MockgwHandle(RemoteServer(gateway.url), session)


@pytest.fixture(scope="session")
def shared_server() -> Iterator[LocalServer]:
    """One in-process gateway with default settings, for the tests that each work in a session of their own."""
    server = LocalServer.start(Settings(port=0))
    yield server
    server.close()


@pytest.fixture
def session_handle(shared_server: LocalServer, request: pytest.FixtureRequest) -> MockgwHandle:
    """The handle of a session of the shared server named after the test, reset: a fresh gateway, as a test sees it."""
    handle = MockgwHandle(shared_server, re.sub(r"[^A-Za-z0-9._-]+", "-", request.node.name)[:60])
    handle.reset()
    return handle
