"""The live call list: which calls a filter keeps (through the journal's own filters), newest first, a page at a time.

Ten thousand kept calls stay fast because only the page asked for is turned into rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mockgw.core.frozen import frozen
from mockgw.journal.calls import Call, CallFilter

UNMATCHED_CODE = "no_matching_fixture"  # strict mode's 404 for a request no fixture matched
PAGE_SIZE = 100
MAX_PAGE = 500
NO_STATUS = "none"  # `status=none`: the calls that got no answer (the connection was cut first)

# The endpoints a person filters by, in the order the page offers them.
ENDPOINTS = (
    "/v1/chat/completions",
    "/v1/messages",
    "/v1/responses",
    "/v1/models",
    "/v1/messages/count_tokens",
    "/v1/count_tokens",
    "/v1/compress",
)


def error_code(response: Any) -> str | None:
    """The `error.code` of a call's response summary, if it was an error."""
    error = response.get("error") if isinstance(response, Mapping) else None
    code = error.get("code") if isinstance(error, Mapping) else None
    return code if isinstance(code, str) else None


def is_unmatched(method: str, body: Any, fixture: str | None, status: int | None, response: Any) -> bool:
    """A model request that no fixture answered: a generated answer, or strict mode's 404."""
    return (
        method == "POST"
        and isinstance(body, Mapping)
        and "model" in body
        and fixture is None
        and (status == 200 or error_code(response) == UNMATCHED_CODE)
    )


def _status_of(call: Any) -> int | None:
    status = getattr(call, "status", None)
    return status if isinstance(status, int) else None


@frozen
class ListQuery:
    """The list's filters (None: any) and the page asked for; `status` is a code, a class (`4xx`) or `none`."""

    session: str | None = None
    endpoint: str | None = None
    status: str | None = None
    fixture: str | None = None
    fault: str | None = None
    model: str | None = None
    unmatched: bool = False
    offset: int = 0
    limit: int = PAGE_SIZE

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> ListQuery:
        """From URL query parameters; raises ValueError naming the parameter that is wrong."""

        def text(name: str) -> str | None:
            value = query.get(name, "").strip()
            return value or None

        status = text("status")
        if status is not None and not (
            status.isdigit()
            or status.lower() == NO_STATUS
            or (len(status) == 3 and status[0].isdigit() and status[1:].lower() == "xx")
        ):
            raise ValueError(f"status must be a code (404), a class (4xx) or '{NO_STATUS}', got {status!r}")
        numbers = {}
        for name, default in (("offset", 0), ("limit", PAGE_SIZE)):
            raw = text(name)
            try:
                numbers[name] = default if raw is None else int(raw)
            except ValueError:
                raise ValueError(f"{name} must be an integer, got {raw!r}") from None
        if numbers["offset"] < 0 or not 1 <= numbers["limit"] <= MAX_PAGE:
            raise ValueError(f"offset must be 0 or more and limit between 1 and {MAX_PAGE}")
        return cls(
            session=query.get("session") if "session" in query and query.get("session") != "*" else None,
            endpoint=text("endpoint"),
            status=status.lower() if status else None,
            fixture=text("fixture"),
            fault=text("fault"),
            model=text("model"),
            unmatched=query.get("unmatched", "") in ("1", "true", "on", "yes"),
            offset=numbers["offset"],
            limit=numbers["limit"],
        )

    def call_filter(self) -> CallFilter:
        """The part the journal's own filter does (session, endpoint, model, fixture, an exact status)."""
        exact = int(self.status) if self.status is not None and self.status.isdigit() else None
        return CallFilter(
            path=self.endpoint, model=self.model, fixture=self.fixture, status=exact, session=self.session
        )

    def accepts_rest(self, call: Call) -> bool:
        """The filters the journal has no key for: fault, unmatched, `none` and status classes."""
        status = _status_of(call)
        if self.status == NO_STATUS and status is not None:
            return False
        if (
            self.status is not None
            and self.status.endswith("xx")
            and (status is None or str(status)[0] != self.status[0])
        ):
            return False
        if self.fault is not None and getattr(call, "fault", None) != self.fault:
            return False
        return not self.unmatched or is_unmatched(
            call.method, call.body, call.fixture, status, getattr(call, "response", None)
        )

    def accepts(self, call: Call) -> bool:
        """Every filter (for calls pushed live, one at a time)."""
        return self.call_filter().accepts(call) and self.accepts_rest(call)


def select(calls: Iterable[Call], query: ListQuery) -> list[Call]:
    """The calls the query keeps (already narrowed by the journal's filter), oldest first."""
    return [call for call in calls if query.accepts_rest(call)]


def call_json(call: Call) -> dict[str, Any]:
    """A journal call as the control endpoint serves it (`to_json` once the journal model has it)."""
    to_json = getattr(call, "to_json", None) or call.as_json
    data: dict[str, Any] = to_json()
    return data


def last_user_text(call: Mapping[str, Any]) -> str | None:
    """The text of the request's last user message (the journal's field, else read from the body)."""
    if "last_user_message" in call:
        value = call.get("last_user_message")
        return value if isinstance(value, str) else None
    from mockgw.ui.conversation import request_turns

    users = [turn["text"] for turn in request_turns(call) if turn["role"] == "user"]
    return users[-1] if users else None


def row(call: Mapping[str, Any]) -> dict[str, Any]:
    """One line of the call list."""
    status = call.get("status")
    text = last_user_text(call)
    return {
        "id": call.get("id"),
        "time": call.get("time"),
        "session": call.get("session") or "",
        "method": call.get("method"),
        "endpoint": call.get("path"),
        "model": call.get("model"),
        "status": status,
        "ending": call.get("ending") or (call.get("delivered") or {}).get("ending"),
        "fixture": call.get("fixture"),
        "fault": call.get("fault"),
        "duration_ms": call.get("duration_ms"),
        "unmatched": is_unmatched(
            str(call.get("method")), call.get("body"), call.get("fixture"), status, call.get("response")
        ),
        "text": None if text is None else (text[:120] + "…" if len(text) > 120 else text),
    }


def page(matched: Sequence[Call], query: ListQuery, kept: int) -> dict[str, Any]:
    """The page of rows asked for, newest first, with the counts the list shows."""
    end = len(matched) - query.offset
    start = max(0, end - query.limit)
    chosen = list(reversed(matched[start:end])) if end > 0 else []
    return {
        "rows": [row(call_json(call)) for call in chosen],
        "matched": len(matched),
        "kept": kept,
        "offset": query.offset,
        "limit": query.limit,
    }
