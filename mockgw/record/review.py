"""What `mockgw check` adds for recordings: the secret scan (an error) and replies whose editable fields no longer
say what their `recorded:` section sends (a warning: the recording is what is replayed)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any

from mockgw.fixtures.recorded import RecordedEvent
from mockgw.record.derive import derive_reply
from mockgw.record.secrets import scan

COMPARED = ("content", "tool_calls", "finish_reason", "error")


def _normal(key: str, value: Any) -> Any:
    if key == "tool_calls" and isinstance(value, list):
        calls = []
        for call in value:
            arguments = call.get("arguments", {})
            if isinstance(arguments, str):
                with contextlib.suppress(json.JSONDecodeError):
                    arguments = json.loads(arguments)
            calls.append((call.get("name"), json.dumps(arguments, sort_keys=True)))
        return calls
    if key == "error" and isinstance(value, Mapping):
        return value.get("status")
    return value


def disagreements(reply: Mapping[str, Any], endpoint: str) -> list[str]:
    """The reply fields that differ from what its recording sends."""
    recorded = reply.get("recorded")
    if not isinstance(recorded, Mapping):
        return []
    events = recorded.get("events")
    derived = derive_reply(
        endpoint,
        int(recorded.get("status", 200)),
        {str(k).lower(): str(v) for k, v in (recorded.get("headers") or {}).items()},
        recorded["body"].encode() if isinstance(recorded.get("body"), str) else None,
        tuple(RecordedEvent(float(e["ms"]), str(e["data"]).encode()) for e in events) if events is not None else None,
    )
    found = []
    for key in COMPARED:
        if key not in reply and key not in derived:
            continue
        if key not in reply:  # a field left out is derived or generated: only a stated one can disagree
            continue
        if _normal(key, reply.get(key)) != _normal(key, derived.get(key)):
            found.append(f"{key}: reply says {reply.get(key)!r}, the recording sends {derived.get(key)!r}")
    return found


def review(document: Any, source: str) -> tuple[list[str], list[str]]:
    """(errors, warnings) for a fixture file's document."""
    errors = [f"{source}: key-shaped value at {finding}" for finding in scan(document)]
    warnings: list[str] = []
    fixtures = document.get("fixtures") if isinstance(document, Mapping) else None
    for fixture in fixtures or []:
        if not isinstance(fixture, Mapping):
            continue
        endpoint = str((fixture.get("match") or {}).get("endpoint", "chat"))
        replies = fixture.get("replies") or [fixture.get("reply") or {}]
        for index, reply in enumerate(replies):
            where = f"replies[{index}]" if "replies" in fixture else "reply"
            for problem in disagreements(reply, endpoint):
                warnings.append(
                    f"{source}: fixture '{fixture.get('name')}' {where}: {problem} "
                    "(the recording is what is replayed; delete `recorded:` to answer with the reply fields)"
                )
    return errors, warnings
