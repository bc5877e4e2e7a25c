"""`mockgw serve` in a subprocess, as a CI job runs it: the line it prints, and a clean stop."""

from __future__ import annotations

import re
import selectors
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

URL_LINE = re.compile(r" serving (http://127\.0\.0\.1:(\d+))/v1 ")


@dataclass(frozen=True)
class Served:
    """A running `mockgw serve`: its root URL, the line it printed on start and its process id."""

    url: str
    line: str
    process: subprocess.Popen[str]

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
def served(*args: str, cwd: Path | None = None) -> Iterator[Served]:
    """`python -m mockgw serve --port 0 ARGS` until the block ends, then SIGINT: it must exit 0 without a traceback
    (unless the block failed first)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mockgw", "serve", "--port", "0", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            assert selector.select(timeout=60), "the server printed nothing within a minute"
        line = process.stdout.readline().rstrip("\n")
        found = URL_LINE.search(line)
        assert found, (line, process.stderr.read() if process.poll() is not None else "")  # type: ignore[union-attr]
        yield Served(found.group(1), line, process)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            _, stderr = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise
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
