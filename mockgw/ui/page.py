"""A call's page: the request as the journal keeps it (credentials redacted), its conversation as a chat, the answer
(body or stream timeline), the near-miss diff when no fixture answered, and the exports."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mockgw.ui import export
from mockgw.ui.conversation import chat
from mockgw.ui.listing import row
from mockgw.ui.nearmiss import near_misses
from mockgw.ui.timeline import timeline


def _pretty(text: Any) -> str | None:
    """A body sent as JSON, indented; other text as it was."""
    if not isinstance(text, str):
        return None
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def call_page(call: Mapping[str, Any], base_url: str) -> dict[str, Any]:
    """Everything the call's page shows, ready to render."""
    delivered = call.get("delivered") or {}
    body = call.get("body")
    return {
        "row": row(call),
        "request": {
            "method": call.get("method"),
            "path": call.get("path"),
            "headers": dict(call.get("headers") or {}),
            "body": body if isinstance(body, str) else json.dumps(body, indent=2, ensure_ascii=False),
            "tags": list(call.get("tags") or ()),
            "seed": call.get("seed"),
        },
        "chat": chat(call),
        "response": {
            "summary": call.get("response") or {},
            "body": _pretty(delivered.get("body")),
            "delivered": {k: v for k, v in delivered.items() if k not in ("body", "stream")},
        },
        "timeline": timeline(call),
        "near_misses": near_misses(call),
        "curl": export.curl(call, base_url),
        "fixture_yaml": export.fixture_yaml(call),
    }
