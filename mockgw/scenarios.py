"""Named scenarios: small state machines that fixtures read (`when_state`) and move (`set_state`). Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

from mockgw.fixtures import Fixture
from mockgw.matching import STARTED


def advance(states: MutableMapping[str, str], fixture: Fixture) -> None:
    """Move the fixture's scenario to its `set_state` (the fixture has just answered)."""
    if fixture.scenario is not None and fixture.set_state is not None:
        states[fixture.scenario] = fixture.set_state


def overview(fixtures: Iterable[Fixture], states: Mapping[str, str]) -> list[dict[str, Any]]:
    """Every scenario the fixtures name: its current state, the states it knows, and which fixtures can answer now."""
    by_name: dict[str, list[Fixture]] = {}
    for fixture in fixtures:
        if fixture.scenario is not None:
            by_name.setdefault(fixture.scenario, []).append(fixture)
    for name in states:
        by_name.setdefault(name, [])
    result = []
    for name, members in by_name.items():
        current = states.get(name, STARTED)
        known = [STARTED]
        for fixture in members:
            for state in (fixture.when_state, fixture.set_state):
                if state is not None and state not in known:
                    known.append(state)
        result.append(
            {
                "name": name,
                "state": current,
                "states": known,
                "fixtures": [f.name for f in members],
                "ready": [f.name for f in members if f.when_state in (None, current)],
            }
        )
    return result
