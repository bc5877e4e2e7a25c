"""`mockgw serve` in a subprocess, as a CI job runs it: the line it prints, and a clean stop."""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

URL_LINE = re.compile(r" serving http://(?:\[[^\]]+\]|[^:/]+):(\d+)/v1 ")  # an IPv6 host in brackets


@dataclass
class Served:
    """A running `mockgw serve`: its root URL (on 127.0.0.1), the line it printed on start and its process."""

    url: str
    line: str
    process: subprocess.Popen[str]
    stderr: str | None = None  # what it printed on stderr, once stopped

    def stop(self) -> str:
        """SIGINT, as Ctrl-C: what the server printed on stderr until it exited."""
        if self.stderr is None:
            self.process.send_signal(signal.SIGINT)
            try:
                _, self.stderr = self.process.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.communicate()
                raise
        return self.stderr

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def base_url(self) -> str:
        return self.url + "/v1"


@contextmanager
def served(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Iterator[Served]:
    """`python -m mockgw serve --port 0 ARGS` (ENV added to this process's environment) until the block ends, then
    SIGINT unless the block stopped it: it must exit 0 without a traceback (unless the block failed first)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mockgw", "serve", "--port", "0", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        selector.select(timeout=60)
    line = process.stdout.readline().rstrip("\n")
    found = URL_LINE.search(line)
    server = Served(f"http://127.0.0.1:{found.group(1)}" if found else "", line, process)
    try:
        assert found, (line, process.stderr.read() if process.poll() is not None else "")  # type: ignore[union-attr]
        yield server
    finally:
        stderr = server.stop()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr


@contextmanager
def mockgw_serve(*args: str, cwd: Path | None = None) -> Iterator[str]:
    """`served(...)`, for the tests that need only the server's root URL."""
    with served(*args, cwd=cwd) as server:
        yield server.url


@contextmanager
def mockgw_process(*args: str, cwd: Path | None = None) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`served(...)`, yielding the root URL and the process (for its memory)."""
    with served(*args, cwd=cwd) as server:
        yield server.url, server.process


def rss_mib(process: subprocess.Popen[str] | Served) -> float:
    """The process's resident memory, in MiB (Linux)."""
    for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS line")
