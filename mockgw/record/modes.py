"""What the recording server does with a request: forward it (and record it), or answer it from the fixtures."""

from __future__ import annotations

from mockgw.core.frozen import frozen
from mockgw.record.secrets import Redaction

MODES = ("once", "new", "all", "proxy")


@frozen
class RecordSettings:
    """How `mockgw record` / `serve --record` forwards and writes.

    once: a session whose file already exists is replayed from it (a miss is an error); else recorded.
    new: fixtures that match answer; misses are forwarded and recorded.
    all: everything is forwarded and recorded (files are started afresh).
    proxy: everything is forwarded, nothing written."""

    upstream: str
    out: str | None = None  # the folder the recordings go to (one file per session)
    mode: str = "new"
    upstream_key: str | None = None  # sent upstream instead of the client's key; never written
    redaction: Redaction = Redaction()
    file: str | None = None  # one file for every capture (the pytest plugin: one per test), else one per session


@frozen
class Action:
    """What recording does with one request: forward it, record the answer, or refuse it (and why)."""

    forward: bool
    record: bool
    refuse: str | None = None  # the reason a request is neither answered nor forwarded


def decide(mode: str, matched: bool, file_existed: bool) -> Action:
    """The action for one request: `matched` says whether a fixture would answer it."""
    if mode == "proxy":
        return Action(forward=True, record=False)
    if mode == "all":
        return Action(forward=True, record=True)
    if mode == "once" and file_existed:
        if matched:
            return Action(forward=False, record=False)
        return Action(
            False,
            False,
            refuse="no recording matches this request and --mode once never records into an existing file; "
            "record it with --mode new (or all), or delete the file",
        )
    if mode == "new" and matched:
        return Action(forward=False, record=False)
    return Action(forward=True, record=True)


def file_name(session: str, fixed: str | None = None) -> str:
    """The recording file of a session: `<session>.yaml` (`recorded.yaml` without one), or the `fixed` one."""
    return fixed or f"{session or 'recorded'}.yaml"
