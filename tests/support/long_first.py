"""The order the suite runs in: its longest tests first, so that on 2 xdist workers no long test starts last and
leaves one core idle while the other finishes it.

xdist's default (`--dist load`) hands each worker a quarter of the collection up front, in collection order: with
the long tests at the front, one worker would get all of them. `one_test_at_a_time` makes it hand tests out one by
one as workers free up (`--maxschedchunk 1`, unless given), which with this order is longest-processing-time-first.
The durations are a quiet 2-core machine's (`--durations`); a new test of a few seconds or more belongs here.
"""

from __future__ import annotations

import pytest

# Node id prefixes, longest first (seconds, roughly, on a lightly loaded 2-core machine). A prefix names a folder, a
# file or one test (tests/test_long_first.py checks that each still names something).
LONG_FIRST: tuple[str, ...] = (
    "tests/server/test_schemathesis.py",  # 20-30 s, mostly a schemathesis subprocess
    "tests/verdict/test_examples.py",  # 25 s: three `mockgw verdict` runs at once, the Node bot's mostly waiting
    "tests/cli/test_install.py::test_the_wheel_installs_into_a_fresh_venv_and_serves",  # 20 s, pip
    "tests/docs/test_code_blocks.py::test_every_block_of_the_page_runs[pytest.md]",  # 10-15 s, 7 pytest runs
    "tests/verdict/test_control_token.py",  # 5-10 s
    "tests/server/test_connections.py::test_normal_keep_alive_use_with_the_openai_sdk_is_unaffected",  # 5.5 s, waits
    "tests/docs/test_code_blocks.py",  # 14 pages, 1-9 s each
    "tests/verdict/test_runs.py",  # 8 runs, 1-8 s each
    "tests/server/test_memory.py",  # 100,000 sessions, 5 s
    "tests/ui/",  # chromium
    "tests/plugin/test_inspector_pause.py",
    "tests/cli/test_shutdown.py",
    "tests/server/test_control_token.py",
    "tests/plugin/",
    "tests/record/",
)


def rank(nodeid: str) -> int:
    """The index of the first prefix of LONG_FIRST the test's node id starts with; after them all if none."""
    return next((i for i, prefix in enumerate(LONG_FIRST) if nodeid.startswith(prefix)), len(LONG_FIRST))


def long_first(items: list[pytest.Item]) -> None:
    """Sort the collection in place: the long tests first, the rest in collection order (a stable sort)."""
    items.sort(key=lambda item: rank(item.nodeid))


def one_test_at_a_time(config: pytest.Config) -> None:
    """xdist hands tests out one at a time (its `--maxschedchunk 1`), unless the command line says otherwise."""
    if getattr(config.option, "maxschedchunk", 0) is None:
        config.option.maxschedchunk = 1
