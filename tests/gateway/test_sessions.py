"""Sessions are bounded: dropped when idle too long, or beyond a count, least recently used first (issue 11, item 4).

The clock is moved by hand; the gateway's own state is driven as the pipeline and the control endpoint drive it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from mockgw.gateway.config import Settings, read_config, settings_from
from mockgw.gateway.edge_tools import Pending
from mockgw.gateway.ratelimit import Limits
from mockgw.gateway.sessions import Sessions
from mockgw.gateway.state import PENDING_KEPT, GatewayState


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def state_with(clock: Clock, **changes: object) -> GatewayState:
    return GatewayState(replace(Settings(), **changes), clock=clock)


def test_beyond_the_limit_the_least_recently_used_session_is_dropped() -> None:
    clock = Clock()
    state = state_with(clock, session_limit=3)
    for name in ("a", "b", "c"):
        state.session(name).scenarios["flow"] = name
    state.session("a")  # used again: now "b" is the least recently used
    state.session("d")
    assert list(state.sessions) == ["c", "a", "d"]
    assert state.session("a").scenarios == {"flow": "a"}  # kept whole
    assert state.session("b").scenarios == {}  # dropped: it comes back fresh, as after a reset
    assert state.sessions.dropped == 2  # "b", then "c" to make room for "b" again


def test_a_session_idle_too_long_is_dropped_when_a_new_one_arrives() -> None:
    clock = Clock()
    state = state_with(clock, session_idle_s=60)
    state.session("old").problems.append("kept until idle")
    clock.now += 30
    state.session("recent")
    clock.now += 31  # "old" idle 61 s, "recent" 31 s
    state.session("new")
    assert list(state.sessions) == ["recent", "new"]


def test_a_session_in_use_is_never_idle() -> None:
    clock = Clock()
    state = state_with(clock, session_idle_s=60)
    for _ in range(10):  # used every 50 s for 500 s
        state.session("busy").uses["greeting"] = state.session("busy").uses.get("greeting", 0) + 1
        clock.now += 50
        state.session(f"other-{clock.now}")
    assert state.session("busy").uses == {"greeting": 10}


def test_idle_dropping_can_be_turned_off() -> None:
    clock = Clock()
    state = state_with(clock, session_idle_s=0)
    state.session("old")
    clock.now += 10**7
    state.session("new")
    assert list(state.sessions) == ["old", "new"]


def test_the_default_session_is_never_dropped() -> None:
    clock = Clock()
    state = state_with(clock, session_limit=2, session_idle_s=60)
    state.session("").problems.append("the developer's")
    clock.now += 3600
    for index in range(5):
        state.session(f"s{index}")
    assert "" in state.sessions and len(state.sessions) == 3  # the default one, and the 2 named ones allowed
    assert state.session("").problems == ["the developer's"]


def test_a_dropped_session_takes_its_rate_limit_windows_along() -> None:
    clock = Clock()
    state = state_with(clock, session_limit=1)
    limits = Limits(requests_per_minute=1)
    assert state.rate_limiter.admit("a", "sk", limits, 1) is None
    state.session("a")
    assert state.rate_limiter.admit("a", "sk", limits, 1) is not None  # its window is full
    state.session("b")  # "a" dropped
    assert "a" not in state.sessions
    assert state.rate_limiter.admit("a", "sk", limits, 1) is None


def test_reset_drops_the_session_state_and_resetting_all_drops_every_session() -> None:
    state = state_with(Clock())
    for name in ("", "a", "b"):
        state.session(name).problems.append(name)
    state.reset("a")
    assert list(state.sessions) == ["", "b"]
    state.reset()
    assert len(state.sessions) == 0
    assert state.session("b").problems == []


def test_pending_ids_of_one_session_are_bounded() -> None:
    session = state_with(Clock()).session("agent")
    for index in range(PENDING_KEPT + 10):
        session.keep_pending(f"edgee_pending_{index}", Pending((), ()))
        session.pending_used[f"used-{index}"] = None
    assert len(session.pending) == PENDING_KEPT
    assert "edgee_pending_0" not in session.pending and f"edgee_pending_{PENDING_KEPT + 9}" in session.pending
    assert len(session.pending_used) <= PENDING_KEPT + 1


def test_the_table_is_o1_per_use() -> None:
    """A new session per request for 100,000 requests: each drop is paid once, the table never grows past its limit."""
    clock = Clock()
    sessions: Sessions[dict[str, int]] = Sessions(dict, limit=100, idle_s=3600, clock=clock)
    for index in range(100_000):
        sessions.use(f"s{index}")["n"] = index
        clock.now += 0.001
    assert len(sessions) == 100
    assert sessions.dropped == 100_000 - 100


def test_the_config_file_sets_both_bounds(tmp_path: Path) -> None:
    path = tmp_path / "mockgw.yaml"
    path.write_text("session_limit: 50\nsession_idle_s: 1.5\n")
    settings = settings_from(read_config(path))
    assert (settings.session_limit, settings.session_idle_s) == (50, 1.5)
    assert (Settings().session_limit, Settings().session_idle_s) == (10_000, 3600.0)
