"""aimock (`@copilotkit/aimock`, Node) as a peer in `make bench`: installed on demand, same request, same answer.

The package goes into bench/.peers/ (gitignored) with `npm install --no-audit --no-fund`, only when Node >= 20 is
on the PATH; without it the bench runs without the peer and says why. Its fixture is written from
bench/fixtures.yaml: the same answer text as `bench-answer`, matched on the same last user message, with a
`chunkSize` (characters; aimock cuts streams by characters, not tokens) that gives exactly 20 content events, as
mockgw's `chunk_tokens: 3` does. bench/run.py counts both before measuring.

For `stream-1000-timed` aimock serves a second fixture file, written from `bench-timed-1000`: the same text, paced
as mockgw paces it (see `write_aimock_timed_fixture`).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
PEERS = HERE / ".peers"
AIMOCK_PACKAGE = "@copilotkit/aimock"
# the version the issue measured; BENCH_AIMOCK_VERSION=latest (or another) to compare with a newer one
AIMOCK_VERSION = os.environ.get("BENCH_AIMOCK_VERSION", "1.43.0")
NODE_MAJOR = 20
STREAM_CONTENT_EVENTS = 20


def node_major() -> int | None:
    """Node's major version, or None when there is no `node`."""
    node = shutil.which("node")
    if node is None:
        return None
    out = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    try:
        return int(out.lstrip("v").split(".")[0])
    except ValueError:
        return None


def aimock_cli() -> Path:
    # `llmock` (dist/cli.js) is the bin that takes -p/-f: the server `aimock --config` runs for LLM fixtures
    return PEERS / "node_modules" / "@copilotkit" / "aimock" / "dist" / "cli.js"


def install_aimock() -> str | None:
    """Install aimock under bench/.peers/ when missing; None when ready, else why it cannot run."""
    major = node_major()
    if major is None:
        return "no node on the PATH"
    if major < NODE_MAJOR:
        return f"node {major} is older than {NODE_MAJOR}"
    installed = PEERS / "node_modules" / "@copilotkit" / "aimock" / "package.json"
    if installed.exists():
        version = json.loads(installed.read_text()).get("version")
        if AIMOCK_VERSION in ("latest", version):
            return None
    npm = shutil.which("npm")
    if npm is None:
        return "no npm on the PATH"
    PEERS.mkdir(exist_ok=True)
    (PEERS / "package.json").write_text('{"name": "mockgw-bench-peers", "private": true}\n')
    done = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--silent", f"{AIMOCK_PACKAGE}@{AIMOCK_VERSION}"],
        cwd=PEERS,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not aimock_cli().exists():
        return f"npm install {AIMOCK_PACKAGE}@{AIMOCK_VERSION} failed: {done.stderr.strip()[-400:]}"
    return None


def aimock_version() -> str:
    installed = PEERS / "node_modules" / "@copilotkit" / "aimock" / "package.json"
    return str(json.loads(installed.read_text()).get("version", "?")) if installed.exists() else "?"


def write_aimock_fixture(fixtures_yaml: Path, out: Path) -> Path:
    """aimock's fixture file: mockgw's `bench-answer` text, for the same request, 20 content events when streamed."""
    fixtures = yaml.safe_load(fixtures_yaml.read_text())["fixtures"]
    answer = next(f for f in fixtures if f["name"] == "bench-answer")
    text = answer["reply"]["content"]
    chunk = math.ceil(len(text) / STREAM_CONTENT_EVENTS)  # ceil(len / chunk) == 20 content events
    fixture = {
        "match": {"userMessage": answer["match"]["last_user_message"]},  # both: a substring of the last user message
        "response": {"content": text},
        "chunkSize": chunk,
    }
    out.write_text(json.dumps({"fixtures": [fixture]}, indent=2) + "\n")
    return out


def write_aimock_timed_fixture(fixtures_yaml: Path, out: Path, paced_events: int) -> Path:
    """aimock's fixture for `stream-1000-timed`: `bench-timed-1000`'s text, with the same script as mockgw's stream.

    mockgw paces every one of its `paced_events` events `chunk_ms` apart, the first with the headers. aimock paces
    its chunks (the role, the content, the finish) by a `streamingProfile` (`ttft: 0`, then `1000 / tps` ms before
    each next chunk) and writes its usage chunk and `[DONE]` right after the last one. So its content is cut into
    `paced_events - 2` chunks: the same number of paced waits, the same script length, two more events at its end.
    """
    fixtures = yaml.safe_load(fixtures_yaml.read_text())["fixtures"]
    answer = next(f for f in fixtures if f["name"] == "bench-answer")
    reply = next(f for f in fixtures if f["name"] == "bench-timed-1000")["reply"]
    text = reply["content"]
    wanted = paced_events - 2
    chunk = next((size for size in range(1, len(text) + 1) if math.ceil(len(text) / size) == wanted), None)
    if chunk is None:
        raise SystemExit(f"bench: no aimock chunkSize cuts {len(text)} characters into {wanted} chunks")
    fixture = {
        "match": {"userMessage": answer["match"]["last_user_message"]},  # the bench request (no tags in aimock)
        "response": {"content": text},
        "chunkSize": chunk,
        "streamingProfile": {"ttft": 0, "tps": 1000 / reply["chunk_ms"]},
    }
    out.write_text(json.dumps({"fixtures": [fixture]}, indent=2) + "\n")
    return out


def aimock_command(port: int, fixture: Path) -> list[str]:
    node = shutil.which("node") or "node"
    # --log-level silent: no line per request (mockgw logs none either); the journal keeps its default 1,000
    return [node, str(aimock_cli()), "-p", str(port), "-h", "127.0.0.1", "-f", str(fixture), "--log-level", "silent"]
