"""`mockgw serve` in a subprocess, as a CI job runs it: the URL it prints, and a clean stop."""

from __future__ import annotations

import re
import selectors
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

URL_LINE = re.compile(r" serving (http://127\.0\.0\.1:\d+)/v1 ")


@contextmanager
def mockgw_serve(*args: str, cwd: Path | None = None) -> Iterator[str]:
    """`python -m mockgw serve --port 0 ARGS` until the block ends; yields the server's root URL."""
    with mockgw_process(*args, cwd=cwd) as (url, _):
        yield url


def rss_mib(process: subprocess.Popen[str]) -> float:
    """The process's resident memory, in MiB (Linux)."""
    for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS line")


@contextmanager
def mockgw_process(*args: str, cwd: Path | None = None) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`mockgw_serve`, also yielding the process (for its memory)."""
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
        line = process.stdout.readline()
        found = URL_LINE.search(line)
        assert found, (line, process.stderr.read() if process.poll() is not None else "")  # type: ignore[union-attr]
        yield found.group(1), process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
