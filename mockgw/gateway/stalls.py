"""The event-loop watchdog's decisions: when a late heartbeat is a step that held the loop, and how it is told.

server/watchdog.py measures (a heartbeat on the loop, a thread that looks at it); this module decides, without
clocks or threads.
"""

from __future__ import annotations

from mockgw.core.frozen import frozen

# A heartbeat runs this often at most (the watchdog's only cost: a timer callback, not a timer per request) ...
MAX_INTERVAL_S = 0.025
# ... and at least this rarely, however small the threshold.
MIN_INTERVAL_S = 0.005
# A late heartbeat is a step of mockgw's own when the loop's thread spent at least this share of the threshold
# computing meanwhile. Otherwise the loop's thread was waiting: the machine did not run the process (a loaded CI
# runner), or another thread held the interpreter (the test's own, when the server runs in the test's process).
# Those are logged, not reported: a test must not fail because its machine was busy.
CPU_SHARE = 0.5
# A step caught importing a module is not counted either: mockgw loads generation on its first generated answer
# (and pytest's assertion rewriting makes that import slow in a test process). It happens once per process, it is
# not something a request can make the server do again, and a test must not fail because it came first.
# Nor is a hold during which Python ran a full garbage collection: its length is the size of the whole process's
# heap, which in a test process (a server started by the pytest plugin) is the test suite's, not mockgw's.


def heartbeat_interval(threshold_s: float) -> float:
    """How often the heartbeat runs: a fifth of the threshold, within [MIN_INTERVAL_S, MAX_INTERVAL_S]."""
    return min(MAX_INTERVAL_S, max(MIN_INTERVAL_S, threshold_s / 5))


def is_held(late_s: float, threshold_s: float, interval_s: float) -> bool:
    """Whether the heartbeat's thread should look now: the last beat is older than the threshold and one beat."""
    return late_s > threshold_s + interval_s


@frozen
class Stall:
    """One time the loop was not run for longer than the threshold."""

    held_ms: float  # how late the heartbeat ran: the loop was held at least this long
    cpu_ms: float  # CPU time the loop's thread used meanwhile
    threshold_ms: float
    request: str | None = None  # "POST /v1/chat/completions (call-12, session 'a')", when one was running
    where: str | None = None  # the step, from the loop thread's stack when the watchdog looked
    importing: bool = False  # the loop's thread was importing a module when the watchdog looked
    collected: bool = False  # a full garbage collection ran meanwhile

    @property
    def counts(self) -> bool:
        """A problem (mockgw's own work held the loop), not only a busy machine."""
        held = self.held_ms > self.threshold_ms and self.cpu_ms >= CPU_SHARE * self.threshold_ms
        return held and not self.importing and not self.collected

    def text(self) -> str:
        """The problem's text (and the log line): how long, by what, where."""
        by = self.request or "no request (a timer, a control read or the server's own work)"
        where = f"\n    at {self.where}" if self.where else ""
        return (
            f"event loop held for {self.held_ms:.0f} ms (watchdog limit {self.threshold_ms:.0f} ms, "
            f"{self.cpu_ms:.0f} ms of CPU) by {by}: every other request waited meanwhile{where}"
        )


def describe_request(method: str, path: str, session: str, call: int | None) -> str:
    """The request a stall is blamed on, with the journal's call id when it has one."""
    named = [f"call-{call}"] if call is not None else ["not journaled"]
    if session:
        named.append(f"session {session!r}")
    return f"{method} {path} ({', '.join(named)})"
