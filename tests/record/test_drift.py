"""`mockgw drift` against real upstreams: the foreign gateway (expected findings) and a second mockgw (none)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import openai
import pytest

from mockgw import cli
from mockgw.server.runner import MockGateway
from tests.record.conftest import KEY, MockgwProcess
from tests.record.foreign import ForeignGateway

SCHEMA = json.loads((Path(cli.__file__).parent / "schemas" / "drift_report.schema.json").read_text())


def _drift(tmp_path: Path, *args: str) -> tuple[int, dict[str, object]]:
    report = tmp_path / "report.json"
    code = cli.main(["drift", *args, "--json", str(report)])
    data = json.loads(report.read_text())
    jsonschema.validate(data, SCHEMA)
    return code, data


def _findings(report: dict[str, object]) -> set[tuple[str, str, str]]:
    return {(f["severity"], f["probe"], f["where"]) for f in report["findings"]}  # type: ignore[attr-defined,index]


def test_drift_against_the_foreign_gateway_reports_what_differs(
    foreign: ForeignGateway, gateway_factory: Callable[..., MockGateway], tmp_path: Path
) -> None:
    mock = gateway_factory()
    code, report = _drift(tmp_path, "--upstream", foreign.url, "--url", mock.url)
    assert code == 1  # critical findings
    found = _findings(report)
    expected = {
        # documented: the provider header, the usage details, the error envelope's code and param
        ("critical", "chat", "header x-edgee-provider"),
        ("critical", "chat", "body.usage.input_tokens_details"),
        ("critical", "error-envelope", "body.error.code"),
        ("critical", "messages", "status"),  # the foreign gateway has no /v1/messages (404)
        # fields the foreign gateway adds that mockgw does not know
        ("warning", "chat", "body.x_foreign_trace"),
        ("warning", "chat", "body.choices[].message.x_mood"),
        ("warning", "chat", "body.usage.x_cost"),
        ("warning", "models", "body.data[].x_tier"),
        ("warning", "chat-stream", "events[content][].x_foreign_trace"),
        # known and intended
        ("info", "chat", "header content-type"),
        ("info", "chat-stream", "events"),  # its keep-alive comments
    }
    assert expected <= found
    assert ("critical", "chat-stream", "events") in found  # usage in a chunk of its own, mockgw: in the last one
    severities = [f["severity"] for f in report["findings"]]  # type: ignore[attr-defined]
    assert report["counts"] == {s: severities.count(s) for s in ("critical", "warning", "info")}


def test_drift_against_a_second_mockgw_finds_nothing(
    second_mockgw: MockgwProcess, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("UPSTREAM_KEY", KEY)
    code, report = _drift(tmp_path, "--upstream", second_mockgw.url, "--upstream-key-env", "UPSTREAM_KEY")
    assert code == 0
    assert report["findings"] == []
    assert len(report["checked"]) == 8  # type: ignore[arg-type]


def test_rate_limits_and_outages_are_not_drift(
    foreign: ForeignGateway,
    recorder_factory: Callable[..., MockGateway],
    gateway_factory: Callable[..., MockGateway],
    tmp_path: Path,
) -> None:
    out = tmp_path / "cassettes"
    recorder = recorder_factory(foreign.url, out, mode="all")
    client = openai.OpenAI(base_url=recorder.base_url, api_key=KEY, max_retries=0)
    for text in ("over the limit", "boom", "hello"):
        with contextlib.suppress(openai.APIStatusError):
            client.chat.completions.create(model="openai/gpt-4o", messages=[{"role": "user", "content": text}])
    recorder.stop()
    mock = gateway_factory()
    code, report = _drift(tmp_path, "--upstream", foreign.url, "--url", mock.url, "--cassettes", str(out))
    skipped = {(s["probe"].split(":")[-1], s["why"]) for s in report["could_not_check"]}  # type: ignore[attr-defined,index]
    assert skipped == {
        ("chat-over-the-limit", "the upstream answered 429"),
        ("chat-boom", "the upstream answered 503"),
    }
    assert [c.split(":")[-1] for c in report["checked"]] == ["chat-hello"]  # type: ignore[attr-defined]
    assert code == 1  # the hello answer itself differs (no x-edgee-provider)
