"""The format-neutral request: what every wire dialect parses into and every matcher reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from typing import Any

from mockgw.core.frozen import frozen


@frozen
class ToolCall:
    """A call of a function tool; `arguments` is the JSON text as sent or to be sent."""

    id: str
    name: str
    arguments: str


@frozen
class Message:
    """One turn of the conversation. `text` is the text content flattened ("" when there is none)."""

    role: str  # system | developer | user | assistant | tool
    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None


@frozen
class Tool:
    """A function tool offered to the model."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = field(default_factory=dict)


@frozen
class ToolChoice:
    """`mode` is auto, none, required or function; `name` is set for function."""

    mode: str
    name: str | None = None


@frozen
class Conversation:
    """A request to a model, whatever the wire format it came in."""

    endpoint: str  # chat | messages | responses
    model: str  # as the client wrote it
    messages: tuple[Message, ...]
    tools: tuple[Tool, ...] = ()
    tool_choice: ToolChoice | None = None
    stream: bool = False
    include_usage: bool = False
    max_tokens: int | None = None
    tags: tuple[str, ...] = ()
    response_format: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)  # looked up by lower-case name, any case matches
    body: Mapping[str, Any] = field(default_factory=dict)
    # Edge Tools whose results the gateway put into `messages` (run inline, or injected from a pending id)
    edgee_tools_executed: tuple[str, ...] = ()

    @property
    def system(self) -> str:
        """The system and developer instructions, joined by blank lines."""
        return "\n\n".join(m.text for m in self.messages if m.role in ("system", "developer"))

    @property
    def last_user_message(self) -> str | None:
        for message in reversed(self.messages):
            if message.role == "user":
                return message.text
        return None

    @property
    def turn(self) -> int:
        """How many assistant turns the conversation already has (0 for a fresh one)."""
        return sum(1 for m in self.messages if m.role == "assistant")

    @property
    def last_tool_result(self) -> Message | None:
        """The last message when it is a tool result."""
        if self.messages and self.messages[-1].role == "tool":
            return self.messages[-1]
        return None

    def tool_call_named(self, call_id: str | None) -> ToolCall | None:
        """The assistant tool call with this id, if the conversation has one."""
        for message in self.messages:
            for call in message.tool_calls:
                if call.id == call_id:
                    return call
        return None
