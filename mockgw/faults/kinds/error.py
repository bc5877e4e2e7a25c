"""`error`: an error answer (a fault rule's `{type: error}`, and a fixture's `reply.error` too)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import field
from typing import Any, ClassVar, Self

from mockgw.core.frozen import frozen
from mockgw.faults.kind import FaultKind, Scope
from mockgw.faults.kind import param as spec  # `param` is also a field of the error

_TEXT: dict[str, Any] = {"type": "string"}


@frozen
class ErrorFault(FaultKind):
    """An error answer (a fixture's `reply.error` or a fault rule's `{type: error}`): the gateway's envelope for
    `status`, missing fields taking the gateway's defaults, or a custom `body` (any content type, e.g. HTML)."""

    kind: ClassVar[str] = "error"
    scope: ClassVar[Scope] = "answer"
    description: ClassVar[str] = "the error answer; no fixture is consulted or used up"
    completes: ClassVar[bool] = True  # a whole (error) answer reaches the client
    status: int = field(metadata=spec({"type": "integer", "minimum": 400, "maximum": 599}))
    code: str | None = field(default=None, metadata=spec(_TEXT))
    message: str | None = field(default=None, metadata=spec(_TEXT))
    type: str | None = field(default=None, metadata=spec(_TEXT, wire="error_type"))
    param: str | None = field(default=None, metadata=spec({"type": ["string", "null"]}))
    retry_after: float | None = field(
        default=None,
        metadata=spec({"type": "number", "minimum": 0, "description": "Seconds, sent as the Retry-After header."}),
    )
    body: str | None = field(  # sent instead of the envelope (JSON objects are serialised at load)
        default=None,
        metadata=spec(
            {
                "type": ["string", "object", "array"],
                "description": "Send this body instead of the gateway's envelope (e.g. a proxy's HTML 502 page).",
            }
        ),
    )
    content_type: str | None = field(
        default=None,
        metadata=spec({"type": "string", "description": "Content-Type of a custom body (default JSON)."}),
    )

    @classmethod
    def from_spec(cls, raw: Mapping[str, Any]) -> Self:
        """A rule's `{type: error, ..., error_type}` (the error's own type is `error_type` there)."""
        return cls.from_reply({("type" if k == "error_type" else k): v for k, v in raw.items() if k != "type"})

    @classmethod
    def from_reply(cls, raw: Mapping[str, Any]) -> Self:
        """A fixture's `reply.error` (`{status, code?, message?, type?, ...}`)."""
        return cls(**error_fields(raw))


def error_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    """An error spec's fields with a JSON (object or array) `body` turned into text."""
    fields = dict(raw)
    if isinstance(fields.get("body"), Mapping | list):
        fields["body"] = json.dumps(fields["body"], separators=(",", ":"))
        fields.setdefault("content_type", "application/json")
    return fields


# A fixture's `reply.error`: the same parameters, the error's type under `type` (no fault `type` to clash with).
ERROR: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["status"],
    "description": "Answer with an error; with only a status, the gateway's own code, type and message for it.",
    "properties": {p.attr: dict(p.schema) for p in ErrorFault.params()},
}
