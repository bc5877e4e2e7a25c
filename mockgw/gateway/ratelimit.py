"""Rate limits like a real gateway: requests and tokens per minute per key, over a sliding one-minute window.

The clock is injected (a function returning seconds), so unit tests move time by hand instead of sleeping.
A refused request answers 429 `usage_limit_exceeded` with `Retry-After` equal to the real wait, rounded up.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping

from mockgw.core.errors import ApiError
from mockgw.core.frozen import frozen
from mockgw.gateway.auth import ApiKey

WINDOW_SECONDS = 60.0


@frozen
class Limits:
    """A key's budget per window; None means unlimited."""

    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None

    @property
    def unlimited(self) -> bool:
        return self.requests_per_minute is None and self.tokens_per_minute is None


def limits_for(key: ApiKey, default: Mapping[str, int]) -> Limits:
    """The key's own limits, each falling back to the config's default `rate_limit:`."""
    return Limits(
        key.requests_per_minute if key.requests_per_minute is not None else default.get("requests_per_minute"),
        key.tokens_per_minute if key.tokens_per_minute is not None else default.get("tokens_per_minute"),
    )


@frozen
class Verdict:
    """A refusal: what ran out, the seconds until the request would pass, and the message to send."""

    wait_seconds: float
    message: str

    def error(self) -> ApiError:
        retry_after = max(1, math.ceil(self.wait_seconds - 1e-9))
        return ApiError(
            429,
            "usage_limit_exceeded",
            self.message,
            "rate_limit_error",
            headers={"Retry-After": str(retry_after)},
        )


def judge(
    history: Iterable[tuple[float, int]], now: float, limits: Limits, tokens: int, window: float = WINDOW_SECONDS
) -> Verdict | None:
    """Pure: whether a request of `tokens` passes, given the (time, tokens) of the requests admitted before."""
    recent = sorted((t, n) for t, n in history if t > now - window)
    rpm, tpm = limits.requests_per_minute, limits.tokens_per_minute
    if rpm is not None and len(recent) >= rpm:
        # the request passes once enough of the oldest ones leave the window
        leaving = recent[len(recent) - rpm][0]
        return Verdict(leaving + window - now, f"Usage limit exceeded: {len(recent)} / {rpm} requests per minute used")
    if tpm is not None:
        used = sum(n for _, n in recent)
        if used + tokens > tpm:
            if tokens > tpm:
                message = f"Usage limit exceeded: this request needs {tokens} tokens, {tpm} per minute allowed"
                return Verdict(window, message)
            freed, wait = used, window
            for t, n in recent:
                freed -= n
                if freed + tokens <= tpm:
                    wait = t + window - now
                    break
            return Verdict(wait, f"Usage limit exceeded: {used + tokens} / {tpm} tokens per minute used")
    return None


class RateLimiter:
    """The admitted requests of each bucket (session, then key) within the last window."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, window: float = WINDOW_SECONDS) -> None:
        self.clock = clock
        self.window = window
        self._history: dict[str, dict[str, deque[tuple[float, int]]]] = {}  # session -> key -> (time, tokens)

    def admit(self, session: str, key: str, limits: Limits, tokens: int) -> ApiError | None:
        """None (and the request counts) when within the limits, else the 429 to send."""
        if limits.unlimited:
            return None
        now = self.clock()
        history = self._history.setdefault(session, {}).setdefault(key, deque())
        while history and history[0][0] <= now - self.window:
            history.popleft()
        verdict = judge(history, now, limits, tokens, self.window)
        if verdict is not None:
            return verdict.error()
        history.append((now, tokens))
        return None

    def forget(self, session: str) -> None:
        """Drop one session's windows (it was reset, or dropped as stale)."""
        self._history.pop(session, None)

    def reset(self, session: str | None = None) -> None:
        if session is None:
            self._history.clear()
        else:
            self.forget(session)
