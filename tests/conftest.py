"""Shared test helpers: a gateway per test, started in a thread, with the settings the test asks for."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import settings

from mockgw.gateway.config import Settings
from mockgw.handle import MockgwHandle, RemoteServer
from mockgw.server.runner import MockGateway

API_KEY = "sk-edgee-test-key"

# CI runs the property tests on a fixed sequence of examples (the same run every time, as mockgw's --seed promises);
# on a developer's machine Hypothesis explores new examples and keeps the failing ones in .hypothesis/.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


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
