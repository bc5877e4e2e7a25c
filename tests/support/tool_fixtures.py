"""The `get_weather` tool as the format tests script it: its parameters and a fixture calling it, then answering."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from mockgw.server.runner import MockGateway

# The JSON schema of the tool's arguments; each format wraps it in its own tool declaration.
WEATHER_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}

# A two-step tool conversation: the first request gets the call, the next one the answer.
TOOL_FIXTURES = """
version: 1
fixtures:
  - name: weather-then-answer
    match: {tools: [get_weather]}
    replies:
      - tool_calls: [{name: get_weather, arguments: {city: Paris}}]
      - content: "It is 22 C in Paris."
"""


def tool_gateway(gateway_factory: Callable[..., MockGateway], directory: Path) -> MockGateway:
    """A gateway whose only fixture is TOOL_FIXTURES, written as `tools.yaml` into `directory`."""
    (directory / "tools.yaml").write_text(TOOL_FIXTURES)
    return gateway_factory(fixtures=(str(directory),))
