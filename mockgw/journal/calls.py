"""The call journal: every API request received, matched or not, valid or not, as frozen records.

`Call` is the one model of a recorded call: the control endpoint serialises it (`to_json`), the handle and the
pytest plugin rebuild it (`Call.from_json`). Its conversation fields (`messages`, `last_user_message`, `tools`) are
taken from the Conversation the request's dialect parsed, never from a parser of their own.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import field
from typing import Any

from mockgw.core.conversation import Conversation, Message
from mockgw.core.frozen import frozen
from mockgw.core.reply import Reply

UNMATCHED_CODE = "no_matching_fixture"  # strict mode's 404 for a request no fixture matched


def reply_summary(reply: Reply) -> dict[str, Any]:
    """What the journal shows of a reply (its `response`)."""
    return {
        "finish_reason": reply.finish_reason,
        "content": (reply.content or "")[:200],
        "tool_calls": [c.name for c in reply.tool_calls],
        "usage": {"prompt_tokens": reply.usage.prompt_tokens, "completion_tokens": reply.usage.completion_tokens},
        **({"warnings": list(reply.warnings)} if reply.warnings else {}),
    }


def message_json(message: Message) -> dict[str, Any]:
    """One message of the conversation, whatever its wire format: role and content (the text), and its tool
    calls, tool call id and name when it has them (the chat-completions shape, flattened)."""
    data: dict[str, Any] = {"role": message.role, "content": message.text}
    if message.tool_calls:
        data["tool_calls"] = [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in message.tool_calls]
    if message.tool_call_id is not None:
        data["tool_call_id"] = message.tool_call_id
    if message.name is not None:
        data["name"] = message.name
    return data


def contains(actual: Any, expected: Any) -> bool:
    """`expected` is a subset of `actual`: objects by their keys (extra keys allowed, recursively), lists
    element by element (same length), anything else equal."""
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            key in actual and contains(actual[key], value) for key, value in expected.items()
        )
    if isinstance(expected, list | tuple):
        return (
            isinstance(actual, list | tuple)
            and len(actual) == len(expected)
            and all(contains(a, e) for a, e in zip(actual, expected, strict=True))
        )
    return bool(actual == expected)


def describe_request(
    method: str,
    path: str,
    status: int | None,
    *,
    model: str | None = None,
    last_user_message: str | None = None,
    fault: str | None = None,
    fixture: str | None = None,
    error_code: str | None = None,
    ending: str = "eof",
    model_request: bool = False,
) -> str:
    """One line: method, path, model, last user message, and what answered (the shape of every report)."""
    parts = [f"{method} {path}"]
    if model:
        parts.append(f"model={model!r}")
    if last_user_message is not None:
        text = last_user_message
        parts.append(f"last user message={text[:60] + '...' if len(text) > 60 else text!r}")
    parts.append(f"-> {status}" if status is not None else f"-> no answer ({ending})")
    if fault:
        parts.append(f"fault={fault}")
    if fixture:
        parts.append(f"fixture={fixture!r}")
    elif error_code:
        parts.append(f"error={error_code}")
    elif model_request and status is not None:
        parts.append("no fixture (generated answer)")
    return " ".join(parts)


@frozen
class Call:
    """One request as the journal keeps it (credentials redacted).

    `status` is what the client received: None when no answer reached it (the connection was reset, closed or
    hung up, or the client left while the answer was held); `ending` says how the answer ended (`eof`, `close`,
    `reset`, `client_disconnected`, `server_stop`).
    """

    id: str
    time: str  # ISO 8601, UTC, when the request arrived
    method: str
    path: str
    status: int | None
    session: str = ""
    model: str | None = None
    fixture: str | None = None
    fault: str | None = None  # the kind of fault injected into this answer, if any
    tags: tuple[str, ...] = ()
    ending: str = "eof"
    duration_ms: float = 0.0
    seed: int = 0
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None  # the parsed JSON, or the text when it was not JSON
    messages: tuple[Mapping[str, Any], ...] = ()  # see message_json; () when the request was not parsed
    last_user_message: str | None = None
    tools: tuple[str, ...] = ()  # the names of the tools offered
    response: Mapping[str, Any] = field(default_factory=dict)  # a short summary of what was answered
    near_misses: tuple[Mapping[str, Any], ...] = ()
    # what went out: events/bytes sent, how it ended, the waits drawn, the fault's details and who asked for it
    delivered: Mapping[str, Any] = field(default_factory=dict)

    @staticmethod
    def conversation_fields(conversation: Conversation | None) -> dict[str, Any]:
        """The `messages`, `last_user_message` and `tools` of a call, from the Conversation its dialect parsed."""
        if conversation is None:
            return {}
        return {
            "messages": tuple(message_json(m) for m in conversation.messages),
            "last_user_message": conversation.last_user_message,
            "tools": tuple(t.name for t in conversation.tools),
        }

    def to_json(self) -> dict[str, Any]:
        """The call as `GET /__mockgw/calls` lists it."""
        return {
            "id": self.id,
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "ending": self.ending,
            "session": self.session,
            "model": self.model,
            "fixture": self.fixture,
            "fault": self.fault,
            "tags": list(self.tags),
            "duration_ms": self.duration_ms,
            "seed": self.seed,
            "headers": dict(self.headers),
            "body": self.body,
            "messages": [dict(m) for m in self.messages],
            "last_user_message": self.last_user_message,
            "tools": list(self.tools),
            "response": dict(self.response),
            "near_misses": list(self.near_misses),
            "delivered": dict(self.delivered),
        }

    as_json = to_json

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Call:
        """A call from its JSON (`GET /__mockgw/calls`, or a saved journal)."""
        status = data.get("status")
        return cls(
            id=str(data.get("id", "")),
            time=str(data.get("time", "")),
            method=data["method"],
            path=data["path"],
            status=None if status is None else int(status),
            session=data.get("session") or "",
            model=data.get("model"),
            fixture=data.get("fixture"),
            fault=data.get("fault"),
            tags=tuple(data.get("tags") or ()),
            ending=data.get("ending") or "eof",
            duration_ms=float(data.get("duration_ms") or 0.0),
            seed=int(data.get("seed") or 0),
            headers=dict(data.get("headers") or {}),
            body=data.get("body"),
            messages=tuple(data.get("messages") or ()),
            last_user_message=data.get("last_user_message"),
            tools=tuple(data.get("tools") or ()),
            response=dict(data.get("response") or {}),
            near_misses=tuple(data.get("near_misses") or ()),
            delivered=dict(data.get("delivered") or {}),
        )

    @property
    def error_code(self) -> str | None:
        """The `error.code` the gateway answered with, if it answered with an error."""
        error = self.response.get("error")
        return error.get("code") if isinstance(error, Mapping) else None

    @property
    def is_model_request(self) -> bool:
        """A request for a model answer (not a model listing): one that fixtures could match."""
        return self.method == "POST" and isinstance(self.body, Mapping) and "model" in self.body

    @property
    def unmatched(self) -> bool:
        """A model request that no fixture answered (generated text, or strict mode's 404)."""
        return (
            self.is_model_request and self.fixture is None and (self.status == 200 or self.error_code == UNMATCHED_CODE)
        )

    @property
    def refused(self) -> bool:
        """Refused as a bad request (400) that no fixture or fault scripted: the real gateway would refuse it too."""
        return self.status == 400 and self.fixture is None and self.fault is None

    def describe(self) -> str:
        """One line: method, path, model, last user message, and what answered."""
        return describe_request(
            self.method,
            self.path,
            self.status,
            model=self.model,
            last_user_message=self.last_user_message,
            fault=self.fault,
            fixture=self.fixture,
            error_code=self.error_code,
            ending=self.ending,
            model_request=self.is_model_request,
        )


NO_STATUS = "null"  # `?status=null`: the calls that got no answer


@frozen
class CallFilter:
    """What to select calls by; None (or empty) means any. Every condition given must hold."""

    path: str | None = None
    model: str | None = None
    fixture: str | None = None
    tags: tuple[str, ...] = ()  # every one of them
    status: int | str | None = None  # an HTTP status, or NO_STATUS for the calls that got no answer
    session: str | None = None
    text: str | None = None  # contained in the last user message
    body: Mapping[str, Any] | None = None  # a subset of the request body (see `contains`)
    limit: int | None = None
    edgee_session_id: str | None = None  # the `x-edgee-session-id` header (Claude CLI sessions on /v1/messages)

    def accepts(self, call: Call) -> bool:
        return (
            (self.path is None or call.path == self.path)
            and (self.model is None or call.model == self.model)
            and (self.fixture is None or call.fixture == self.fixture)
            and all(tag in call.tags for tag in self.tags)
            and (self.status is None or call.status == (None if self.status == NO_STATUS else self.status))
            and (self.session is None or call.session == self.session)
            and (self.text is None or (call.last_user_message is not None and self.text in call.last_user_message))
            and (self.body is None or contains(call.body, self.body))
            and (self.edgee_session_id is None or call.headers.get("x-edgee-session-id") == self.edgee_session_id)
        )

    def describe(self) -> str:
        """The conditions as `name=value` pairs, for assertion messages."""
        given = {
            "path": self.path,
            "model": self.model,
            "fixture": self.fixture,
            "tags": list(self.tags) or None,
            "status": self.status,
            "session": self.session,
            "text": self.text,
            "body": self.body,
            "edgee_session_id": self.edgee_session_id,
        }
        return ", ".join(f"{name}={value!r}" for name, value in given.items() if value is not None)

    def select(self, calls: Sequence[Call]) -> list[Call]:
        """The calls accepted, oldest first; the newest `limit` of them when there is a limit."""
        found = [call for call in calls if self.accepts(call)]
        return found[-self.limit :] if self.limit else found


class Entry:
    """One kept call, made from its facts when first read (then kept made), with what is known without making it."""

    __slots__ = ("item", "number", "session", "size")

    def __init__(self, number: int, session: str, size: int, item: Call | Callable[[], Call]) -> None:
        self.number = number  # its place in the journal since the server started (`call-<number>` on a server)
        self.session = session
        self.size = size
        self.item = item

    def call(self) -> Call:
        item = self.item
        if not isinstance(item, Call):
            item = self.item = item()
        return item


class Journal:
    """Calls oldest first, at most `limit` of them and about `max_bytes` of request and response bodies and
    headers (the oldest are dropped first; the newest call is always kept).

    A call can be appended as a function that makes it: the web layer records every request that way, so the
    formatting (time, redaction, dicts) is only paid for calls somebody reads, when they are first read. Reads
    select by session and place without making a call (`entries`), and make only what they look at: the newest
    `limit` calls cost `limit` calls, not the journal.
    """

    def __init__(self, limit: int, max_bytes: int = 64 * 1024 * 1024) -> None:
        self._entries: deque[Entry] = deque()
        self.limit = limit
        self.max_bytes = max_bytes
        self.bytes = 0
        self.total = 0

    def append(self, call: Call | Callable[[], Call], size: int = 0, session: str | None = None) -> None:
        """Keep `call` (of `session`; a made Call says its own), which holds about `size` bytes; drop the oldest
        calls over the bounds."""
        self.total += 1
        if session is None:
            session = call.session if isinstance(call, Call) else ""
        entries = self._entries
        entries.append(Entry(self.total, session, size, call))
        self.bytes += size
        while len(entries) > 1 and (len(entries) > self.limit or self.bytes > self.max_bytes):
            self.bytes -= entries.popleft().size

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self, session: str | None = None, after: int | None = None, before: int | None = None) -> list[Entry]:
        """The kept entries of `session` (None: every session) numbered after `after` and before `before`, oldest
        first: a snapshot (appends meanwhile do not change it), taken without making any call."""
        found = list(self._entries)
        if after is not None or before is not None:
            low = after if after is not None else 0
            high = before if before is not None else self.total + 1
            found = [e for e in found if low < e.number < high]
        if session is not None:
            found = [e for e in found if e.session == session]
        return found

    def calls(self) -> list[Call]:
        """Every call kept, oldest first (each made if it was not yet: prefer `query` or `entries`)."""
        return [entry.call() for entry in list(self._entries)]

    def __iter__(self) -> Iterator[Call]:
        return iter(self.calls())

    def query(self, where: CallFilter, after: int | None = None, before: int | None = None) -> list[Call]:
        """The calls `where` accepts (numbered after `after` and before `before`), oldest first; with a limit, only
        the newest calls are looked at."""
        entries = self.entries(where.session, after, before)
        if not where.limit:
            return [call for call in (entry.call() for entry in entries) if where.accepts(call)]
        found: list[Call] = []
        for entry in reversed(entries):
            call = entry.call()
            if where.accepts(call):
                found.append(call)
                if len(found) == where.limit:
                    break
        return found[::-1]

    def find(self, call_id: str) -> Call | None:
        """The kept call with this id (`call-<number>`), if any."""
        for entry in reversed(self._entries):
            if f"call-{entry.number}" == call_id or (isinstance(entry.item, Call) and entry.item.id == call_id):
                return entry.call()
        return None

    def session_counts(self) -> dict[str, int]:
        """Session -> how many of its calls are kept, in order of their first kept call (no call is made)."""
        counts: dict[str, int] = {}
        for entry in list(self._entries):
            counts[entry.session] = counts.get(entry.session, 0) + 1
        return counts

    def since(self, total: int) -> list[Call]:
        """The calls still kept among those appended after the journal's `total` was `total`, oldest first."""
        return [entry.call() for entry in self.entries(after=total)]

    def clear(self, session: str | None = None) -> None:
        """Forget every call (of one session): nothing of them is kept alive, not even an index."""
        if session is None:
            self._entries.clear()
            self.bytes = 0
            return
        kept = [entry for entry in self._entries if entry.session != session]
        self._entries.clear()
        self._entries.extend(kept)
        self.bytes = sum(entry.size for entry in kept)


def request_line(call: Call) -> str:
    """One line for `--log-requests`: method, path, session, status (or how it ended), fixture, fault, duration."""
    status = str(call.status) if call.status is not None else f"- ({call.ending})"
    return (
        f"{call.method} {call.path} session={call.session or '-'} status={status} "
        f"fixture={call.fixture or '-'} fault={call.fault or '-'} {call.duration_ms:g} ms"
    )
