"""`pytest --mockgw-record=...`: one cassette per test next to the tests; the default replays it offline."""

from __future__ import annotations

import pytest
import yaml

from tests.plugin.test_plugin import CHAT, run
from tests.record.foreign import ForeignGateway

pytest_plugins = ["pytester"]

TESTS = """
from chat import ask

def test_greets(mockgw):
    assert ask("hello there") == "Bonjour from the foreign gateway"

def test_twice(mockgw):
    assert ask("again please") == ask("again please") == "Bonjour from the foreign gateway"
"""


def test_record_once_then_replay_with_the_upstream_gone(pytester: pytest.Pytester, foreign: ForeignGateway) -> None:
    pytester.makepyfile(chat=CHAT)
    pytester.syspathinsert()
    pytester.makepyfile(test_agent=TESTS)
    recorded = run(pytester, "--mockgw-record=once", f"--mockgw-upstream={foreign.url}")
    recorded.assert_outcomes(passed=2)
    calls = len(foreign.seen)
    assert calls == 3

    folder = pytester.path / "cassettes" / "test_agent"
    assert sorted(p.name for p in folder.iterdir()) == ["test_greets.yaml", "test_twice.yaml"]
    twice = yaml.safe_load((folder / "test_twice.yaml").read_text())
    assert [f["name"] for f in twice["fixtures"]] == ["chat-again-please"]
    assert len(twice["fixtures"][0]["replies"]) == 2

    again = run(pytester, "--mockgw-record=once", f"--mockgw-upstream={foreign.url}")  # once: no new recording
    again.assert_outcomes(passed=2)
    assert len(foreign.seen) == calls

    foreign.stop()
    replayed = run(pytester)  # the default, none: never touches the network, replays the cassettes
    replayed.assert_outcomes(passed=2)
