"""`make bench`: mockgw against a bare aiohttp handler and aimock, side by side, in one run.

Both servers run pinned to one core (`taskset -c 0`), `wrk` runs pinned to the other (`taskset -c 1`) with
32 connections, so the load generator does not measure itself. Scenarios: non-streaming answers, 20-chunk
streams, startup time (process start to the first 200 answer) and the accuracy of TTFT / inter-chunk waits.
A table goes to stdout and the numbers to bench/results/latest.json.

aimock (`@copilotkit/aimock`, Node) runs as a peer in the same rounds when Node >= 20 is present (bench/peers.py
installs it into bench/.peers/); BENCH_PEERS=none leaves it out. `stream-1000-timed` runs 1,000 paced streams
at once against the bare handler, mockgw and aimock in alternating rounds (bench/timed.py), aimock with the same
text and the same script (bench/peers.py).

Throughput is measured in rounds (BENCH_ROUNDS, default 3): bare then mockgw, again and again, so that the
VM's drift (its speed changes by ±30 % from minute to minute) hits both; the ratio reported is the median of
the rounds' ratios, with their range.

Environment: BENCH_SECONDS (measurement per run, default 10), BENCH_WARMUP (seconds, 2), BENCH_ROUNDS (3),
BENCH_CONNECTIONS (32), BENCH_STARTUP_RUNS (5), BENCH_TIMING_REQUESTS (8), BENCH_SERVER_CPU (0), BENCH_LOAD_CPU (1),
BENCH_TIMED_STREAMS (1000), BENCH_TIMED_CLIENT (raw: bench/timed.py's bare protocol, or aiohttp), BENCH_PEERS
(aimock), BENCH_SCENARIOS (comma-separated subset of non-streaming,stream-20-chunks,startup,timing,stream-1000-timed;
default all).
"""

from __future__ import annotations

import asyncio
import http.client
import itertools
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import peers
import timed

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
FIXTURES = HERE / "fixtures.yaml"
LUA = HERE / "post.lua"
API_KEY = "sk-edgee-bench-0123456789abcdef"
CHAT_PATH = "/v1/chat/completions"
TARGETS = {"non-streaming": 0.60, "stream-20-chunks": 0.40}  # mockgw / bare (issue 17; streams: also >= aimock)
TARGET_STARTUP_RATIO = 1.0  # issue 17: process start to first answer at most the bare handler's
TARGET_TIMED = {"duration_ratio_p99": 1.5, "headers_ms_p99": 50.0}  # issue 17, stream-1000-timed
STREAM_CONTENT_EVENTS = 20
TIMING_TTFT_MS = 200.0  # as in bench/fixtures.yaml, fixture bench-timing
TIMING_CHUNK_MS = 20.0
THROUGHPUT = {"non-streaming": False, "stream-20-chunks": True}  # scenario -> stream
SCENARIOS = (*THROUGHPUT, "startup", "timing", "stream-1000-timed")


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass(frozen=True)
class Options:
    """What the environment asked for."""

    seconds: float = _env_float("BENCH_SECONDS", 10)
    warmup: float = _env_float("BENCH_WARMUP", 2)
    rounds: int = _env_int("BENCH_ROUNDS", 3)
    connections: int = _env_int("BENCH_CONNECTIONS", 32)
    startup_runs: int = _env_int("BENCH_STARTUP_RUNS", 5)
    timing_requests: int = _env_int("BENCH_TIMING_REQUESTS", 8)
    server_cpu: int = _env_int("BENCH_SERVER_CPU", 0)
    load_cpu: int = _env_int("BENCH_LOAD_CPU", 1)
    timed_streams: int = _env_int("BENCH_TIMED_STREAMS", 1000)
    timed_client: str = os.environ.get("BENCH_TIMED_CLIENT", "raw")
    peers: tuple[str, ...] = tuple(p for p in os.environ.get("BENCH_PEERS", "aimock").split(",") if p)
    scenarios: tuple[str, ...] = tuple(os.environ.get("BENCH_SCENARIOS", ",".join(SCENARIOS)).split(","))


@dataclass(frozen=True)
class Load:
    """One wrk run."""

    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    requests: int
    bytes_per_request: float
    server_cpu_s: float  # CPU time the server process used during the run
    requests_per_cpu_s: float  # throughput per second of server CPU: steadier on a shared machine
    others_on_server_core: float  # share of the server's core that other processes used during the run


# A request like the one post.lua sends, for the checks and the startup probe.
MESSAGES = [
    {"role": "system", "content": "You are a concise assistant for an online bookshop."},
    {"role": "user", "content": "Please run the benchmark answer for this order."},
]


def request_body(stream: bool) -> bytes:
    body: dict[str, Any] = {"model": "openai/gpt-4o", "messages": MESSAGES, "max_tokens": 512}
    if stream:
        body.update(stream=True, stream_options={"include_usage": True})
    return json.dumps(body, separators=(",", ":")).encode()


HEADERS = {"Content-Type": "application/json", "Authorization": f"Bearer {API_KEY}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def post(port: int, body: bytes, headers: dict[str, str] | None = None, timeout: float = 5) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", CHAT_PATH, body=body, headers={**HEADERS, **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def mockgw_command(port: int) -> list[str]:
    return [sys.executable, "-m", "mockgw", "serve", "--port", str(port), "--fixtures", str(FIXTURES)]


def bare_command(port: int, json_file: Path, sse_file: Path) -> list[str]:
    return [sys.executable, str(HERE / "bare.py"), str(port), str(json_file), str(sse_file)]


def pinned(cpu: int, command: Sequence[str]) -> list[str]:
    return ["taskset", "-c", str(cpu), *command]


def wait_for_200(port: int, process: subprocess.Popen[bytes], deadline_s: float = 20) -> float:
    """Poll until the server answers 200; seconds since the call (the caller subtracts its own start)."""
    body = request_body(False)
    limit = time.perf_counter() + deadline_s
    while time.perf_counter() < limit:
        if process.poll() is not None:
            raise SystemExit(f"bench: server exited with {process.returncode} before answering")
        try:
            status, _ = post(port, body, timeout=2)
        except (ConnectionError, OSError):
            time.sleep(0.002)
            continue
        if status == 200:
            return time.perf_counter()
        raise SystemExit(f"bench: server answered {status} to the probe request")
    raise SystemExit("bench: server did not answer within 20 s")


@dataclass(frozen=True)
class Running:
    """A server process that has answered once."""

    pid: int
    port: int
    startup_s: float  # process start to the first 200 answer


def core_busy_seconds(cpu: int) -> float:
    """Seconds core `cpu` has spent busy since boot (every state but idle and iowait)."""
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith(f"cpu{cpu} "):
            ticks = [int(x) for x in line.split()[1:]]
            return (sum(ticks[:8]) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (taskset execs the server, so the pid is the server's)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def server(command: Sequence[str], port: int, log: Path) -> Iterator[Running]:
    """Run a server until the block ends."""
    with log.open("wb") as log_file:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log_file)
        try:
            answered = wait_for_200(port, process)
            yield Running(process.pid, port, answered - started)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def content_events(sse: bytes) -> int:
    """How many events of a chat completion stream carry non-empty content."""
    count = 0
    for event in sse.split(b"\n\n"):
        payload = event.removeprefix(b"data: ")
        if not payload or payload == b"[DONE]":
            continue
        for choice in json.loads(payload).get("choices", []):
            if choice.get("delta", {}).get("content"):
                count += 1
    return count


def run_wrk(options: Options, target: Running, stream: bool, seconds: float) -> Load:
    """One wrk run from the load core; refuses results with non-2xx answers or socket errors."""
    command = pinned(
        options.load_cpu,
        [
            "wrk",
            "-t1",
            f"-c{options.connections}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            "-s",
            str(LUA),
            f"http://127.0.0.1:{target.port}{CHAT_PATH}",
        ],
    )
    env = {**os.environ, "BENCH_STREAM": "1" if stream else "0"}
    cpu_before, busy_before, started = cpu_seconds(target.pid), core_busy_seconds(options.server_cpu), time.time()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    cpu_used = cpu_seconds(target.pid) - cpu_before
    others = (core_busy_seconds(options.server_cpu) - busy_before - cpu_used) / (time.time() - started)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"bench: wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    if data["status_errors"] or data["socket_errors"]:
        raise SystemExit(f"bench: wrk saw {data['status_errors']} non-2xx answers, {data['socket_errors']} errors")
    requests = int(data["requests"])
    return Load(
        requests_per_s=round(requests / (data["duration_us"] / 1e6), 1),
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        requests=requests,
        bytes_per_request=round(data["bytes"] / max(1, requests), 1),
        server_cpu_s=round(cpu_used, 2),
        requests_per_cpu_s=round(requests / cpu_used, 1) if cpu_used > 0 else 0.0,
        others_on_server_core=round(max(0.0, others), 2),
    )


def compare(options: Options, servers: dict[str, Running], stream: bool) -> dict[str, Any]:
    """Every server measured in alternating rounds (bare, mockgw, then the peers); the median round stands for them.

    `ratio` is mockgw / bare (the median of the rounds' ratios); each peer adds `<peer>_ratio` (peer / bare) and
    `mockgw_vs_<peer>` (mockgw / peer), both medians of the per-round ratios, with every round's value kept.
    """
    if options.warmup > 0:
        for target in servers.values():
            run_wrk(options, target, stream, options.warmup)
    rounds: list[dict[str, Load]] = []
    for _ in range(max(1, options.rounds)):
        rounds.append({name: run_wrk(options, target, stream, options.seconds) for name, target in servers.items()})

    def ratios(top: str, bottom: str) -> list[float]:
        return [r[top].requests_per_s / r[bottom].requests_per_s for r in rounds]

    mock_ratios = ratios("mockgw", "bare")
    order = sorted(range(len(rounds)), key=lambda i: mock_ratios[i])
    median_round = rounds[order[(len(order) - 1) // 2]]  # the round with the median ratio (the lower of an even count)
    result: dict[str, Any] = {
        "bare": asdict(median_round["bare"]),
        "mockgw": asdict(median_round["mockgw"]),
        "ratio": round(statistics.median(mock_ratios), 3),
        "round_ratios": [round(r, 3) for r in mock_ratios],  # in the order the rounds ran
        "round_req_per_s": [{name: load.requests_per_s for name, load in r.items()} for r in rounds],
        "cpu_ratio": round(
            statistics.median(
                r["mockgw"].requests_per_cpu_s / r["bare"].requests_per_cpu_s
                for r in rounds
                if r["bare"].requests_per_cpu_s
            ),
            3,
        ),
        "peers": {},
    }
    for peer in servers:
        if peer in ("bare", "mockgw"):
            continue
        peer_ratios, versus = ratios(peer, "bare"), ratios("mockgw", peer)
        result["peers"][peer] = {
            "load": asdict(median_round[peer]),
            "ratio": round(statistics.median(peer_ratios), 3),
            "round_ratios": [round(r, 3) for r in peer_ratios],
            "mockgw_vs_peer": round(statistics.median(versus), 3),
            "round_mockgw_vs_peer": [round(r, 3) for r in versus],
        }
    return result


def startup_ms(options: Options, command_for: Callable[[int], list[str]], runs: int) -> list[float]:
    """Process start to first 200 answer, `runs` times, each on a fresh port, server on the server core."""
    times = []
    for index in range(runs):
        port = free_port()
        with server(pinned(options.server_cpu, command_for(port)), port, RESULTS / f"startup-{index}.log") as running:
            times.append(round(running.startup_s * 1000, 1))
    return times


async def _timed_stream(session: aiohttp.ClientSession, port: int) -> tuple[float, list[float]]:
    """TTFT (request sent to first event) and the gaps between events, in milliseconds."""
    headers = {**HEADERS, "X-Edgee-Tags": "timing"}
    sent = time.perf_counter()
    stamps: list[float] = []
    async with session.post(f"http://127.0.0.1:{port}{CHAT_PATH}", data=request_body(True), headers=headers) as resp:
        if resp.status != 200:
            raise SystemExit(f"bench: timing request got {resp.status}")
        async for line in resp.content:
            if line.startswith(b"data: "):
                stamps.append(time.perf_counter())
    gaps = [(b - a) * 1000 for a, b in itertools.pairwise(stamps)]
    return (stamps[0] - sent) * 1000, gaps


async def timing(port: int, requests: int) -> dict[str, Any]:
    """Requested vs observed waits over `requests` sequential streams (an idle server)."""
    ttfts: list[float] = []
    gaps: list[float] = []
    async with aiohttp.ClientSession() as session:
        for _ in range(requests):
            ttft, chunk_gaps = await _timed_stream(session, port)
            ttfts.append(ttft)
            gaps.extend(chunk_gaps)
    return {
        "requests": requests,
        "ttft_ms": {"requested": TIMING_TTFT_MS, **spread(ttfts)},
        "chunk_gap_ms": {"requested": TIMING_CHUNK_MS, **spread(gaps)},
    }


def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def spread(values: Sequence[float]) -> dict[str, float]:
    return {
        "samples": len(values),
        "p50": round(percentile(values, 50), 2),
        "p99": round(percentile(values, 99), 2),
        "min": round(min(values), 2),
        "max": round(max(values), 2),
    }


def machine() -> dict[str, Any]:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        model = next((ln.split(":", 1)[1].strip() for ln in cpuinfo.read_text().splitlines() if "model name" in ln), "")
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False).stdout
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "platform": platform.platform(),
        "wrk": wrk_version.split(" [")[0].strip(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }


def require_tools() -> None:
    missing = [tool for tool in ("wrk", "taskset") if shutil.which(tool) is None]
    if missing:
        raise SystemExit(
            f"bench: {' and '.join(missing)} not found. On Debian/Ubuntu: `sudo apt-get install wrk util-linux` "
            "(`make bench` installs wrk itself when run as root)."
        )
    if (os.cpu_count() or 1) < 2:
        print("bench: only one CPU: server and load generator share it; the numbers mean little.", file=sys.stderr)


def fmt_load(load: Load) -> str:
    return f"{load.p50_ms:6.2f} / {load.p99_ms:6.2f}"


def report(results: dict[str, Any]) -> str:
    lines = [
        f"{'scenario':<16} {'bare req/s':>11} {'mockgw req/s':>13} {'ratio':>6} {'target':>7}  "
        f"{'bare p50/p99 ms':>17}  {'mockgw p50/p99 ms':>17}  {'req/CPU-s bare':>14} {'mockgw':>7} {'ratio':>6}  "
        f"{'others on core':>14}",
    ]
    for name, row in results.get("throughput", {}).items():
        bare, mock = Load(**row["bare"]), Load(**row["mockgw"])
        verdict = "ok" if row["ratio"] >= TARGETS[name] else "MISS"
        lines.append(
            f"{name:<16} {bare.requests_per_s:>11.0f} {mock.requests_per_s:>13.0f} {row['ratio']:>6.2f} "
            f"{verdict:>7}  {fmt_load(bare):>17}  {fmt_load(mock):>17}  "
            f"{bare.requests_per_cpu_s:>14.0f} {mock.requests_per_cpu_s:>7.0f} {row['cpu_ratio']:>6.2f}  "
            f"{bare.others_on_server_core:>6.0%} {mock.others_on_server_core:>6.0%}"
        )

    def rounds(values: Sequence[float]) -> str:
        return ", ".join(f"{v:.2f}" for v in values)

    for name, row in results.get("throughput", {}).items():
        lines.append(f"{name}: mockgw / bare per round {rounds(row['round_ratios'])} (median {row['ratio']:.2f})")
        for peer, p in row.get("peers", {}).items():
            load = Load(**p["load"])
            verdict = "ok" if p["mockgw_vs_peer"] >= 1.0 else "MISS"
            lines.append(
                f"{name}: {peer} {load.requests_per_s:.0f} req/s, p50/p99 {fmt_load(load)} ms (median round); "
                f"{peer} / bare per round {rounds(p['round_ratios'])} (median {p['ratio']:.2f})"
            )
            lines.append(
                f"{name}: mockgw / {peer} per round {rounds(p['round_mockgw_vs_peer'])} "
                f"(median {p['mockgw_vs_peer']:.2f}, target >= 1.00: {verdict})"
            )
    lines.append(
        "(req/s and latency: the round with the median ratio; req/CPU-s: requests per second of CPU the server\n"
        " process got, steadier than req/s on a busy machine; others on core: share of the server's core used by\n"
        " other processes during the bare / mockgw run)"
    )
    start = results.get("startup_ms")
    if start:
        ratio = start["mockgw_median"] / start["bare_median"]
        verdict = "ok" if ratio <= TARGET_STARTUP_RATIO else "MISS"
        lines.append(
            f"\nstartup to first 200 (median of {len(start['mockgw'])}): bare {start['bare_median']:.0f} ms, "
            f"mockgw {start['mockgw_median']:.0f} ms; mockgw / bare {ratio:.2f} (target <= "
            f"{TARGET_STARTUP_RATIO:.2f}: {verdict})"
        )
        for name in ("bare", "mockgw", *start.get("peers", [])):
            per_start = ", ".join(f"{b:.0f}" for b in start[name])
            lines.append(f"  {name} ms: {per_start} (median {statistics.median(start[name]):.0f})")
        for peer in start.get("peers", []):
            peer_median = statistics.median(start[peer])
            lines.append(
                f"  {peer} / bare {peer_median / start['bare_median']:.2f}; "
                f"mockgw / {peer} {start['mockgw_median'] / peer_median:.2f}"
            )
    tim = results.get("timing", {})
    for key, label in (("ttft_ms", "TTFT"), ("chunk_gap_ms", "chunk gap")):
        if key not in tim:
            continue
        t = tim[key]
        lines.append(
            f"timing {label:<9}: requested {t['requested']:.0f} ms, observed p50 {t['p50']:.2f} p99 {t['p99']:.2f} "
            f"(min {t['min']:.2f}, max {t['max']:.2f}, {t['samples']} samples)"
        )
    timed_results = results.get("stream_1000_timed", {})
    for name in timed_results:
        for index, t in enumerate(timed_results.get(name, []), 1):
            ok = (
                t["duration_ratio_p99"] <= TARGET_TIMED["duration_ratio_p99"]
                and t["headers_ms_p99"] <= TARGET_TIMED["headers_ms_p99"]
                and t["refused"] == 0
            )
            lines.append(
                f"stream-1000-timed {name} round {index}: {t['complete']}/{t['streams']} streams of "
                f"{t['script_ms']:.0f} ms script; duration/script p50 {t['duration_ratio_p50']:.2f} "
                f"p99 {t['duration_ratio_p99']:.2f} (max {t['duration_ratio_max']:.2f}); headers p50 "
                f"{t['headers_ms_p50']:.1f} ms p99 {t['headers_ms_p99']:.1f} ms (max {t['headers_ms_max']:.1f}); "
                f"first event p50 {t['first_event_ms_p50']:.1f} ms p99 {t['first_event_ms_p99']:.1f} ms; "
                f"connect p99 {t['connect_ms_p99']:.1f} ms; refused {t['refused']} {t['failures'] or ''}; "
                f"wall {t['wall_s']:.2f} s; server CPU {t['server_cpu_s']:.2f} s; others on core "
                f"{t['others_on_server_core']:.0%}; load {t['load_1min']}"
                + (
                    f" (targets p99 <= 1.5x, headers p99 <= 50 ms, none refused: {'ok' if ok else 'MISS'})"
                    if name == "mockgw"
                    else ""
                )
            )
    for peer in timed_results.keys() - {"bare", "mockgw"}:
        pairs = list(zip(timed_results["mockgw"], timed_results[peer], strict=True))
        for key, label in (("headers_ms_p99", "headers p99"), ("duration_ratio_p99", "duration/script p99")):
            per_round = ", ".join(
                f"{mock[key]:.4g} / {other[key]:.4g} = {mock[key] / other[key]:.2f}" for mock, other in pairs
            )
            lines.append(f"stream-1000-timed mockgw / {peer} {label} per round: {per_round} (lower is better)")
    m = results["machine"]
    lines.append(
        f"\nmachine: {m['cpus']} x {m['cpu']}; Python {m['python']}, aiohttp {m['aiohttp']}, {m['wrk']}; "
        f"load average {m['load_average_start']} at start, {m['load_average_end']} at end"
    )
    return "\n".join(lines)


def prepare_peers(options: Options, results: dict[str, Any]) -> dict[str, Callable[[int], list[str]]]:
    """The peers to run beside bare and mockgw (installing them), by name; says why one is left out."""
    commands: dict[str, Callable[[int], list[str]]] = {}
    results["peers"] = {}
    if "aimock" in options.peers:
        why_not = peers.install_aimock()
        if why_not is not None:
            print(f"bench: aimock left out: {why_not}", flush=True)
            results["peers"]["aimock"] = {"skipped": why_not}
        else:
            fixture = peers.write_aimock_fixture(FIXTURES, RESULTS / "aimock-fixtures.json")
            commands["aimock"] = lambda port: peers.aimock_command(port, fixture)
            results["peers"]["aimock"] = {"version": peers.aimock_version()}
    return commands


def check_peer(name: str, port: int) -> None:
    """The peer answers the bench request with 200 and, streamed, with exactly 20 content events."""
    json_status, json_body = post(port, request_body(False))
    sse_status, sse_body = post(port, request_body(True))
    events = content_events(sse_body)
    if (json_status, sse_status) != (200, 200) or events != STREAM_CONTENT_EVENTS:
        raise SystemExit(f"bench: {name} answered {json_status}/{sse_status} with {events} content events")
    print(f"bench: {name} bodies {len(json_body)} B JSON, {len(sse_body)} B SSE ({events} content events)", flush=True)


def stream_1000_timed(options: Options, mock: Running, peer_names: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """`options.rounds` runs of `timed_streams` paced streams at once, bare, mockgw, then aimock when it is among the
    peers; one summary per run.

    The bare handler (bench/bare.py) paces the same events with an `asyncio.sleep` per wait: what the figures would
    be with no mockgw at all, on this machine, with this client, in the same minute. aimock serves the same text with
    the same script (bench/peers.py `write_aimock_timed_fixture`).
    """
    port = mock.port
    headers = {**HEADERS, "X-Edgee-Tags": timed.TAG}
    status, body = post(port, request_body(True), headers)
    events = body.count(b"\n\n")
    if status != 200:
        raise SystemExit(f"bench: stream-1000-timed probe got {status}")
    script = timed.script_ms(events)
    client = timed.CLIENTS[options.timed_client]
    timed_file = RESULTS / "answer-timed.sse"
    timed_file.write_bytes(body)
    json_file, sse_file = RESULTS / "answer.json", RESULTS / "answer.sse"
    if not json_file.exists():
        json_file.write_bytes(post(port, request_body(False))[1])
        sse_file.write_bytes(post(port, request_body(True))[1])
    bare_port = free_port()
    bare_command_line = pinned(options.server_cpu, [*bare_command(bare_port, json_file, sse_file), str(timed_file)])
    names = ["bare", "mockgw", *(["aimock"] if "aimock" in peer_names else [])]
    print(
        f"bench: stream-1000-timed: {options.rounds} rounds of {options.timed_streams} streams at once, "
        f"{', '.join(names)} ({events} events, script {script:.0f} ms, {options.timed_client} client)",
        flush=True,
    )
    summaries: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    with ExitStack() as stack:
        targets = {
            "bare": stack.enter_context(server(bare_command_line, bare_port, RESULTS / "bare-timed.log")),
            "mockgw": mock,
        }
        counts = dict.fromkeys(targets, events)
        if "aimock" in names:
            fixture = peers.write_aimock_timed_fixture(FIXTURES, RESULTS / "aimock-timed-fixtures.json", events)
            aimock_port = free_port()
            command = pinned(options.server_cpu, peers.aimock_command(aimock_port, fixture))
            targets["aimock"] = stack.enter_context(server(command, aimock_port, RESULTS / "aimock-timed.log"))
            counts["aimock"] = timed_peer_events("aimock", aimock_port, events - 2)
        for _ in range(max(1, options.rounds)):
            for name, target in targets.items():
                load = os.getloadavg()[0]
                cpu_before, busy_before = cpu_seconds(target.pid), core_busy_seconds(options.server_cpu)
                outcome = run_async(client(target.port, CHAT_PATH, request_body(True), HEADERS, options.timed_streams))
                cpu_used = cpu_seconds(target.pid) - cpu_before
                others = (core_busy_seconds(options.server_cpu) - busy_before - cpu_used) / outcome["wall_s"]
                summaries[name].append(
                    {
                        **timed.summarise(outcome, counts[name], script),
                        "load_1min": round(load, 2),
                        "server_cpu_s": round(cpu_used, 2),  # the server's CPU time for the whole round
                        "others_on_server_core": round(max(0.0, others), 2),
                    }
                )
                time.sleep(1)  # let the server close the last connections
    return summaries


def timed_peer_events(name: str, port: int, content: int) -> int:
    """How many events the peer's timed stream has, once checked that its content comes in `content` events."""
    status, body = post(port, request_body(True))
    if status != 200 or content_events(body) != content:
        raise SystemExit(f"bench: {name} answered the timed stream {status} with {content_events(body)} content events")
    return body.count(b"\n\n")


def run_async(coroutine: Any) -> Any:
    """Run on uvloop when it is installed (a cheaper client leaves the measurement to the server)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def main() -> int:
    require_tools()
    options = Options()
    unknown = set(options.scenarios) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"bench: unknown BENCH_SCENARIOS {sorted(unknown)}; choose from {', '.join(SCENARIOS)}")
    RESULTS.mkdir(exist_ok=True)
    # aiohttp was byte-compiled when pip installed it; mockgw (an editable install) may not be, and with
    # PYTHONDONTWRITEBYTECODE set it would be compiled from source at every start: compile it once, as
    # `pip install mockgw` does, so that start-up compares two installed programs
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(HERE.parent / "mockgw")], check=True)
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {options.load_cpu})  # keep the probes off the server core
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": asdict(options),
        "machine": machine(),
    }
    mock_port, bare_port = free_port(), free_port()
    peer_commands = prepare_peers(options, results)
    with ExitStack() as stack:
        mock_server = stack.enter_context(
            server(pinned(options.server_cpu, mockgw_command(mock_port)), mock_port, RESULTS / "mockgw.log")
        )
        json_status, json_body = post(mock_port, request_body(False))
        sse_status, sse_body = post(mock_port, request_body(True))
        events = content_events(sse_body)
        if (json_status, sse_status) != (200, 200) or events != STREAM_CONTENT_EVENTS:
            raise SystemExit(f"bench: mockgw answered {json_status}/{sse_status} with {events} content events")
        json_file, sse_file = RESULTS / "answer.json", RESULTS / "answer.sse"
        json_file.write_bytes(json_body)
        sse_file.write_bytes(sse_body)
        print(f"bench: bodies {len(json_body)} B JSON, {len(sse_body)} B SSE ({events} content events)", flush=True)

        commands: dict[str, Callable[[int], list[str]]] = {
            "bare": lambda p: bare_command(p, json_file, sse_file),
            "mockgw": mockgw_command,
            **peer_commands,
        }
        if "startup" in options.scenarios:
            print(f"bench: startup times ({', '.join(commands)})", flush=True)
            starts: dict[str, Any] = {name: [] for name in commands}
            for _ in range(options.startup_runs):  # alternate, so that a busy moment hits all of them
                for name, command_for in commands.items():
                    starts[name] += startup_ms(options, command_for, 1)
            results["startup_ms"] = {
                **starts,
                "bare_median": statistics.median(starts["bare"]),
                "mockgw_median": statistics.median(starts["mockgw"]),
                "peers": list(peer_commands),
            }

        servers = {"bare": Running(0, bare_port, 0.0), "mockgw": mock_server}
        wanted = any(name in options.scenarios for name in THROUGHPUT)
        # the others only serve the throughput rounds and stop after them, so that the later scenarios have the
        # server core to the servers they measure
        with ExitStack() as others:
            for name, command_for in commands.items():
                if name == "mockgw" or not wanted:
                    continue
                port = bare_port if name == "bare" else free_port()
                servers[name] = others.enter_context(
                    server(pinned(options.server_cpu, command_for(port)), port, RESULTS / f"{name}.log")
                )
                if name != "bare":
                    check_peer(name, port)
            throughput: dict[str, Any] = {}
            for name, stream in THROUGHPUT.items():
                if name not in options.scenarios:
                    continue
                print(
                    f"bench: {name}: {options.rounds} rounds of {', '.join(servers)} ({options.seconds:g} s each)",
                    flush=True,
                )
                throughput[name] = compare(options, servers, stream)
            results["throughput"] = throughput

        if "timing" in options.scenarios:
            print("bench: timing accuracy", flush=True)
            results["timing"] = asyncio.run(timing(mock_port, options.timing_requests))
        if "stream-1000-timed" in options.scenarios:
            results["stream_1000_timed"] = stream_1000_timed(options, mock_server, list(peer_commands))
    results["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(report(results))
    print(f"\nresults: {(RESULTS / 'latest.json').relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
