"""Conversation rules the real providers enforce across fields, as a pure check of the normalised Conversation.

Each rule returns the 400 a provider would send, with `param` at the message at fault (in the chat format's
`messages[i]` terms) and a message that says what to fix, or None.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from mockgw.core.conversation import Conversation
from mockgw.core.errors import ApiError, invalid_request

Rule = Callable[[Conversation], ApiError | None]


def tool_calls_answered(conv: Conversation) -> ApiError | None:
    """Every assistant tool call is answered by a `tool` message with its id before the next assistant/user turn."""
    pending: dict[str, tuple[int, int]] = {}  # call id -> (message index, call index)

    def unanswered() -> ApiError:
        call_id, (m_index, c_index) = next(iter(pending.items()))
        ids = ", ".join(repr(i) for i in pending)
        return invalid_request(
            f"An assistant message with 'tool_calls' must be followed by tool messages responding to each "
            f"'tool_call_id'. The following tool_call_ids did not have response messages: {ids}. "
            f"Send a message {{role: 'tool', tool_call_id: {call_id!r}, content: ...}} after messages[{m_index}].",
            f"messages[{m_index}].tool_calls[{c_index}].id",
        )

    for index, message in enumerate(conv.messages):
        if message.role in ("assistant", "user") and pending:
            return unanswered()
        if message.role == "tool":
            pending.pop(message.tool_call_id or "", None)
        if message.role != "assistant":
            continue  # only the model's calls await answers; the reference page's example puts some on a system message
        for c_index, call in enumerate(message.tool_calls):
            pending[call.id] = (index, c_index)
    return unanswered() if pending else None


def tool_call_ids_known(conv: Conversation) -> ApiError | None:
    """A `tool` message's `tool_call_id` names a tool call of an earlier assistant message."""
    seen: set[str] = set()
    for index, message in enumerate(conv.messages):
        if message.role == "tool" and message.tool_call_id not in seen:
            known = ", ".join(repr(i) for i in sorted(seen)) or "none"
            return invalid_request(
                f"Invalid parameter: messages with role 'tool' must be a response to a preceding message with "
                f"'tool_calls'. messages[{index}].tool_call_id is {message.tool_call_id!r}; the tool calls so far "
                f"are: {known}. Use the id of the call this message answers.",
                f"messages[{index}].tool_call_id",
            )
        seen.update(call.id for call in message.tool_calls)
    return None


def tool_choice_offered(conv: Conversation) -> ApiError | None:
    """`tool_choice` asks for tools only when tools are offered, and names one of them."""
    choice = conv.tool_choice
    if choice is None or choice.mode in ("auto", "none"):
        return None
    offered = [tool.name for tool in conv.tools]
    if not offered:
        return invalid_request(
            f"Invalid value for 'tool_choice': {choice.mode!r} is only allowed when 'tools' are specified. "
            "Offer the tools, or leave tool_choice out.",
            "tool_choice",
        )
    if choice.mode == "function" and choice.name not in offered:
        return invalid_request(
            f"Invalid value for 'tool_choice': tool {choice.name!r} is not among the tools offered "
            f"({', '.join(repr(n) for n in offered)}). Name an offered tool, or offer it in 'tools'.",
            "tool_choice",
        )
    return None


def tool_names_unique(conv: Conversation) -> ApiError | None:
    """No two offered tools share a name."""
    seen: dict[str, int] = {}
    for index, tool in enumerate(conv.tools):
        if tool.name in seen:
            return invalid_request(
                f"Invalid 'tools': the tool name {tool.name!r} is used by tools[{seen[tool.name]}] and "
                f"tools[{index}]. Tool names must be unique; rename or remove one.",
                f"tools[{index}].function.name",
            )
        seen[tool.name] = index
    return None


# The rules by the name config uses (`conversation_rules: {name: false}`), in the order they are checked.
RULES: dict[str, Rule] = {
    "tool_call_ids_known": tool_call_ids_known,  # first: a wrong id is the fault, not the call it leaves unanswered
    "tool_calls_answered": tool_calls_answered,
    "tool_choice_offered": tool_choice_offered,
    "tool_names_unique": tool_names_unique,
}
RULE_NAMES: tuple[str, ...] = tuple(RULES)


def check(conv: Conversation, enabled: Collection[str] = RULE_NAMES) -> ApiError | None:
    """The first violation of the enabled rules, or None."""
    if _no_tools(conv):  # every rule is about tools: most requests have none, and pass them all
        return None
    for name, rule in RULES.items():
        if name in enabled:
            error = rule(conv)
            if error is not None:
                return error
    return None


def _no_tools(conv: Conversation) -> bool:
    choice = conv.tool_choice
    if conv.tools or (choice is not None and choice.mode not in ("auto", "none")):
        return False
    for message in conv.messages:  # noqa: SIM110 - a loop, not all() over a generator: on every request
        if message.tool_calls or message.role == "tool":
            return False
    return True
