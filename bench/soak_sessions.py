"""Soak: 1,000,000 requests across 100,000 sessions against a real `mockgw serve`, its RSS as they go (issue 11).

Run as `python bench/soak_sessions.py [REQUESTS] [SESSIONS] [CONCURRENCY]` (defaults 1,000,000, 100,000, 64).
It starts `python -m mockgw serve` with a fixture answering every request (as a test suite would), sends the
requests over keep-alive connections with a new `X-Mockgw-Session` for each session in turn (request n goes to
session n mod SESSIONS), and prints the server's RSS every tenth of the requests, then after `POST /__mockgw/reset`.
It takes minutes, so it is not part of `make test`; tests/server/test_memory.py proves the same bound in process.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

FIXTURE = """version: 1
fixtures:
  - name: hello
    match: {last_user_message: hello}
    reply: {content: Hi.}
"""
BODY = json.dumps({"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hello"}]})


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def soak(url: str, pid: int, requests: int, sessions: int, concurrency: int) -> None:
    sent = done = 0
    step = max(requests // 10, 1)
    started = time.perf_counter()
    print(f"start: RSS {rss_mib(pid):.0f} MiB", flush=True)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as client:

        async def worker() -> None:
            nonlocal sent, done
            while sent < requests:
                number = sent
                sent += 1
                headers = {"Authorization": "Bearer sk-soak", "X-Mockgw-Session": f"soak-{number % sessions}"}
                async with client.post(f"{url}/v1/chat/completions", data=BODY, headers=headers) as answer:
                    await answer.read()
                    assert answer.status == 200, answer.status
                done += 1
                if done % step == 0:
                    rate = done / (time.perf_counter() - started)
                    print(f"{done:>9,} requests: RSS {rss_mib(pid):.0f} MiB ({rate:,.0f} requests/s)", flush=True)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        async with client.post(f"{url}/__mockgw/reset") as answer:
            await answer.read()
        await asyncio.sleep(1)
    print(f"after reset: RSS {rss_mib(pid):.0f} MiB", flush=True)


def main() -> None:
    given = [int(arg) for arg in sys.argv[1:4]]
    requests, sessions, concurrency = given + [1_000_000, 100_000, 64][len(given) :]
    with tempfile.TemporaryDirectory() as folder:
        fixtures = Path(folder) / "soak.yaml"
        fixtures.write_text(FIXTURE)
        server = subprocess.Popen(
            [sys.executable, "-m", "mockgw", "serve", "--port", "0", "--fixtures", str(fixtures)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            found = re.search(r"serving (http://\S+)/v1", server.stdout.readline())
            assert found, "mockgw serve did not start"
            asyncio.run(soak(found.group(1), server.pid, requests, sessions, concurrency))
        finally:
            server.terminate()
            server.wait(timeout=20)


if __name__ == "__main__":
    main()
