"""The `debug` object `enable_debug: true` or `X-Edgee-Debug: true` adds to an answer.

The docs only promise "additional debugging information"; mockgw sends what explains its own decisions, with
deterministic values only (no wall-clock timings), so a test can compare it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEBUG_HEADER = "x-edgee-debug"
TRUE_WORDS = ("true", "1", "yes", "on")


def wanted(body: Mapping[str, Any], headers: Mapping[str, str]) -> bool:
    """Debug asked for by the body (`enable_debug: true`) or the header (`X-Edgee-Debug: true`)."""
    return body.get("enable_debug") is True or (headers.get(DEBUG_HEADER) or "").strip().lower() in TRUE_WORDS


def payload(
    *,
    fixture: str | None,
    provider: str,
    model: str,
    key: str,
    route: Mapping[str, Any],
    timings: Mapping[str, float],
    compression: Mapping[str, Any] | None,
    edgee_tools: Mapping[str, Any],
) -> dict[str, Any]:
    """The debug object (documented in docs/edgee-features.md)."""
    return {
        "fixture": fixture,
        "provider": provider,
        "model": model,
        "key": key,
        "route": dict(route),
        "timings": dict(timings),
        "compression": dict(compression) if compression is not None else None,
        "edgee_tools": dict(edgee_tools),
    }


def key_id(key: str) -> str:
    """The key as dashboards show it: its last four characters only."""
    return f"…{key[-4:]}" if len(key) > 8 else "[redacted]"
