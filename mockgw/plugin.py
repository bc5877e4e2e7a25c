"""pytest plugin: a `mockgw` fixture serving a fresh-state gateway to each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mockgw.config import Settings
from mockgw.server import MockGateway


@pytest.fixture(scope="session")
def mockgw_server() -> Iterator[MockGateway]:
    """One gateway for the whole test session, on a free port, in its own thread."""
    gateway = MockGateway(Settings(port=0)).start()
    yield gateway
    gateway.stop()


@pytest.fixture
def mockgw(mockgw_server: MockGateway) -> Iterator[MockGateway]:
    """The session's gateway, reset before each test."""
    mockgw_server.state.reset()
    yield mockgw_server
