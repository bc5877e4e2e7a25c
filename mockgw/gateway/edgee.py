"""The gateway's own features on a model request: what the request asks for, and where the answer says what was done.

Reads `edgee_tool_ids` / `edgee_pending_id`, the compression fields and headers, and debug; refuses bad values
with the documented envelope. Adds `compression`, `edgee_tools_executed`, `edgee_pending_id` and `debug` to the
answer: top level of a JSON body; in a stream, the final chunk (chat), `message_delta` (messages) or the
`response` of `response.completed` (Responses), the places where a client reads the end of an answer.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from mockgw.core.codec import edit_json, event_data, event_name
from mockgw.core.errors import ApiError
from mockgw.core.frozen import frozen
from mockgw.gateway import compression, debug, edge_tools
from mockgw.gateway.auth import ApiKey
from mockgw.gateway.config import Settings

SESSION_HEADER = "x-edgee-session-id"


@frozen
class Features:
    """The gateway features one model request asks for."""

    edge_ids: tuple[str, ...] = ()  # Edge Tools offered to the model (`edgee_tool_ids`)
    active_ids: tuple[str, ...] = ()  # Edge Tools the key may run (a fixture calling one gets it run)
    pending_id: str | None = None  # the `edgee_pending_id` sent back (checked and taken)
    pending: edge_tools.Pending | None = None
    compression: compression.Settings = compression.OFF
    debug: bool = False

    def journal(self) -> dict[str, Any]:
        """What the journal records of the request's features (only what was asked)."""
        out: dict[str, Any] = {}
        if self.edge_ids:
            out["edgee_tool_ids"] = list(self.edge_ids)
        if self.pending_id:
            out["edgee_pending_id"] = self.pending_id
        if self.compression.enabled:
            out["compression"] = self.compression.as_json()
        if self.debug:
            out["debug"] = True
        return out


NONE = Features()


def active_tools(key: ApiKey, settings: Settings) -> tuple[str, ...]:
    """The Edge Tools a key may use: its own list in the key table, else the configured catalog."""
    return key.edgee_tool_ids if key.edgee_tool_ids is not None else settings.edgee_tools


def read(
    body: Mapping[str, Any],
    headers: Mapping[str, str],
    key: ApiKey,
    settings: Settings,
    pending: dict[str, edge_tools.Pending],
    used: Mapping[str, None],
) -> Features | ApiError:
    """The request's features, or the 400 that names what to fix (an unknown or used pending id among them)."""
    active = active_tools(key, settings)
    # nearly every request asks for none of them: what the reads below give, without a generator per check
    # (headers by `in`, which ignores case; the body's keys against a set)
    if _BODY_FIELDS.isdisjoint(body) and not any(map(headers.__contains__, _HEADERS)):
        return _nothing_asked(active)
    ids = edge_tools.requested_ids(body)
    refused = edge_tools.check_ids(ids, active)
    if refused is not None:
        return refused
    settings_or_error = compression.read_settings(body, headers)
    if isinstance(settings_or_error, ApiError):
        return settings_or_error
    pending_id = body.get("edgee_pending_id")
    stored: edge_tools.Pending | None = None
    if isinstance(pending_id, str) and pending_id:
        stored = pending.get(pending_id)  # taken when the request is answered (`take_pending`): a 429 can retry
        if stored is None:
            return edge_tools.unknown_pending(pending_id, pending_id in used)
    else:
        pending_id = None
    return Features(ids, active, pending_id, stored, settings_or_error, debug.wanted(body, headers))


# What a request may ask of the gateway's features, in its body or its headers (each read below).
_BODY_FIELDS = frozenset(("edgee_tool_ids", "edgee_pending_id", "enable_debug", *compression.BODY_FIELDS))
_HEADERS = (debug.DEBUG_HEADER, *compression.HEADERS)


@functools.lru_cache(maxsize=64)
def _nothing_asked(active: tuple[str, ...]) -> Features:
    return Features(active_ids=active)


def take_pending(features: Features, pending: dict[str, edge_tools.Pending], used: dict[str, None]) -> None:
    """The request's pending id is used up: answered once, a second use is a 400."""
    if features.pending_id is not None:
        pending.pop(features.pending_id, None)
        used[features.pending_id] = None  # an ordered set: the oldest go first past the session's cap


def add_to_body(rendered: dict[str, Any], extras: Mapping[str, Any]) -> dict[str, Any]:
    """A rendered JSON answer with the extra top-level fields."""
    if extras:
        rendered.update(extras)
    return rendered


def add_to_events(events: Sequence[bytes], endpoint: str, extras: Mapping[str, Any]) -> tuple[bytes, ...]:
    """A stream with the extra fields where each format ends its answer (see the module docstring)."""
    if not extras:
        return tuple(events)
    out = list(events)
    if endpoint == "chat":
        for index in range(len(out) - 1, -1, -1):
            data = event_data(out[index])
            if data is not None and data.startswith(b"{"):
                out[index] = edit_json(out[index], lambda chunk: {**chunk, **extras})
                break
    elif endpoint == "messages":
        out = [edit_json(e, lambda d: {**d, **extras}) if event_name(e) == "message_delta" else e for e in out]
    elif endpoint == "responses":
        out = [
            edit_json(e, lambda d: {**d, "response": {**d["response"], **extras}})
            if event_name(e) == "response.completed"
            else e
            for e in out
        ]
    return tuple(out)


def session_id(headers: Mapping[str, str]) -> str | None:
    """The Claude CLI session (`x-edgee-session-id`) a request belongs to."""
    return headers.get(SESSION_HEADER) or None
