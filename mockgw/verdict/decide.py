"""Evidence -> verdict: a pure decision, with the call ids behind it and a sentence saying why.

Where several verdicts fit, the first in VERDICTS wins. A retry is a later call with the same request body as the
call the fault hit (SDK retries and re-asks send the same body; a fallback to another model or prompt does not).
"""

from __future__ import annotations

from collections.abc import Sequence

from mockgw.core.frozen import frozen
from mockgw.verdict.evidence import RATE_LIMIT_CODE, CallFacts, Evidence
from mockgw.verdict.matrix import RULE_PREFIX, Cell

VERDICTS = ("hung", "retry_abuse", "not_exercised", "accepted_partial", "failed_clean", "survived", "degraded")
# From best to worst, for --compare: a cell whose verdict moves right got worse.
RANKING = ("survived", "degraded", "failed_clean", "not_exercised", "accepted_partial", "retry_abuse", "hung")
ACCEPTS = {"survive": ("survived", "degraded"), "fail_fast": ("failed_clean",), "any": VERDICTS}
# Faults that leave the client a truncated or corrupted stream that can pass for a whole one.
TRUNCATING = ("cut", "cut_mid_event", "malformed", "no_done", "no_finish_reason")
# A retry this much earlier than Retry-After still counts as waiting (clocks, rounding of the journal's times).
RETRY_AFTER_SLACK = 0.9


@frozen
class Verdict:
    """What the client did under one cell: the verdict, why, and the journal's call ids behind it."""

    verdict: str
    reason: str
    calls: tuple[str, ...] = ()


def passes(expect: str, verdict: str) -> bool:
    """Whether a verdict meets a cell's `expect`."""
    return verdict in ACCEPTS[expect]


def fired_by(cell: Cell, call: CallFacts) -> bool:
    """Whether the cell's fault hit this call (its rule fired, or the rate limit refused it)."""
    if cell.rate_limit is not None:
        return call.status == 429 and call.error_code == RATE_LIMIT_CODE and call.fault is None
    return call.fault_source == f"rule '{RULE_PREFIX}{cell.name}'"


def _last_line(output: str, width: int = 160) -> str:
    """The command's last words (often the exception that ended it), shortened."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    return last if len(last) <= width else last[: width - 3] + "..."


def _ids(calls: Sequence[CallFacts]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c.id for c in calls))


def _abuse(cell: Cell, calls: Sequence[CallFacts], fired: Sequence[CallFacts]) -> Verdict | None:
    """Too many retries of one request, or a retry before the Retry-After the fault asked for."""
    for hit in fired:
        later = [c for c in calls if c.start > hit.start and c.request == hit.request]
        if not later:
            continue
        first_hit = next(c for c in fired if c.request == hit.request)
        retries = [c for c in calls if c.start > first_hit.start and c.request == hit.request]
        if len(retries) > cell.max_retries:
            return Verdict(
                "retry_abuse",
                f"{len(retries)} retries of one request after the fault (the cell allows {cell.max_retries})",
                _ids([first_hit, *retries]),
            )
        wait = hit.retry_after
        gap = later[0].start - hit.end
        if wait is not None and gap < wait * RETRY_AFTER_SLACK:
            return Verdict(
                "retry_abuse",
                f"retried {max(gap, 0):.2f} s after {hit.id} answered {hit.status} with Retry-After: {wait:g}",
                _ids([hit, later[0]]),
            )
    return None


def decide(cell: Cell, evidence: Evidence, timeout: float | None = None) -> Verdict:
    """The verdict of one run of the command under `cell`."""
    calls = evidence.calls
    fired = [c for c in calls if fired_by(cell, c)]
    if evidence.timed_out:
        budget = f"{timeout:g} s" if timeout is not None else "the time budget"
        hit = f"; the fault hit {', '.join(_ids(fired))}" if fired else ""
        return Verdict("hung", f"still running after {budget}: the process tree was killed{hit}", _ids(calls))
    abuse = _abuse(cell, calls, fired)
    if abuse is not None:
        return abuse
    if not fired:
        made = f"{len(calls)} call{'s' * (len(calls) != 1)}" if calls else "no calls"
        why = "the fault never fired: the command made " + made
        if cell.fault is not None and cell.fault_type in (*TRUNCATING, "stall", "keepalive") and calls:
            why += " (stream faults only touch streamed answers)"
        elif cell.match and calls:
            why += " and none matched the cell's `match`"
        return Verdict("not_exercised", why, _ids(calls))
    retried = [
        c
        for c in calls
        if c.ok and not fired_by(cell, c) and any(c.start > f.start and c.request == f.request for f in fired)
    ]
    hits = ", ".join(_ids(fired))
    if evidence.exit_code == 0 and cell.fault_type in TRUNCATING and not retried:
        return Verdict(
            "accepted_partial",
            f"exit 0 after a {cell.fault_type} stream ({hits}) with no retry: a truncated or corrupted answer "
            "may have been used as a whole one",
            _ids(fired),
        )
    if evidence.exit_code != 0:
        said = _last_line(evidence.output)
        return Verdict(
            "failed_clean",
            f"exit {evidence.exit_code} after the fault hit {hits}" + (f": {said}" if said else ""),
            _ids([*fired, *retried]),
        )
    if retried:
        return Verdict(
            "survived",
            f"exit 0; the fault hit {hits}, then {', '.join(_ids(retried))} got through",
            _ids([*fired, *retried]),
        )
    absorbed = [c for c in fired if c.answered]
    if absorbed:
        return Verdict("survived", f"exit 0; the answer got through despite the fault ({hits})", _ids(fired))
    return Verdict(
        "degraded", f"exit 0 without a retry after the fault hit {hits}: the app carried on without it", _ids(fired)
    )
