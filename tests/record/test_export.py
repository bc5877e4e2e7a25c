"""`mockgw export` and GET /__mockgw/export: what a server answered, frozen into a fixture file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
import yaml

from mockgw import cli
from mockgw.server.runner import MockGateway
from tests.record.conftest import KEY
from tests.record.test_record_mockgw import WEATHER


def _run(gateway: MockGateway, session: str = "") -> list[Any]:
    headers = {"X-Mockgw-Session": session} if session else {}
    gpt = openai.OpenAI(base_url=gateway.base_url, api_key=KEY, max_retries=0, default_headers=headers)
    seen: list[Any] = []
    for text in ("tell me a story", "tell me a story", "another one"):
        answer = gpt.chat.completions.create(model="openai/gpt-4o", messages=[{"role": "user", "content": text}])
        seen.append(answer.choices[0].message.content)
    called = gpt.chat.completions.create(
        model="openai/gpt-4o",
        messages=[{"role": "user", "content": "weather in Oslo"}],
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice="required",
    )
    seen.append([(c.function.name, c.function.arguments, c.id) for c in called.choices[0].message.tool_calls or []])  # type: ignore[union-attr]
    streamed = gpt.chat.completions.create(
        model="openai/gpt-4o", messages=[{"role": "user", "content": "stream it"}], stream=True
    )
    seen.append("".join(c.choices[0].delta.content or "" for c in streamed if c.choices))
    claude = anthropic.Anthropic(base_url=gateway.url, api_key=KEY, max_retries=0, default_headers=headers)
    seen.append(
        claude.messages.create(
            model="anthropic/claude-sonnet-4.5", max_tokens=50, messages=[{"role": "user", "content": "hi claude"}]
        )
        .content[0]
        .text  # type: ignore[union-attr]
    )
    return seen


def test_a_suite_with_no_fixtures_freezes_what_it_got(
    gateway_factory: Callable[..., MockGateway],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = gateway_factory(seed=1)
    got = _run(first, session="suite-a")
    _run(first)  # another session's calls stay out of the export
    capsys.readouterr()
    assert cli.main(["export", "--url", first.url, "--session", "suite-a"]) == 0
    exported = capsys.readouterr().out
    path = tmp_path / "frozen.yaml"
    path.write_text(exported, encoding="utf-8")
    assert cli.check([str(path)]) == 0

    fixtures = {f["name"]: f for f in yaml.safe_load(exported)["fixtures"]}
    assert len(fixtures["chat-tell-me-a-story"]["replies"]) == 2
    assert fixtures["chat-weather-in-oslo"]["match"]["tools"] == ["get_weather"]
    assert "recorded:" not in exported  # frozen as editable reply fields

    frozen = gateway_factory(seed=42, fixtures=(str(path),))  # another seed: the answers come from the file
    assert _run(frozen, session="suite-a") == got


def test_export_over_http_for_the_default_session(gateway_factory: Callable[..., MockGateway]) -> None:
    import urllib.request

    gateway = gateway_factory(seed=5)
    _run(gateway)
    with urllib.request.urlopen(f"{gateway.url}/__mockgw/export") as response:
        assert response.headers["Content-Type"].startswith("application/yaml")
        document = yaml.safe_load(response.read())
    assert document["version"] == 1
    assert {f["match"]["endpoint"] for f in document["fixtures"]} == {"chat", "messages"}
