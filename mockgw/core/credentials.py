"""The headers that carry credentials: their values are never shown (journal, near misses, 404 messages)."""

from __future__ import annotations

CREDENTIAL_HEADERS = frozenset(
    (
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "x-edgee-api-key",
        "api-key",
        "anthropic-api-key",
        "openai-api-key",
        "cookie",
        "set-cookie",
        "x-auth-token",
        "x-goog-api-key",
    )
)
REDACTED = "[redacted]"


def is_credential(name: str) -> bool:
    """Whether header `name` (any case) carries a credential."""
    return name.lower() in CREDENTIAL_HEADERS
