"""What a test should fail on, decided per request: the server keeps it in the session's problems.

`GET /__mockgw/problems` is the single truth for "should this test fail": the pytest plugin reads it and adds
nothing of its own, so a CI job in any language that checks it sees the same verdict.
"""

from __future__ import annotations

from mockgw.core.errors import ApiError
from mockgw.gateway.bodies import journal_body
from mockgw.gateway.outcome import Outcome, RawRequest
from mockgw.journal.calls import UNMATCHED_CODE, describe_request


def request_problem(raw: RawRequest, outcome: Outcome) -> str | None:
    """The problem an answered request is, if any: unmatched in strict mode, or refused with 400 (invalid against
    the API schema, or breaking a conversation rule) when no fixture or fault rule scripted that answer."""
    error = outcome.error
    if error is None or outcome.fixture is not None or outcome.delivery.fault is not None:
        return None
    if error.code == UNMATCHED_CODE:
        kind = "unmatched request in strict mode"
    elif error.status == 400:
        kind = "request refused with 400"
    else:
        return None
    return f"{kind}: {_describe(raw, outcome, error)}\n    {error.message}"


def _describe(raw: RawRequest, outcome: Outcome, error: ApiError) -> str:
    conv = outcome.conversation
    model = conv.model if conv else None
    if model is None:
        parsed = outcome.parsed if outcome.parsed is not None else journal_body(raw)
        model = parsed.get("model") if isinstance(parsed, dict) and isinstance(parsed.get("model"), str) else None
    return describe_request(
        raw.method,
        raw.path,
        error.status,
        model=model,
        last_user_message=conv.last_user_message if conv else None,
        error_code=error.code,
    )
