"""The screenshots of docs/inspector.md, taken from fixed data: the same calls made with the openai SDK every run.

They go to a temporary folder, or to MOCKGW_SCREENSHOTS (e.g. `MOCKGW_SCREENSHOTS=docs/images make test`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import openai
import pytest
from playwright.sync_api import Page, expect

from mockgw.server.runner import MockGateway
from tests.conftest import handle_on
from tests.ui.test_inspector import AGENT_FIXTURES, HELLO, WEATHER_TOOL, _agent_loop, ask, client

# A stream with waits, so that its timeline shows times.
STREAM = """
version: 1
fixtures:
  - name: slow-stream
    priority: 1
    match: {stream: true, last_user_message: stream}
    reply: {content: "Streams arrive one token at a time.", ttft_ms: 120, chunk_ms: 15}
"""


def test_screenshots_of_the_main_views(
    page: Page, gateway_factory: Callable[..., MockGateway], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = Path(os.environ.get("MOCKGW_SCREENSHOTS") or tmp_path).absolute()
    (tmp_path / "hello.yaml").write_text(HELLO)
    (tmp_path / "stream.yaml").write_text(STREAM)
    (tmp_path / "agent.yaml").write_text(Path(AGENT_FIXTURES).read_text())
    monkeypatch.chdir(tmp_path)  # the pages name the fixture files as given: short, and no machine's path
    fixtures = ("agent.yaml", "hello.yaml", "stream.yaml")
    gateway = gateway_factory(fixtures=fixtures, strict=True, seed=7)
    handle_on(gateway).fault(
        {"name": "cut-stream", "match": {"stream": True}, "fault": {"type": "cut", "after_events": 4}},
    )
    _agent_loop(gateway)  # call-1, call-2
    with pytest.raises(openai.NotFoundError):  # call-3
        client(gateway).chat.completions.create(
            model="openai/gpt-4o",
            messages=[{"role": "user", "content": "What is the weather in paris?"}],
            tools=[WEATHER_TOOL],  # type: ignore[list-item]
        )
    with pytest.raises(openai.APIConnectionError):  # call-4
        for _ in client(gateway).chat.completions.create(
            model="openai/gpt-4o", messages=[{"role": "user", "content": "hello, stream please"}], stream=True
        ):
            pass
    ask(gateway, "hello", session="checkout-test")  # call-5
    page.set_viewport_size({"width": 1100, "height": 640})
    shots = {
        "inspector-calls.png": ("calls", "#rows tr >> nth=4"),
        "inspector-chat.png": ("calls/call-2", ".chat"),
        "inspector-near-miss.png": ("calls/call-3", "table.diff"),
        "inspector-stream.png": ("calls/call-4", ".timeline"),
        "inspector-fixtures.png": ("fixtures", "table"),
    }
    for name, (view, ready) in shots.items():
        page.goto(f"{gateway.url}/__mockgw/ui/#/{view}")
        page.wait_for_selector(ready)
        if view == "calls/call-4":
            page.locator(".timeline").scroll_into_view_if_needed()
        if view == "calls/call-3":
            page.locator("table.diff").first.scroll_into_view_if_needed()
        page.screenshot(path=folder / name)
        assert (folder / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    expect(page.get_by_role("link", name="Fixtures")).to_have_attribute("aria-current", "page")
