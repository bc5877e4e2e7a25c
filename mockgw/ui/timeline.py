"""A streamed answer's timeline: each event at its time, the fault marker where the fault struck, and the line
where the client stopped reading.

Times are the ones scheduled (the waits mockgw drew for this answer, from the start of the response), so the same
seed shows the same timeline; the journal's `delivered` record says how many events the client really received.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

PREVIEW = 400  # characters of an event's data shown in the timeline

# Where each stream fault strikes: the event number field (1-based) and whether it strikes at or after that event.
STRIKES = {
    "cut": ("after_events", "after"),
    "stall": ("after_events", "after"),
    "cut_mid_event": ("at_event", "at"),
    "malformed": ("at_event", "at"),
    "error_event": ("at_event", "at"),
}

ENDINGS = {
    "close": "the connection was closed (FIN) before the stream ended",
    "reset": "the connection was reset (RST) before the stream ended",
    "client_disconnected": "the client disconnected",
    "server_stop": "the server stopped",
    "eof": "the stream ended",
}


def _name_and_data(text: str) -> tuple[str | None, str]:
    name, data = None, []
    for line in text.split("\n"):
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif line.startswith(":"):
            return None, line
    return name, "\n".join(data)


def gist(data: str) -> str | None:
    """What an event carries, in a few words: its text delta, tool-call piece or finish reason (None when not JSON)."""
    try:
        value = json.loads(data)
    except ValueError:
        return None
    if not isinstance(value, Mapping):
        return None
    pieces: list[str] = []
    for choice in value.get("choices") or ():  # chat completions
        delta = (choice or {}).get("delta") or {}
        if delta.get("content"):
            pieces.append(repr(delta["content"]))
        for call in delta.get("tool_calls") or ():
            function = call.get("function") or {}
            pieces.append(f"tool {function.get('name') or ''}{function.get('arguments') or ''}".strip())
        if (choice or {}).get("finish_reason"):
            pieces.append(f"finish_reason={choice['finish_reason']}")
    delta = value.get("delta")
    if isinstance(delta, Mapping):  # Anthropic
        text = delta.get("text") or delta.get("partial_json") or delta.get("stop_reason")
        if text:
            pieces.append(repr(text))
    elif isinstance(delta, str):  # Responses
        pieces.append(repr(delta))
    if "error" in value and isinstance(value["error"], Mapping):
        pieces.append(f"error {value['error'].get('code') or value['error'].get('type')}")
    if value.get("usage") and not pieces:
        pieces.append("usage")
    return " ".join(pieces) or None


def _describe(fault: Mapping[str, Any]) -> str:
    details = ", ".join(f"{k}={v}" for k, v in fault.items() if k not in ("type", "source"))
    source = f" from {fault['source']}" if fault.get("source") else ""
    return f"fault {fault.get('type')}{f' ({details})' if details else ''}{source}"


def timeline(call: Mapping[str, Any]) -> dict[str, Any] | None:
    """The timeline of a streamed answer (None for a JSON answer): `items` are events, a `fault` marker and a
    `stop` line ("client stopped here"), in order."""
    delivered = call.get("delivered") or {}
    stream = delivered.get("stream")
    if not isinstance(stream, Mapping):
        return None
    timing = delivered.get("timing") or {}
    fault = delivered.get("fault") if isinstance(delivered.get("fault"), Mapping) else None
    received = int(delivered.get("events") or 0)
    completed = bool(delivered.get("completed"))
    ending = str(delivered.get("ending") or stream.get("ending") or "eof")
    at = float(timing.get("delay_ms") or 0.0)
    items: list[dict[str, Any]] = []
    strike = None
    if fault is not None and fault.get("type") in STRIKES:
        key, where = STRIKES[str(fault["type"])]
        strike = (int(fault.get(key) or 0), where)
    fault_shown = False
    stop_shown = False

    def fault_marker() -> None:
        nonlocal fault_shown
        if fault is not None and not fault_shown:
            items.append({"kind": "fault", "at_ms": round(at, 3), "label": _describe(fault)})
            fault_shown = True

    def stop_line(why: str) -> None:
        nonlocal stop_shown
        if not stop_shown:
            items.append({"kind": "stop", "at_ms": round(at, 3), "label": f"client stopped here: {why}"})
            stop_shown = True

    if strike is not None and strike[0] == 0:
        fault_marker()
    for part in stream.get("parts") or ():
        at += float(part.get("wait_ms") or 0.0)
        number = int(part.get("event") or 0)
        if strike is not None and strike[1] == "at" and number == strike[0]:
            fault_marker()
        name, data = _name_and_data(str(part.get("data") or ""))
        items.append(
            {
                "kind": "event" if number else "comment",
                "number": number,
                "at_ms": round(at, 3),
                "name": name,
                "gist": gist(data),
                "data": data if len(data) <= PREVIEW else data[:PREVIEW] + "…",
                "received": number == 0 or number <= received,
            }
        )
        if strike is not None and strike[1] == "after" and number == strike[0]:
            fault_marker()
        if not completed and number and number == received:
            stop_line(ENDINGS.get(ending, ending))
    if not completed:
        if received == 0:
            items.insert(
                0,
                {
                    "kind": "stop",
                    "at_ms": 0.0,
                    "label": f"client stopped here: {ENDINGS.get(ending, ending)} before any event",
                },
            )
            stop_shown = True
        stop_line(ENDINGS.get(ending, ending))
    fault_marker()  # faults that change the whole stream (no_done, keepalive, latency...) are named at its end
    return {
        "items": items,
        "events_planned": int(stream.get("events") or 0),
        "events_received": received,
        "completed": completed,
        "ending": ending,
        "ending_text": ENDINGS.get(ending, ending),
    }
