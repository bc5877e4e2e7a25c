"""Routes and call filters, as a test author uses them (issue 12, stumble 12): `add()` returns a route with
`.calls`, `.called` and `.call_count` (like respx), and `calls`/`assert_called` select by tags, by text of the
last user message, by a subset of the body and by session."""

from __future__ import annotations

import contextlib
import importlib

import openai  # noqa: F401  (imported once: pytester's in-process runs drop what they import)
import pytest

from tests.plugin.test_plugin import QUIET, chat  # noqa: F401  (the `chat` fixture)

for _core in ("httpcore", "httpcore2"):  # see test_plugin.py
    with contextlib.suppress(ImportError):
        importlib.import_module(_core)

pytest_plugins = ["pytester"]

ROUTES = """
import openai
import pytest
from chat import ask


def tagged(text, tags):
    openai.OpenAI(max_retries=0).chat.completions.create(
        model="openai/gpt-4o",
        messages=[{"role": "user", "content": text}],
        extra_headers={"x-edgee-tags": ",".join(tags)},
    )


def test_a_route_knows_its_calls(mockgw):
    porto = mockgw.add({"name": "porto", "match": {"last_user_message": "Porto"}, "reply": {"content": "sunny"}})
    lisbon = mockgw.add({"name": "lisbon", "match": {"last_user_message": "Lisbon"}, "reply": {"content": "windy"}})
    assert porto == ["porto"]  # still the list of names added
    assert ask("Weather in Porto?") == "sunny"
    assert ask("And Porto tomorrow?") == "sunny"
    assert (porto.called, porto.call_count, lisbon.called, lisbon.call_count) == (True, 2, False, 0)
    assert [c.last_user_message for c in porto.calls] == ["Weather in Porto?", "And Porto tomorrow?"]
    assert porto.calls(text="tomorrow")[0].fixture == "porto"


def test_calls_and_assert_called_filter_by_text_tags_and_body(mockgw):
    tagged("refund my order", ["billing", "agent"])
    tagged("hello", ["agent"])
    assert [c.last_user_message for c in mockgw.calls(tags="agent")] == ["refund my order", "hello"]
    assert [c.last_user_message for c in mockgw.calls(tags=["agent", "billing"])] == ["refund my order"]
    mockgw.assert_called(1, text="refund")
    mockgw.assert_called(2, body={"model": "openai/gpt-4o"})
    mockgw.assert_called(1, body={"messages": [{"content": "hello"}]})
    with pytest.raises(AssertionError) as failed:
        mockgw.assert_called(1, text="cancel", tags="billing")
    assert "mockgw expected 1 call with tags=['billing'], text='cancel', got 0." in str(failed.value)


def test_calls_of_another_session(mockgw):
    other = type(mockgw)(mockgw.server, "another-session")
    other.reset()
    openai.OpenAI(base_url=other.url, max_retries=0).chat.completions.create(
        model="openai/gpt-4o", messages=[{"role": "user", "content": "from elsewhere"}]
    )
    assert mockgw.calls == []
    assert [c.session for c in mockgw.calls(session="another-session")] == ["another-session"]
    mockgw.assert_called(1, session="another-session", text="elsewhere")
    other.reset()
"""


def test_routes_and_filters(chat: pytest.Pytester) -> None:  # noqa: F811
    chat.makepyfile(test_routes=ROUTES)
    result = chat.runpytest_inprocess(*QUIET)
    result.assert_outcomes(passed=3)
