"""The web inspector in a real browser, fed by real clients (the openai SDK) over real sockets."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import openai
import pytest
import yaml
from playwright.sync_api import Page, expect

from mockgw.server.runner import MockGateway
from tests.conftest import handle_on
from tests.support.rawhttp import request

API_KEY = "sk-edgee-test-key"
AGENT_FIXTURES = str(Path(__file__).parents[1] / "data" / "agent_loop.yaml")
WEATHER_TOOL = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}},
}
HELLO = """
version: 1
fixtures:
  - name: greeting
    match: {last_user_message: hello}
    reply: {content: "Hello from the fixture"}
  - name: held-answer
    match: {last_user_message: wait}
    reply: {content: "Released at last", hold: true}
"""


def client(gateway: MockGateway, session: str | None = None) -> openai.OpenAI:
    headers = {"X-Mockgw-Session": session} if session else None
    return openai.OpenAI(base_url=gateway.base_url, api_key=API_KEY, max_retries=0, default_headers=headers)


def ask(gateway: MockGateway, text: str, model: str = "openai/gpt-4o", session: str | None = None) -> str:
    answer = client(gateway, session).chat.completions.create(model=model, messages=[{"role": "user", "content": text}])
    return answer.choices[0].message.content or ""


def open_inspector(page: Page, gateway: MockGateway, view: str = "calls") -> None:
    page.goto(f"{gateway.url}/__mockgw/ui/#/{view}")
    if view == "calls":
        expect(page.locator("#live")).to_have_text("● live")  # the server's push channel is open


@pytest.fixture
def hello_gateway(gateway_factory: Callable[..., MockGateway], tmp_path: Path) -> MockGateway:
    (tmp_path / "hello.yaml").write_text(HELLO)
    return gateway_factory(fixtures=(str(tmp_path / "hello.yaml"),))


def test_a_call_made_with_the_openai_sdk_appears_live(page: Page, hello_gateway: MockGateway) -> None:
    open_inspector(page, hello_gateway)
    expect(page.get_by_text("No calls yet")).to_be_visible()
    page.evaluate("window.notReloaded = true")

    assert ask(hello_gateway, "hello there") == "Hello from the fixture"

    row = page.locator("#rows tr").first
    expect(row).to_contain_text("/v1/chat/completions")
    expect(row).to_contain_text("greeting")
    expect(row).to_contain_text("openai/gpt-4o")
    expect(page.locator("#count")).to_contain_text("of 1 matching calls")
    assert page.evaluate("window.notReloaded") is True  # pushed, not reloaded


def test_filters_narrow_the_list_and_the_keyboard_opens_a_call(
    page: Page, gateway_factory: Callable[..., MockGateway], tmp_path: Path
) -> None:
    (tmp_path / "hello.yaml").write_text(HELLO)
    gateway = gateway_factory(fixtures=(str(tmp_path / "hello.yaml"),), strict=True)
    ask(gateway, "hello", model="openai/gpt-4o")
    ask(gateway, "hello", model="anthropic/claude-sonnet-4-6", session="other")
    with pytest.raises(openai.NotFoundError):
        ask(gateway, "nobody answers this")
    open_inspector(page, gateway)
    rows = page.locator("#rows tr")
    expect(rows).to_have_count(3)

    page.get_by_label("Model", exact=True).fill("anthropic/claude-sonnet-4-6")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("other")
    page.get_by_role("button", name="Clear filters").click()
    expect(rows).to_have_count(3)

    page.get_by_label("Status", exact=True).fill("4xx")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("404")
    page.get_by_role("button", name="Clear filters").click()
    page.get_by_label("Unmatched only").check()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("unmatched")
    page.get_by_label("Unmatched only").uncheck()
    expect(rows).to_have_count(3)  # the filters' (debounced) reload is done before the session changes
    page.get_by_label("Session", exact=True).select_option("other")
    expect(rows).to_have_count(1)
    page.get_by_label("Session", exact=True).select_option("*")
    expect(rows).to_have_count(3)

    # keyboard only: focus the first call, move down, open it with Enter
    page.locator("#rows a.open").first.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#call-title")).to_be_focused()
    expect(page).to_have_url(f"{gateway.url}/__mockgw/ui/#/calls/call-2")
    page.keyboard.press("Escape")
    expect(rows).to_have_count(3)


def _agent_loop(gateway: MockGateway) -> None:
    """The weather agent of docs/scripting.md: a tool call, the tool's result, the final answer."""
    api = client(gateway)
    messages: list[dict[str, object]] = [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "What is the weather in Oslo?"},
    ]
    first = api.chat.completions.create(model="openai/gpt-4o", messages=messages, tools=[WEATHER_TOOL])  # type: ignore[arg-type]
    call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
    messages += [first.choices[0].message.model_dump(exclude_none=True)]
    messages += [{"role": "tool", "tool_call_id": call.id, "content": "-3C and snowing"}]
    final = api.chat.completions.create(model="openai/gpt-4o", messages=messages, tools=[WEATHER_TOOL])  # type: ignore[arg-type]
    assert final.choices[0].message.content == "In Oslo it is -3C and snowing."


def test_a_tool_calling_conversation_renders_as_a_chat(page: Page, gateway_factory: Callable[..., MockGateway]) -> None:
    gateway = gateway_factory(fixtures=(AGENT_FIXTURES,))
    _agent_loop(gateway)
    page.goto(f"{gateway.url}/__mockgw/ui/#/calls/call-2")
    turns = page.locator(".chat > li")
    expect(turns).to_have_count(5)
    expect(turns.nth(0)).to_have_attribute("data-role", "system")
    expect(turns.nth(1)).to_contain_text("What is the weather in Oslo?")
    expect(turns.nth(2).locator(".toolcall")).to_have_attribute("data-tool", "get_weather")
    expect(turns.nth(2).get_by_label("arguments of get_weather")).to_contain_text('"city": "Oslo"')
    expect(turns.nth(3)).to_contain_text("tool result · get_weather")
    expect(turns.nth(3)).to_contain_text("-3C and snowing")
    expect(turns.nth(4)).to_contain_text("reply from fixture “answer-with-weather”")
    expect(turns.nth(4)).to_contain_text("In Oslo it is -3C and snowing.")
    expect(page.locator("[data-fixture]")).to_have_text("answer-with-weather")
    # the request as the journal keeps it: the key redacted
    expect(page.get_by_role("table", name="Request headers (credentials redacted)")).to_contain_text(
        "Bearer [redacted]"
    )
    assert API_KEY not in page.content()


def test_a_streamed_call_cut_by_a_fault_shows_the_fault_and_where_the_client_stopped(
    page: Page, hello_gateway: MockGateway
) -> None:
    handle_on(hello_gateway).fault(
        {"name": "cut-after-3", "match": {"stream": True}, "fault": {"type": "cut", "after_events": 3}},
    )
    received = []
    with pytest.raises(openai.APIConnectionError):
        stream = client(hello_gateway).chat.completions.create(
            model="openai/gpt-4o", messages=[{"role": "user", "content": "hello"}], stream=True
        )
        for chunk in stream:
            received.append(chunk)
    assert len(received) == 3

    page.goto(f"{hello_gateway.url}/__mockgw/ui/#/calls/call-1")
    timeline = page.get_by_role("list", name="Stream timeline")
    items = timeline.locator("li")
    expect(items.nth(2)).to_contain_text("#3")
    expect(items.nth(3)).to_have_attribute("data-kind", "fault")
    expect(items.nth(3)).to_contain_text("fault cut (after_events=3")
    expect(items.nth(3)).to_contain_text("rule 'cut-after-3'")
    expect(items.nth(4)).to_have_attribute("data-kind", "stop")
    expect(items.nth(4)).to_contain_text("client stopped here")
    expect(items).to_have_count(5)  # nothing was sent after the cut
    expect(page.get_by_text("3 of ")).to_contain_text("events reached the client")


def test_a_strict_mode_miss_shows_the_near_miss_diff_with_the_key_that_failed(
    page: Page, gateway_factory: Callable[..., MockGateway]
) -> None:
    gateway = gateway_factory(fixtures=(AGENT_FIXTURES,), strict=True)
    with pytest.raises(openai.NotFoundError):
        client(gateway).chat.completions.create(
            model="openai/gpt-4o",
            messages=[{"role": "user", "content": "What is the weather in paris?"}],
            tools=[WEATHER_TOOL],  # type: ignore[list-item]
        )
    page.goto(f"{gateway.url}/__mockgw/ui/#/calls/call-1")
    closest = page.locator("table.diff").first
    expect(closest.locator("caption")).to_contain_text("Closest: fixture “ask-for-weather”")
    expect(closest.locator("caption")).to_contain_text("1 key failed")
    row = closest.locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-key", "user")
    expect(row.locator("td.expected")).to_contain_text("weather in (?P<city>[A-Z][a-z]+)")
    expect(row.locator("td.actual")).to_contain_text("What is the weather in paris?")


def test_copy_as_curl_and_save_as_fixture_that_answers_the_same_request(
    page: Page, gateway_factory: Callable[..., MockGateway], tmp_path: Path
) -> None:
    recorded = gateway_factory()  # no fixtures: a generated answer, seeded
    messages = [{"role": "user", "content": "Summarise the plot of Hamlet"}]
    first = client(recorded).chat.completions.create(model="openai/gpt-4o", messages=messages)  # type: ignore[arg-type]
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"{recorded.url}/__mockgw/ui/#/calls/call-1")
    page.get_by_role("button", name="Copy as curl").click()
    expect(page.get_by_role("alert")).to_contain_text("curl command copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(f"curl -sS -X POST {recorded.url}/v1/chat/completions")
    assert '"Summarise the plot of Hamlet"' in copied and "$EDGEE_API_KEY" in copied
    with page.expect_download() as download:
        page.get_by_role("link", name="Save as fixture").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    document = yaml.safe_load(saved.read_text())
    assert document["fixtures"][0]["match"]["last_user_message"] == {"equals": "Summarise the plot of Hamlet"}

    replay = gateway_factory(fixtures=(str(saved),), strict=True, seed=99)
    again = client(replay).chat.completions.create(model="openai/gpt-4o", messages=messages)  # type: ignore[arg-type]
    assert again.choices[0].message.content == first.choices[0].message.content
    assert handle_on(replay).calls[0].fixture == "saved-call-1"
    with pytest.raises(openai.NotFoundError):  # and only that request
        client(replay).chat.completions.create(
            model="openai/gpt-4o", messages=[{"role": "user", "content": "Summarise Macbeth"}]
        )


def _held_request(gateway: MockGateway) -> tuple[threading.Thread, list[str]]:
    answers: list[str] = []
    thread = threading.Thread(target=lambda: answers.append(ask(gateway, "wait for me")), daemon=True)
    thread.start()
    assert len(handle_on(gateway).control("GET", "/holds?wait_for=1&timeout=10")["held"]) == 1
    return thread, answers


@pytest.mark.parametrize("write", [True, False], ids=["write-mode", "read-only"])
def test_a_hold_is_released_from_the_page_only_in_write_mode(
    page: Page, gateway_factory: Callable[..., MockGateway], tmp_path: Path, write: bool
) -> None:
    (tmp_path / "hello.yaml").write_text(HELLO)
    gateway = gateway_factory(fixtures=(str(tmp_path / "hello.yaml"),), ui_write=write)
    thread, answers = _held_request(gateway)
    open_inspector(page, gateway, "holds")
    button = page.get_by_role("button", name="Release held-1")
    button.click(force=not write)  # read-only: marked aria-disabled, but a click still asks (and is refused)
    if write:
        thread.join(10)
        assert answers == ["Released at last"]
        expect(page.get_by_role("alert")).to_contain_text("held-1 released")
        expect(page.get_by_text("No answer is held")).to_be_visible()
    else:
        expect(button).to_have_attribute("aria-disabled", "true")
        expect(page.get_by_role("alert")).to_contain_text("The inspector is read-only")
        assert len(handle_on(gateway).control("GET", "/holds")["held"]) == 1 and not answers
        # the server refuses it too, whoever asks
        status = page.evaluate(
            """async () => (await fetch("api/release", {method: "POST", headers: {"Content-Type": "application/json"},
                body: JSON.stringify({id: "held-1"})})).status"""
        )
        assert status == 403
        handle_on(gateway).control("POST", "/release")
        thread.join(10)
        assert answers == ["Released at last"]


def test_ten_thousand_calls_first_screen(
    page: Page, gateway_factory: Callable[..., MockGateway], record_property: Callable[[str, object], None]
) -> None:
    gateway = gateway_factory(journal_limit=20_000)
    ask(gateway, "one real call first")
    gateway.run_in_loop(lambda: fill_journal(gateway, 10_000))
    page.goto(f"{gateway.url}/__mockgw/ui/#/calls")
    rows = page.locator("#rows tr")
    expect(rows).to_have_count(100)
    expect(page.locator("#count")).to_contain_text("Showing 1–100 of 10,001 matching calls")
    first_screen_ms = int(page.evaluate("document.body.dataset.firstScreenMs"))
    record_property("first_screen_ms_10k", first_screen_ms)
    print(f"\ninspector first screen with 10,001 kept calls: {first_screen_ms} ms")
    expect(rows.first).to_have_attribute("data-id", "call-10001")  # newest first
    page.get_by_role("button", name="Older").click()
    expect(page.locator("#count")).to_contain_text("Showing 101–200 of 10,001")
    page.get_by_label("Fault", exact=True).fill("reset")
    expect(page.locator("#count")).to_contain_text("of 1,000 matching calls")


def fill_journal(gateway: MockGateway, count: int) -> None:
    """`count` calls recorded as if received (a tenth of them reset by a fault), straight into the journal."""
    from mockgw.journal.calls import Call

    journal = gateway.state.journal
    for number in range(2, count + 2):
        faulted = number % 10 == 0
        call = Call(
            id=f"call-{number}",
            time=f"2026-01-01T12:{number // 600 % 60:02d}:{number // 10 % 60:02d}.{number % 1000:03d}+00:00",
            method="POST",
            path="/v1/chat/completions",
            headers={"authorization": "Bearer [redacted]", "content-type": "application/json"},
            body={"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": f"question {number}"}]},
            tags=(),
            model="openai/gpt-4o-mini",
            fixture=None if faulted else "greeting",
            status=200,
            duration_ms=1.5,
            response={"finish_reason": "stop", "content": "Hi", "tool_calls": [], "usage": {}},
            session=f"session-{number % 8}",
            fault="reset" if faulted else None,
        )
        journal.append(call, 200)


def test_the_pages_have_no_serious_accessibility_violation(
    page: Page, gateway_factory: Callable[..., MockGateway], tmp_path: Path
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    (tmp_path / "hello.yaml").write_text(HELLO)
    gateway = gateway_factory(fixtures=(AGENT_FIXTURES, str(tmp_path / "hello.yaml")), strict=True)
    _agent_loop(gateway)
    with pytest.raises(openai.NotFoundError):
        ask(gateway, "nobody answers this")
    axe = Axe()
    found = {}
    for view, ready in (
        ("calls", "#rows tr"),
        ("calls/call-2", ".chat"),
        ("calls/call-3", "table.diff"),
        ("fixtures", "table"),
        ("faults", "h2"),
        ("scenarios", "table"),
        ("holds", "h2"),
    ):
        page.goto(f"{gateway.url}/__mockgw/ui/#/{view}")
        page.wait_for_selector(ready)
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            results = axe.run(page)
            serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
            found[f"{view} ({scheme})"] = [
                f"{v['id']}: {v['help']} ({[n['target'] for n in v['nodes']][:3]})" for v in serious
            ]
    assert not any(found.values()), json.dumps(found, indent=1)


def test_the_inspector_refuses_actions_unless_in_write_mode_and_as_json(
    hello_gateway: MockGateway, gateway_factory: Callable[..., MockGateway]
) -> None:
    refused = request(hello_gateway.port, "POST", "/__mockgw/ui/api/reset", {"session": ""}, key=None)
    assert refused.status == 403
    assert "--ui-write" in refused.json()["error"]["message"]
