"""Upstreams for the record & replay tests: a foreign gateway and a second mockgw, both real servers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from mockgw.gateway.config import Settings
from mockgw.record.modes import RecordSettings
from mockgw.server.runner import MockGateway
from tests.record.foreign import ForeignGateway

KEY = "sk-edgee-client-key-0123456789abcdef"


@pytest.fixture
def foreign() -> Iterator[ForeignGateway]:
    server = ForeignGateway().start()
    yield server
    server.stop()


@pytest.fixture
def recorder_factory() -> Iterator[Callable[..., MockGateway]]:
    """A recording mockgw in a thread: `start(upstream, out, mode=..., **settings)`."""
    started: list[MockGateway] = []

    def start(upstream: str, out: Path, mode: str = "new", key: str | None = None, **changes: Any) -> MockGateway:
        record = RecordSettings(upstream, str(out), mode, key, **changes.pop("record", {}))
        gateway = MockGateway(replace(Settings(port=0), **changes), record).start()
        started.append(gateway)
        return gateway

    yield start
    for gateway in started:
        gateway.stop()


@pytest.fixture
def replayer_factory() -> Iterator[Callable[..., MockGateway]]:
    """A plain mockgw serving the recorded files (the upstream is gone by then)."""
    started: list[MockGateway] = []

    def start(*paths: Path, **changes: Any) -> MockGateway:
        settings = replace(Settings(port=0), fixtures=tuple(str(p) for p in paths), **changes)
        gateway = MockGateway(settings).start()
        started.append(gateway)
        return gateway

    yield start
    for gateway in started:
        gateway.stop()


class MockgwProcess:
    """`mockgw serve` in a process of its own (another seed, other fixtures): an upstream that is a real gateway."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("MOCKGW_URL", None)
        command = [sys.executable, "-m", "mockgw", "serve", "--port", "0", *args]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert " serving " in line, line + (self.process.stderr.read() if self.process.stderr else "")
        self.base_url = line.split(" serving ")[1].split()[0]  # …/v1
        self.url = self.base_url.removesuffix("/v1")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def second_mockgw(tmp_path: Path) -> Iterator[MockgwProcess]:
    fixtures = tmp_path / "upstream-fixtures"
    fixtures.mkdir()
    (fixtures / "upstream.yaml").write_text(UPSTREAM_FIXTURES, encoding="utf-8")
    server = MockgwProcess("--seed", "7", "--fixtures", str(fixtures))
    yield server
    server.stop()


UPSTREAM_FIXTURES = """\
version: 1
fixtures:
  - name: weather-call
    match: {last_user_message: weather, tool_result: false}
    reply:
      tool_calls: [{name: get_weather, arguments: {city: Paris}}]
  - name: weather-answer
    match: {tool_result: {name: get_weather}}
    reply: {content: "It is 21 degrees in Paris."}
  - name: greeting
    match: {last_user_message: hello}
    reply: {content: "Hello from the upstream mockgw, seed seven."}
"""
