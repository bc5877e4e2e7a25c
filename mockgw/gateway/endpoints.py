"""The endpoints that call no model: token counting and compression, as pure functions of the request body.

Both count with the one tokenizer through `replies.prompt_tokens`, so a count equals the `usage` prompt tokens
the same request would report on its completion endpoint.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from mockgw.answers import build as replies
from mockgw.core.conversation import Conversation
from mockgw.core.errors import ApiError, invalid_request
from mockgw.dialects.chat import chat_conversation
from mockgw.dialects.messages import MESSAGES, parse_messages_body
from mockgw.dialects.responses import RESPONSES
from mockgw.gateway import compression
from mockgw.gateway.catalog import Resolved

TOKENIZERS = ("cl100k_base", "o200k_base")
ANTHROPIC_BLOCKS = ("tool_use", "tool_result", "image", "document", "thinking")


def refuse_stream(conv: Conversation, resolved: Resolved) -> ApiError | None:
    """The Messages API streams only from Anthropic: 400 streaming_not_supported for any other provider."""
    if conv.endpoint == MESSAGES.endpoint and conv.stream and resolved.provider != "anthropic":
        return invalid_request(
            "Streaming for Messages API is only supported when the model uses the Anthropic provider",
            "stream",
            code="streaming_not_supported",
        )
    return None


def _anthropic_shaped(body: Mapping[str, Any]) -> bool:
    """The count_tokens auto-detection: a `system` field or an Anthropic-only content block."""
    if "system" in body:
        return True
    messages = body.get("messages")
    for message in messages if isinstance(messages, list) else ():
        content = message.get("content") if isinstance(message, Mapping) else None
        if isinstance(content, list) and any(
            isinstance(b, Mapping) and b.get("type") in ANTHROPIC_BLOCKS for b in content
        ):
            return True
    return False


def check_tokenizer(body: Mapping[str, Any]) -> ApiError | None:
    """400 invalid_tokenizer for a `tokenizer` other than the two documented ones (both count alike here)."""
    tokenizer = body.get("tokenizer")
    if tokenizer is not None and tokenizer not in TOKENIZERS:
        shown = json.dumps(tokenizer)[:60]
        return invalid_request(
            f"Invalid tokenizer {shown}. Use one of: {', '.join(TOKENIZERS)}, or omit it.",
            "tokenizer",
            code="invalid_tokenizer",
        )
    return None


def count_tokens(body: Mapping[str, Any], headers: Mapping[str, str]) -> dict[str, Any] | ApiError:
    """`POST /v1/count_tokens`: OpenAI or Anthropic messages (auto-detected) -> `{"input_tokens": n}`."""
    refused = check_tokenizer(body)
    if refused is not None:
        return refused
    if not isinstance(body.get("model"), str):
        return invalid_request("Missing required field 'model' (a string such as 'openai/gpt-5.2').", "model")
    if _anthropic_shaped(body):
        conv = parse_messages_body(body, headers, MESSAGES.endpoint)
    else:
        conv = chat_conversation(body, headers)
    return {"input_tokens": replies.prompt_tokens(conv)}


def count_message_tokens(body: Mapping[str, Any], headers: Mapping[str, str]) -> dict[str, Any] | ApiError:
    """`POST /v1/messages/count_tokens`: the `input_tokens` a `/v1/messages` call with this body would report."""
    if not isinstance(body.get("model"), str):
        return invalid_request("Missing required field 'model' (a string such as 'claude-sonnet-4.5').", "model")
    return {"input_tokens": replies.prompt_tokens(MESSAGES.parse(body, headers))}


detect_format = compression.detect_format  # kept here too: the endpoint's callers and tests import it from here


def compress(body: Mapping[str, Any], headers: Mapping[str, str]) -> dict[str, Any] | ApiError:
    """`POST /v1/compress`: the request compressed and a `compression` report, deterministically.

    The same `compression.compress` the model endpoints apply, so both report the same numbers."""
    settings = compression.read_settings(body, headers, default_on=True)
    if isinstance(settings, ApiError):
        return settings
    fmt = compression.detect_format(body)
    result = compression.compress(body, headers, fmt, PARSERS[fmt], settings)
    return {**result.body, "compression": result.metadata()}


PARSERS: Mapping[str, Callable[[Mapping[str, Any], Mapping[str, str]], Conversation]] = {
    "messages": MESSAGES.parse,
    "responses": RESPONSES.parse,
    "chat": chat_conversation,
}
