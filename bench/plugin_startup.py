"""How fast the pytest plugin is for a user: a fresh server until it answers, and the per-test reset.

A measurement, not a test: prints medians (targets: start < 50 ms, reset < 1 ms). Run: `python bench/plugin_startup.py`.
"""

from __future__ import annotations

import argparse
import statistics
import time
import urllib.request

from mockgw.gateway.config import Settings
from mockgw.handle import LocalServer, MockgwHandle

FIXTURE = {"name": "hello", "match": {"last_user_message": "hello"}, "reply": {"content": "Hi"}}


def start_until_answering() -> tuple[float, LocalServer]:
    """Seconds from nothing to a 200 from the health endpoint."""
    started = time.perf_counter()
    server = LocalServer.start(Settings())
    with urllib.request.urlopen(f"{server.url}/__mockgw/health") as response:
        response.read()
    return time.perf_counter() - started, server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--starts", type=int, default=20, help="servers to start (default 20)")
    parser.add_argument("--resets", type=int, default=2000, help="resets to time (default 2000)")
    args = parser.parse_args()

    start_until_answering()[1].close()  # warm up imports and the first event loop
    starts, stops = [], []
    for _ in range(args.starts):
        seconds, server = start_until_answering()
        starts.append(seconds)
        began = time.perf_counter()
        server.close()
        stops.append(time.perf_counter() - began)

    server = LocalServer.start(Settings())
    handle = MockgwHandle(server)
    resets, per_test = [], []
    for _ in range(args.resets):
        began = time.perf_counter()
        handle.reset()
        resets.append(time.perf_counter() - began)
    for _ in range(min(args.resets, 500)):
        began = time.perf_counter()
        handle.reset()
        handle.add(FIXTURE)  # what a typical test does before its first request
        handle.check()
        per_test.append(time.perf_counter() - began)
    server.close()

    def ms(values: list[float]) -> str:
        median, p90 = statistics.median(values) * 1000, statistics.quantiles(values, n=10)[-1] * 1000
        return f"median {median:.3f} ms, p90 {p90:.3f} ms"

    print(f"start a server until it answers ({args.starts} runs): {ms(starts)}   (target < 50 ms)")
    print(f"stop a server: {ms(stops)}")
    print(f"reset before each test ({args.resets} runs): {ms(resets)}   (target < 1 ms)")
    print(f"reset + add one fixture + check after the test: {ms(per_test)}")


if __name__ == "__main__":
    main()
