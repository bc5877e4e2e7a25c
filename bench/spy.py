"""`make bench-profile` (bench/spy.py): where mockgw's time goes under load, by function (py-spy, a sampling profiler).

mockgw serves bench/fixtures.yaml on the server core; `wrk` (the bench's own request, bench/post.lua) loads it from
the other core while py-spy samples the server. The samples are added up by function (py-spy's line numbers are
unreliable on Python 3.11, its functions are not) and printed as two tables: the time spent in each function
itself ("own") and with what it calls ("with callees"), as shares of the server's samples. The shares do not
depend on how much of the core the process got, so they compare between runs on a busy machine.

Environment: BENCH_SECONDS (sampling, default 12), BENCH_STREAM=1 (the 20-chunk stream instead of JSON),
BENCH_CONNECTIONS (32), BENCH_SERVER_CPU (0), BENCH_LOAD_CPU (1), BENCH_TOP (rows, 25), BENCH_RATE (samples/s, 200).
"""

from __future__ import annotations

import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import run

FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def where(frame: str) -> str:
    """`function (module)`: the frame without its line number, the file shortened to the package path."""
    match = FRAME.match(frame.strip())
    if match is None:
        return frame.strip()
    file = match["file"]
    for marker in ("/mockgw/", "/site-packages/", "/lib/python3"):
        if marker in file:
            file = file.split(marker, 1)[1]
            if marker == "/mockgw/":
                file = "mockgw/" + file
            elif marker == "/lib/python3":
                file = file.split("/", 1)[1] if "/" in file else file
            break
    return f"{match['function']} ({file})"


def tables(raw: str, top: int) -> str:
    """Own and with-callees shares per function from py-spy's raw output (`frame;frame;... count` lines)."""
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [where(f) for f in stack.split(";") if f.strip() and not f.startswith("process ")]
        if not frames:
            continue
        samples += count
        own[frames[-1]] += count
        for name in set(frames):
            total[name] += count
    lines = [f"{samples} samples", "", "| own | function |", "|---:|---|"]
    lines += [f"| {100 * n / samples:.1f} % | `{name}` |" for name, n in own.most_common(top)]
    lines += ["", "| with callees | function |", "|---:|---|"]
    lines += [f"| {100 * n / samples:.1f} % | `{name}` |" for name, n in total.most_common(top)]
    return "\n".join(lines)


def main() -> int:
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        raise SystemExit("bench-profile needs py-spy: pip install py-spy (make bench-profile installs it)")
    options = run.Options()
    seconds = run._env_float("BENCH_SECONDS", 12)
    stream = os.environ.get("BENCH_STREAM") == "1"
    port = run.free_port()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "mockgw.log"
        out = Path(tmp) / "profile.txt"
        with run.server(run.pinned(options.server_cpu, run.mockgw_command(port)), port, log) as target:
            run.run_wrk(options, target, stream, options.warmup)
            load = subprocess.Popen(
                run.pinned(
                    options.load_cpu,
                    [
                        *("wrk", "-t1", f"-c{options.connections}", f"-d{round(seconds) + 2}s", "-s", str(run.LUA)),
                        f"http://127.0.0.1:{port}{run.CHAT_PATH}",
                    ],
                ),
                env={**os.environ, "BENCH_STREAM": "1" if stream else "0"},
                stdout=subprocess.DEVNULL,
            )
            time.sleep(1)
            rate = os.environ.get("BENCH_RATE", "200")
            spy_command = [spy, "record", "-r", rate, "-d", str(round(seconds)), "-f", "raw", "-o", str(out)]
            subprocess.run([*spy_command, "-p", str(target.pid)], check=True, capture_output=True)
            load.wait()
        print(tables(out.read_text(), run._env_int("BENCH_TOP", 25)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
