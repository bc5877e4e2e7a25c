"""Profile mockgw's hot path in-process: the pipeline plus the journal record, no sockets.

`python bench/hotpath.py [N]` runs N non-streaming and N streaming requests (the bench fixtures and a
request like bench/post.lua's) through `pipeline.handle_completion` and `web.record`, prints the CPU time per
request (best of 5 batches) and the top functions by own time (cProfile).
"""

from __future__ import annotations

import cProfile
import json
import pstats
import sys
import time
from pathlib import Path

from aiohttp import web as aiohttp_web

from mockgw.fixtures.load import load_paths
from mockgw.gateway import pipeline
from mockgw.gateway.config import Settings
from mockgw.gateway.outcome import RawRequest
from mockgw.gateway.state import GatewayState
from mockgw.server import app as web

HERE = Path(__file__).resolve().parent
BATCHES = 5
MESSAGES = [
    {
        "role": "system",
        "content": "You are a concise assistant for an online bookshop. Answer in two sentences at most, "
        "and never invent prices or stock levels.",
    },
    {"role": "user", "content": "Hello, do you have the second volume of the series I bought last month?"},
    {
        "role": "assistant",
        "content": "Yes, the second volume is in our catalogue. Would you like me to check the delivery options "
        "for your address?",
    },
    {"role": "user", "content": "Please run the benchmark answer for this order and tell me when it would arrive."},
]
HEADERS = {
    "host": "127.0.0.1:8080",
    "content-type": "application/json",
    "authorization": "Bearer sk-edgee-bench-0123456789abcdef",
    "user-agent": "OpenAI/Python 1.54.0",
}


def raw_request(stream: bool) -> RawRequest:
    body: dict[str, object] = {"model": "openai/gpt-4o", "messages": MESSAGES, "temperature": 0.2, "max_tokens": 512}
    if stream:
        body.update(stream=True, stream_options={"include_usage": True})
    return RawRequest.received("POST", "/v1/chat/completions", HEADERS, json.dumps(body).encode())


def run(state: GatewayState, app: aiohttp_web.Application, raw: RawRequest, count: int) -> None:
    for _ in range(count):
        started = time.perf_counter()
        outcome = pipeline.handle_completion(state, raw)
        assert outcome.status == 200, outcome.body
        web.record(app, raw, outcome, started)


def main() -> None:
    numbers = [arg for arg in sys.argv[1:] if arg.isdigit()]
    count = int(numbers[0]) if numbers else 3000
    state = GatewayState(Settings(), load_paths([str(HERE / "fixtures.yaml")]))
    app = web.make_app(state)
    plain, stream = raw_request(False), raw_request(True)
    run(state, app, plain, 200)  # warm caches (regexes, validators)
    run(state, app, stream, 200)
    for name, raw in (("non-streaming", plain), ("stream-20-chunks", stream)):
        batches = []
        for _ in range(BATCHES):  # the best batch: other processes on a shared machine only ever add time
            started = time.process_time()
            run(state, app, raw, count // BATCHES)
            batches.append((time.process_time() - started) / (count // BATCHES) * 1e6)
        spread = ", ".join(f"{b:.0f}" for b in batches)
        print(f"{name}: best {min(batches):.1f} µs CPU per request (batches: {spread})")
    if "--no-profile" in sys.argv:
        return
    profiler = cProfile.Profile(time.process_time)  # CPU time: the machine may be shared
    profiler.enable()
    run(state, app, plain, count)
    run(state, app, stream, count)
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
