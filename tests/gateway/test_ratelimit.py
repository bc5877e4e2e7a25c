"""Rate limits over a sliding minute, with a hand-moved clock (no sleeps)."""

from __future__ import annotations

import pytest

from mockgw.gateway.auth import ApiKey
from mockgw.gateway.ratelimit import Limits, RateLimiter, judge, limits_for


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("history", "limits", "tokens", "wait"),
    [
        ([], Limits(1, None), 5, None),
        ([(990.0, 5)], Limits(1, None), 5, 50.0),
        ([(950.0, 5), (990.0, 5)], Limits(2, None), 5, 10.0),
        ([(930.0, 5)], Limits(1, None), 5, None),  # left the window
        ([(980.0, 60), (990.0, 30)], Limits(None, 100), 20, 40.0),
        ([(980.0, 60), (990.0, 30)], Limits(None, 100), 80, 50.0),
        ([(980.0, 60)], Limits(None, 100), 40, None),
        ([], Limits(None, 100), 101, 60.0),  # never fits: a full window
    ],
)
def test_judge(history: list[tuple[float, int]], limits: Limits, tokens: int, wait: float | None) -> None:
    verdict = judge(history, 1000.0, limits, tokens)
    assert (verdict.wait_seconds if verdict else None) == wait


def test_retry_after_is_the_real_wait_rounded_up() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    limits = Limits(requests_per_minute=2)
    assert limiter.admit("", "k", limits, 1) is None
    clock.now += 20.5
    assert limiter.admit("", "k", limits, 1) is None
    error = limiter.admit("", "k", limits, 1)
    assert error is not None and error.status == 429 and error.code == "usage_limit_exceeded"
    assert error.type == "rate_limit_error" and error.headers == {"Retry-After": "40"}
    assert error.message == "Usage limit exceeded: 2 / 2 requests per minute used"
    clock.now += 39.5  # the first request leaves the window exactly now
    assert limiter.admit("", "k", limits, 1) is None


def test_refused_requests_do_not_count_and_buckets_are_separate() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    limits = Limits(tokens_per_minute=10)
    assert limiter.admit("", "a", limits, 8) is None
    assert limiter.admit("", "a", limits, 8) is not None
    assert limiter.admit("", "a", limits, 2) is None
    assert limiter.admit("", "b", limits, 8) is None
    assert limiter.admit("other-session", "a", limits, 8) is None
    limiter.reset("")
    assert limiter.admit("", "a", limits, 8) is None


def test_key_limits_fall_back_to_the_default() -> None:
    key = ApiKey("k", requests_per_minute=5)
    assert limits_for(key, {"requests_per_minute": 1, "tokens_per_minute": 9}) == Limits(5, 9)
    assert limits_for(ApiKey("k"), {}).unlimited
