"""Shared test helpers: a gateway per test, started in a thread, with the settings the test asks for."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from mockgw.gateway.config import Settings
from mockgw.server.runner import MockGateway

API_KEY = "sk-edgee-test-key"


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
