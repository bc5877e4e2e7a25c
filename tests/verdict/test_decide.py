"""Evidence -> verdict, one rule at a time, and the precedence when several fit (hand-made journals)."""

from __future__ import annotations

from typing import Any

import pytest

from mockgw.verdict.decide import decide, passes
from mockgw.verdict.evidence import Evidence
from mockgw.verdict.matrix import Cell
from mockgw.verdict.report import CellResult, Run, regressions

BODY = {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hi"}], "stream": True}


def call(n: int, at: float, *, rule: str | None = None, status: int = 200, completed: bool = True, **extra: Any) -> Any:
    fault = {"source": f"rule 'verdict-{rule}'", **extra} if rule else None
    return {
        "id": f"call-{n}",
        "time": f"2026-01-01T00:00:{at:06.3f}+00:00",
        "duration_ms": 10,
        "method": "POST",
        "status": status,
        "body": extra.pop("body", BODY) if not rule else BODY,
        "fault": "x" if rule else None,
        "path": "/v1/chat/completions",
        "delivered": {"completed": completed, **({"fault": fault} if fault else {})},
        "response": {},
    }


def evidence(*calls: Any, exit_code: int | None = 0, timed_out: bool = False) -> Evidence:
    return Evidence.of(exit_code, 1.0, timed_out, calls)


RESET = Cell("reset", fault={"type": "reset"})
CUT = Cell("cut", fault={"type": "cut", "after_events": 3})
LIMITED = Cell("limited", fault={"type": "error", "status": 429, "retry_after": 1})
KEEPALIVE = Cell("keepalive", fault={"type": "keepalive", "every_events": 1})


def test_survived_is_a_retry_that_got_through() -> None:
    found = decide(RESET, evidence(call(1, 1, rule="reset", completed=False), call(2, 1.2)))
    assert (found.verdict, found.calls) == ("survived", ("call-1", "call-2"))


def test_a_harmless_fault_absorbed_without_a_retry_is_survived() -> None:
    assert decide(KEEPALIVE, evidence(call(1, 1, rule="keepalive"))).verdict == "survived"


def test_degraded_is_carrying_on_without_a_retry() -> None:
    found = decide(RESET, evidence(call(1, 1, rule="reset", completed=False)))
    assert found.verdict == "degraded" and "carried on" in found.reason


def test_a_different_request_after_the_fault_is_not_a_retry() -> None:
    fallback = call(2, 2, body={**BODY, "model": "anthropic/claude-sonnet-4.5"})
    assert decide(RESET, evidence(call(1, 1, rule="reset", completed=False), fallback)).verdict == "degraded"


def test_accepted_partial_is_exit_0_after_a_truncated_stream_without_retry() -> None:
    found = decide(CUT, evidence(call(1, 1, rule="cut", completed=False)))
    assert found.verdict == "accepted_partial" and found.calls == ("call-1",)
    assert decide(CUT, evidence(call(1, 1, rule="cut", completed=False), call(2, 2))).verdict == "survived"


def test_failed_clean_is_a_non_zero_exit_in_time() -> None:
    assert decide(CUT, evidence(call(1, 1, rule="cut", completed=False), exit_code=1)).verdict == "failed_clean"


def test_not_exercised_when_the_fault_never_fired() -> None:
    found = decide(CUT, evidence(call(1, 1)))
    assert found.verdict == "not_exercised" and "stream faults only touch streamed answers" in found.reason
    assert decide(RESET, evidence()).reason == "the fault never fired: the command made no calls"


def test_retry_abuse_before_retry_after_and_beyond_the_retries_allowed() -> None:
    early = decide(LIMITED, evidence(call(1, 1, rule="limited", status=429, retry_after=1), call(2, 1.3)))
    assert early.verdict == "retry_abuse" and "Retry-After: 1" in early.reason
    assert decide(LIMITED, evidence(call(1, 1, rule="limited", status=429, retry_after=1), call(2, 2.1))).verdict == (
        "survived"
    )
    storm = [call(n, n, rule="reset", completed=False) for n in range(1, 8)]
    found = decide(Cell("reset", fault={"type": "reset"}, call="all"), evidence(*storm, exit_code=1))
    assert found.verdict == "retry_abuse" and "6 retries of one request" in found.reason and len(found.calls) == 7


def test_precedence_hung_first_then_retry_abuse_then_not_exercised() -> None:
    early = [call(1, 1, rule="limited", status=429, retry_after=1), call(2, 1.1)]
    assert decide(LIMITED, evidence(*early, exit_code=None, timed_out=True)).verdict == "hung"
    assert decide(LIMITED, evidence(*early, exit_code=1)).verdict == "retry_abuse"
    assert decide(CUT, evidence(exit_code=1)).verdict == "not_exercised"


def test_a_rate_limit_cell_fires_on_the_limiter_refusals() -> None:
    cell = Cell("tpm", rate_limit={"tokens_per_minute": 1}, expect="fail_fast")
    refused = call(1, 1, status=429)
    refused["response"] = {"error": {"code": "usage_limit_exceeded"}}
    found = decide(cell, evidence(refused, exit_code=1))
    assert found.verdict == "failed_clean" and passes(cell.expect, found.verdict)


@pytest.mark.parametrize(
    ("expect", "accepted"),
    [("survive", {"survived", "degraded"}), ("fail_fast", {"failed_clean"}), ("any", None)],
)
def test_pass_rules(expect: str, accepted: set[str] | None) -> None:
    verdicts = ("hung", "retry_abuse", "not_exercised", "accepted_partial", "failed_clean", "survived", "degraded")
    assert {v for v in verdicts if passes(expect, v)} == (accepted or set(verdicts))


def test_a_cell_whose_verdict_changes_between_repeats_is_flaky_and_judged_by_its_worst_run() -> None:
    good = Run(decide(RESET, evidence(call(1, 1, rule="reset", completed=False), call(2, 2))), evidence())
    bad = Run(decide(RESET, evidence(call(1, 1, rule="reset", completed=False), exit_code=1)), evidence())
    result = CellResult(RESET, (good, bad))
    assert result.flaky and not result.passed and result.verdict.verdict == "failed_clean"
    assert not CellResult(RESET, (good, good)).flaky


def test_regressions_list_cells_that_got_worse() -> None:
    bad = Run(decide(RESET, evidence(call(1, 1, rule="reset", completed=False), exit_code=1)), evidence())
    previous = {"cells": [{"name": "reset", "verdict": "survived", "passed": True}]}
    (found,) = regressions([CellResult(RESET, (bad,))], previous)
    assert (found.name, found.before, found.after, found.was_passing) == ("reset", "survived", "failed_clean", True)
    assert regressions([CellResult(RESET, (bad,))], {"cells": [{"name": "reset", "verdict": "hung"}]}) == ()


def test_failed_clean_quotes_the_last_words_of_the_command() -> None:
    output = "Traceback (most recent call last):\n  ...\nopenai.RateLimitError: Error code: 429\n\n"
    found = decide(LIMITED, Evidence.of(1, 1.0, False, [call(1, 1, rule="limited", status=429)], output))
    assert found.reason == "exit 1 after the fault hit call-1: openai.RateLimitError: Error code: 429"
