"""The one mutable core: fixtures, counters and the journal, per session, reset as a whole."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from mockgw.core.errors import FixtureError
from mockgw.fixtures.load import Fixture
from mockgw.gateway.config import Settings
from mockgw.gateway.edge_tools import Pending
from mockgw.gateway.fault_rules import FaultRule, RuleCount, parse_rules
from mockgw.gateway.ratelimit import RateLimiter
from mockgw.gateway.sessions import Sessions
from mockgw.gateway.validation import Validators
from mockgw.journal.calls import Journal


@dataclass
class SessionState:
    """What one session (the `X-Mockgw-Session` header; "" by default) has changed or counted."""

    runtime_fixtures: list[Fixture] = field(default_factory=list)
    uses: dict[str, int] = field(default_factory=dict)  # fixture name -> times it answered
    sequence: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    problems: list[str] = field(default_factory=list)  # what this session's test should fail on
    fault_rules: list[FaultRule] = field(default_factory=list)  # added at run time (POST /__mockgw/faults)
    fault_counts: dict[str, RuleCount] = field(default_factory=dict)  # rule name -> matched / fired
    scenarios: dict[str, str] = field(default_factory=dict)  # scenario name -> state (absent: "started")
    # fixtures in matching order and the run-time fixtures they were sorted from (sorted again when those change)
    ordered: tuple[tuple[Fixture, ...], list[Fixture]] | None = field(default=None, repr=False, compare=False)
    pending: dict[str, Pending] = field(default_factory=dict)  # edgee_pending_id -> Edge Tool results kept back
    pending_used: dict[str, None] = field(default_factory=dict)  # pending ids already resumed (a reuse is a 400)

    def keep_pending(self, pending_id: str, pending: Pending) -> None:
        """Keep Edge Tool results for a later `edgee_pending_id`; the oldest of PENDING_KEPT go (never resumed)."""
        self.pending[pending_id] = pending
        for kept in (self.pending, self.pending_used):
            while len(kept) > PENDING_KEPT:
                del kept[next(iter(kept))]


PROBLEMS_KEPT = 1000
PENDING_KEPT = 1000  # pending ids (and used ones) one session keeps: a client looping for ever grows nothing


def _keep(problems: list[str], problem: str) -> None:
    if len(problems) < PROBLEMS_KEPT:
        problems.append(problem)
        return
    more = int(problems[-1].split()[1]) + 1 if len(problems) > PROBLEMS_KEPT else 1
    line = f"... {more} more problem{'s' * (more != 1)} (the first {PROBLEMS_KEPT} are listed)"
    if len(problems) > PROBLEMS_KEPT:
        problems[-1] = line
    else:
        problems.append(line)


class GatewayState:
    """Everything a running gateway knows; the web layer owns one and passes it to the pipeline."""

    def __init__(
        self,
        settings: Settings,
        fixtures: Iterable[Fixture] = (),
        validators: Validators | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.settings = settings
        self.config_fault_rules: tuple[FaultRule, ...] = parse_rules(
            list(settings.faults), "config faults", at=("faults",)
        )
        self.rate_limiter = RateLimiter(clock)
        self.file_fixtures: tuple[Fixture, ...] = tuple(fixtures)
        self.validators = validators or Validators.load()
        self.journal = Journal(settings.journal_limit, settings.journal_max_bytes)
        self.sessions: Sessions[SessionState] = Sessions(
            SessionState, settings.session_limit, settings.session_idle_s, clock, self.rate_limiter.forget
        )
        self.problems: list[str] = []  # things a test should fail on (raised by the pytest plugin)
        self.clock_now: float | None = settings.clock  # a fixed gateway time (PUT /__mockgw/clock); None: real

    def now(self) -> float:
        """The gateway clock: the fixed time when one is set, else the real time (Unix seconds)."""
        return self.clock_now if self.clock_now is not None else time.time()

    def session(self, name: str) -> SessionState:
        """The session's state, marked as used (made when missing; stale sessions are dropped then)."""
        return self.sessions.use(name)

    def fixtures(self, session: str) -> list[Fixture]:
        """The file fixtures, then the session's run-time ones, in load order."""
        return [*self.file_fixtures, *self.session(session).runtime_fixtures]

    def fixtures_by_priority(self, session: str) -> list[Fixture]:
        """`fixtures(session)` in matching order: highest priority first, load order on a tie.

        Sorted once per change of the session's run-time fixtures, not on every request."""
        return self.ordered_fixtures(self.session(session))

    def ordered_fixtures(self, found: SessionState) -> list[Fixture]:
        """`fixtures_by_priority` for a session's state the caller already has."""
        runtime = tuple(found.runtime_fixtures)
        if found.ordered is None or found.ordered[0] != runtime:  # identity compare per item: cheap
            fixtures = [*self.file_fixtures, *runtime]
            ordered = [f for _, f in sorted(enumerate(fixtures), key=lambda item: (-item[1].priority, item[0]))]
            found.ordered = (runtime, ordered)
        return found.ordered[1]

    def add_fixtures(self, session: str, fixtures: Iterable[Fixture]) -> None:
        """Add run-time fixtures; a name already in use is refused (names identify fixtures in the journal)."""
        taken = {f.name for f in self.fixtures(session)}
        new = list(fixtures)
        for fixture in new:
            if fixture.name in taken:
                raise FixtureError(
                    fixture.source, fixture.name, "name", f"a fixture named {fixture.name!r} is already loaded"
                )
            taken.add(fixture.name)
        self.session(session).runtime_fixtures.extend(new)

    def add_problem(self, session: str, problem: str, *, server_wide: bool = True) -> None:
        """Keep something a test should fail on: in the session (`GET /__mockgw/problems`, raised by the pytest
        plugin) and, unless it is only about one request of that session, server-wide (mockgw's own faults).

        Each list keeps the first PROBLEMS_KEPT problems and then counts the others in its last line: a client
        that retries a refused request for ever makes a long-running server's memory grow by a number only."""
        if server_wide:
            _keep(self.problems, problem)
        _keep(self.session(session).problems, problem)

    def fault_rules(self, session: str) -> list[FaultRule]:
        """The config's fault rules, then the session's run-time ones, in the order they are tried."""
        return [*self.config_fault_rules, *self.session(session).fault_rules]

    def add_fault_rules(self, session: str, rules: Iterable[FaultRule]) -> None:
        """Add run-time fault rules; a name already in use is refused (the journal names the rule that fired)."""
        taken = {r.name for r in self.fault_rules(session)}
        new = list(rules)
        for rule in new:
            if rule.name in taken:
                raise FixtureError(
                    rule.source, f"fault rule {rule.name}", "name", f"a fault rule named {rule.name!r} exists"
                )
            taken.add(rule.name)
        self.session(session).fault_rules.extend(new)

    def reset(self, session: str | None = None) -> None:
        """Journal, run-time fixtures and counters back to the start (one session, or all).

        The session's state is dropped, not emptied: its next use makes a fresh one, and nothing of the old one
        (rate-limit windows, pending ids, problems) is kept alive."""
        if session is None:
            self.sessions.clear()
            self.rate_limiter.reset()
        else:
            self.sessions.drop(session)
        self.journal.clear(session)
