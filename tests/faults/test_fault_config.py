"""Fault rules and rate limits in the config file: checked at load, parsed into the gateway's state."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockgw.core.errors import ConfigError, FixtureError
from mockgw.faults.kinds.cut import Cut
from mockgw.gateway.config import read_config, settings_from
from mockgw.gateway.state import GatewayState


def test_config_rules_are_parsed_in_order(tmp_path: Path) -> None:
    path = tmp_path / "mockgw.yaml"
    path.write_text(
        "seed: 3\n"
        "rate_limit: {requests_per_minute: 10}\n"
        "faults:\n"
        "  - {name: outage, match: {model: 'anthropic/*'}, fault: {type: error, status: 502}, times: 2}\n"
        "  - {fault: {type: cut, after_events: 2}, probability: 0.1}\n"
    )
    state = GatewayState(settings_from(read_config(path)))
    assert [r.name for r in state.fault_rules("")] == ["outage", "rule-2"]
    assert state.fault_rules("")[1].fault == Cut(after_events=2)
    assert state.settings.rate_limit == {"requests_per_minute": 10}


@pytest.mark.parametrize(
    "rule",
    [
        "{fault: {type: cut}}",
        "{fault: {type: error, status: 200}}",
        "{fault: {type: reset}, every: 0}",
        "{match: {model: x}}",
    ],
)
def test_broken_config_rules_are_refused(tmp_path: Path, rule: str) -> None:
    path = tmp_path / "mockgw.yaml"
    path.write_text(f"faults:\n  - {rule}\n")
    with pytest.raises(ConfigError, match=r": faults\[0\]"):
        read_config(path)


def test_a_rule_given_in_settings_directly_is_checked_too() -> None:
    with pytest.raises(FixtureError, match="unknown fault type"):
        GatewayState(settings_from({"faults": [{"fault": {"type": "melt"}}]}))
