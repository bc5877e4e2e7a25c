"""Replaying a recorded file after editing it: pacing, faults, the reply fields, and `mockgw check`'s warnings."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest
import yaml

from mockgw import cli
from mockgw.server.runner import MockGateway
from tests.record.conftest import KEY


def _chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    payload = {
        "id": "chatcmpl-recorded-7",
        "object": "chat.completion.chunk",
        "created": 1790000000,
        "model": "openai/gpt-4o",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(payload, separators=(',', ':'))}\n\n"


EVENTS = [
    {"ms": 40.0, "data": _chunk({"role": "assistant", "content": ""})},
    {"ms": 55.5, "data": _chunk({"content": "Recorded"})},
    {"ms": 90.0, "data": _chunk({"content": " words"})},
    {"ms": 91.0, "data": _chunk({}, "stop")},
    {"ms": 100.0, "data": "data: [DONE]\n\n"},
]


def _file(tmp_path: Path, **reply: Any) -> Path:
    recorded: dict[str, Any] = {"status": 200, "headers": {"content-type": "text/event-stream"}, "events": EVENTS}
    recorded |= reply.pop("recorded", {})
    fixture = {
        "name": "recorded-stream",
        "match": {"endpoint": "chat", "stream": True, "last_user_message": {"equals": "hi"}},
        "reply": {"content": "Recorded words", "finish_reason": "stop", **reply, "recorded": recorded},
    }
    path = tmp_path / "recorded.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "fixtures": [fixture]}, sort_keys=False), encoding="utf-8")
    return path


def _stream(gateway: MockGateway) -> list[dict[str, Any]]:
    client = openai.OpenAI(base_url=gateway.base_url, api_key=KEY, max_retries=0)
    chunks = client.chat.completions.create(
        model="openai/gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    return [chunk.model_dump() for chunk in chunks]


def _delivered(gateway: MockGateway) -> Any:
    """The journal's `delivered` record of the one call (the server files it just after the last byte went out)."""
    deadline = time.monotonic() + 10
    while not gateway.run_in_loop(gateway.state.journal.calls) and time.monotonic() < deadline:
        time.sleep(0.01)
    (call,) = gateway.run_in_loop(gateway.state.journal.calls)
    return call.delivered


def test_recorded_events_replay_byte_for_byte_without_waits_by_default(
    replayer_factory: Callable[..., MockGateway], tmp_path: Path
) -> None:
    gateway = replayer_factory(_file(tmp_path))
    chunks = _stream(gateway)
    assert [c["id"] for c in chunks] == ["chatcmpl-recorded-7"] * 4
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == "Recorded words"
    assert _delivered(gateway)["timing"] == {"delay_ms": 0.0, "ttft_ms": 0.0, "chunk_ms": 0.0}


@pytest.mark.parametrize(
    ("timing", "ttft", "gaps"),
    [("recorded", 40.0, [15.5, 34.5, 1.0, 9.0]), ({"scale": 0.5}, 20.0, [7.75, 17.25, 0.5, 4.5])],
)
def test_timing_puts_each_recorded_wait_on_its_own_event(
    replayer_factory: Callable[..., MockGateway], tmp_path: Path, timing: Any, ttft: float, gaps: list[float]
) -> None:
    gateway = replayer_factory(_file(tmp_path, recorded={"timing": timing}))
    assert len(_stream(gateway)) == 4
    planned = _delivered(gateway)["timing"]
    assert planned["ttft_ms"] == ttft and planned["gaps_ms"] == gaps


def test_ttft_and_chunk_ms_override_the_recorded_timing(
    replayer_factory: Callable[..., MockGateway], tmp_path: Path
) -> None:
    gateway = replayer_factory(_file(tmp_path, ttft_ms=5, chunk_ms=1, recorded={"timing": "recorded"}))
    _stream(gateway)
    assert _delivered(gateway)["timing"] == {"delay_ms": 0.0, "ttft_ms": 5.0, "chunk_ms": 1.0}


def test_stream_faults_apply_to_a_recorded_reply(replayer_factory: Callable[..., MockGateway], tmp_path: Path) -> None:
    gateway = replayer_factory(_file(tmp_path, fault={"type": "cut", "after_events": 2}))
    seen: list[Any] = []
    with pytest.raises(openai.APIError):
        for chunk in openai.OpenAI(base_url=gateway.base_url, api_key=KEY, max_retries=0).chat.completions.create(
            model="openai/gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True
        ):
            seen.append(chunk)
    assert [c.choices[0].delta.content for c in seen] == ["", "Recorded"]


def test_an_incomplete_recording_replays_the_same_cut(
    replayer_factory: Callable[..., MockGateway], tmp_path: Path
) -> None:
    gateway = replayer_factory(_file(tmp_path, recorded={"events": EVENTS[:3], "complete": False}))
    seen: list[Any] = []
    with pytest.raises(openai.APIError):
        for chunk in openai.OpenAI(base_url=gateway.base_url, api_key=KEY, max_retries=0).chat.completions.create(
            model="openai/gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True
        ):
            seen.append(chunk)
    assert len(seen) == 3
    assert _delivered(gateway)["completed"] is False


def test_without_recorded_the_edited_reply_answers(
    replayer_factory: Callable[..., MockGateway], tmp_path: Path
) -> None:
    path = _file(tmp_path)
    document = yaml.safe_load(path.read_text())
    reply = document["fixtures"][0]["reply"]
    del reply["recorded"]
    reply["content"] = "Edited by hand"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    chunks = _stream(replayer_factory(path))
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == "Edited by hand"
    assert chunks[0]["id"] != "chatcmpl-recorded-7"


def test_check_warns_where_the_reply_and_the_recording_disagree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.check([str(_file(tmp_path))]) == 0
    assert "warning" not in capsys.readouterr().out
    assert cli.check([str(_file(tmp_path, content="Something else"))]) == 0  # a warning, not an error
    out = capsys.readouterr().out
    assert "warning:" in out and "fixture 'recorded-stream' reply: content: reply says 'Something else'" in out
    assert "the recording sends 'Recorded words'" in out
