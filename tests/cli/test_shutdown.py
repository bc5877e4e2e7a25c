"""Stopping `mockgw serve` the way CI does (`kill $pid; wait $pid`, or Ctrl-C): a clean drain, exit 0."""

from __future__ import annotations

import json
import re
import selectors
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openai
import pytest

REPO = Path(__file__).resolve().parents[2]
URL_LINE = re.compile(r"serving (http://127\.0\.0\.1:\d+/v1) ")

FIXTURES = """\
version: 1
fixtures:
  - name: slow-stream
    match: {last_user_message: stream}
    reply:
      content: "one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
      chunk_tokens: 1
      chunk_ms: 600
  - name: held
    match: {last_user_message: held}
    reply: {content: "released at last", hold: true}
"""


def _start(tmp_path: Path) -> tuple[subprocess.Popen[str], str]:
    (tmp_path / "f.yaml").write_text(FIXTURES)
    process = subprocess.Popen(
        [sys.executable, "-m", "mockgw", "serve", "--port", "0", "--fixtures", str(tmp_path / "f.yaml")],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        assert selector.select(timeout=60), "the server printed nothing within a minute"
    found = URL_LINE.search(process.stdout.readline())
    assert found
    return process, found.group(1)


def _stream(base_url: str, started: threading.Barrier) -> tuple[str, str | None]:
    client = openai.OpenAI(base_url=base_url, api_key="sk-test", max_retries=0, timeout=30)
    text, finish = [], None
    stream = client.chat.completions.create(
        model="openai/gpt-4o", messages=[{"role": "user", "content": "stream"}], stream=True
    )
    for index, chunk in enumerate(stream):
        if index == 1:
            started.wait(timeout=30)  # every stream is open before the signal goes
        if chunk.choices:
            text.append(chunk.choices[0].delta.content or "")
            finish = chunk.choices[0].finish_reason or finish
    return "".join(text), finish


def _held(base_url: str) -> str | None:
    client = openai.OpenAI(base_url=base_url, api_key="sk-test", max_retries=0, timeout=30)
    answer = client.chat.completions.create(model="openai/gpt-4o", messages=[{"role": "user", "content": "held"}])
    return answer.choices[0].message.content


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_drains_open_streams_and_held_answers_then_exits_0(tmp_path: Path, signum: int) -> None:
    process, base_url = _start(tmp_path)
    streams = 50
    started = threading.Barrier(streams + 1)
    try:
        with ThreadPoolExecutor(streams + 1) as pool:
            held = pool.submit(_held, base_url)
            running = [pool.submit(_stream, base_url, started) for _ in range(streams)]
            started.wait(timeout=30)
            assert not any(future.done() for future in running), "the streams last 9 s: none may be over yet"
            sent = time.monotonic()
            process.send_signal(signum)
            code = process.wait(timeout=10)
            took = time.monotonic() - sent
            results = [future.result(timeout=10) for future in running]
            held_text = held.result(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert code == 0, process.stderr.read() if process.stderr else ""
    assert took < 2, f"took {took:.2f} s to stop"
    # every client saw its whole answer end cleanly: the remaining events without their waits, then [DONE]
    full = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
    assert results == [(full, "stop")] * streams
    assert held_text == "released at last"
    assert process.stdout is not None and "mockgw stopped" in process.stdout.read()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_sent_as_soon_as_the_serving_line_is_read_stops_cleanly(tmp_path: Path, signum: int) -> None:
    """A CI script that starts mockgw, waits for its serving line and kills it at once gets the clean stop: the
    signal handlers are in place before the line is printed."""
    process, _ = _start(tmp_path)
    try:
        process.send_signal(signum)
        code = process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert code == 0, process.stderr.read() if process.stderr else ""
    assert process.stdout is not None and process.stdout.read().splitlines()[-1] == "mockgw stopped"


def test_log_requests_and_journal_out(tmp_path: Path) -> None:
    """`--log-requests` prints a line per call; `--journal-out` leaves the journal as JSONL when the server stops."""
    (tmp_path / "f.yaml").write_text(FIXTURES)
    journal = tmp_path / "journal.jsonl"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mockgw",
            "serve",
            "--port",
            "0",
            "--fixtures",
            str(tmp_path / "f.yaml"),
            "--log-requests",
            "--journal-out",
            str(journal),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    base_url = URL_LINE.search(process.stdout.readline())
    assert base_url
    client = openai.OpenAI(base_url=base_url.group(1), api_key="sk-test", max_retries=0)
    client.with_options(default_headers={"X-Mockgw-Session": "job-3"}).chat.completions.create(
        model="openai/gpt-4o", messages=[{"role": "user", "content": "stream"}]
    )
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("openai/nope")
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    inspector, *lines = process.stdout.read().splitlines()
    assert inspector.startswith("inspector: http://127.0.0.1:") and inspector.endswith("/__mockgw/ui/ (read-only)")
    assert re.fullmatch(
        r"POST /v1/chat/completions session=job-3 status=200 fixture=slow-stream fault=- [\d.]+ ms", lines[0]
    ), lines
    assert re.fullmatch(r"GET /v1/models/openai/nope session=- status=404 fixture=- fault=- [\d.]+ ms", lines[1])
    assert lines[2] == "mockgw stopped"
    calls = [json.loads(line) for line in journal.read_text().splitlines()]
    assert [(c["path"], c["status"], c["session"], c["fixture"]) for c in calls] == [
        ("/v1/chat/completions", 200, "job-3", "slow-stream"),
        ("/v1/models/openai/nope", 404, "", None),
    ]
