"""`mockgw verdict [options] -- COMMAND ARGS...`: the command line of the resilience verdict."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mockgw.core.errors import MockgwError
from mockgw.gateway import config

if TYPE_CHECKING:
    from mockgw.verdict.report import CellResult


def add_verdict_parser(commands: Any, options: bool = True) -> None:
    """The `verdict` subcommand, and its options unless `options` is false (another command is being parsed)."""
    parser = commands.add_parser(
        "verdict",
        help="run a command under a matrix of faults and say which it survives",
        description="Run COMMAND once with no fault (the baseline), then once per cell of the matrix with the "
        "cell's fault active, and judge each run from its exit, its time and the gateway's journal. Exit 0 when "
        "every cell meets its expect, 1 when one does not, 2 when the baseline fails.",
    )
    if not options:
        return
    parser.add_argument("--matrix", metavar="FILE", help="a matrix file (default: the built-in matrix)")
    parser.add_argument("--fixtures", nargs="+", metavar="PATH", help="fixture files or folders")
    parser.add_argument("--config", metavar="FILE", help="a mockgw.yaml config file")
    parser.add_argument("--seed", type=int, help="seed for every random choice (default 0)")
    parser.add_argument("--repeat", type=int, default=1, metavar="N", help="run each cell N times; flag flaky cells")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="S", help="seconds per run (default 30)")
    parser.add_argument("--junit", metavar="FILE", help="write a JUnit XML report")
    parser.add_argument("--json", metavar="FILE", help="write the JSON report (schemas/verdict.schema.json)")
    parser.add_argument("--markdown", metavar="FILE", help="write a Markdown summary (e.g. $GITHUB_STEP_SUMMARY)")
    parser.add_argument("--compare", metavar="FILE", help="a previous --json report: list the cells that got worse")
    parser.add_argument("run", nargs=argparse.REMAINDER, metavar="-- COMMAND ARGS...")


def _progress(index: int, total: int, result: CellResult) -> None:
    from mockgw.verdict import render

    print(render.progress_line(index, total, result), file=sys.stderr, flush=True)


def verdict(args: argparse.Namespace) -> int:
    """Run the verdict; print the table, write the reports; the exit code says whether every cell passed."""
    # imported here: `mockgw serve` builds the same parser and should not pay for the verdict's modules at start-up
    from mockgw.verdict import render
    from mockgw.verdict.default_matrix import default_matrix
    from mockgw.verdict.matrix import load_matrix
    from mockgw.verdict.run import run_verdict

    command = args.run[1:] if args.run[:1] == ["--"] else args.run
    if not command:
        print(
            "mockgw verdict: give the command to judge after --, e.g. `mockgw verdict -- python app.py`",
            file=sys.stderr,
        )
        return 2
    if args.repeat < 1 or args.timeout <= 0:
        print("mockgw verdict: --repeat must be at least 1 and --timeout positive", file=sys.stderr)
        return 2
    try:
        matrix = load_matrix(args.matrix) if args.matrix else default_matrix()
        settings = config.resolve({"fixtures": args.fixtures, "seed": args.seed}, args.config)
        previous = json.loads(Path(args.compare).read_text(encoding="utf-8")) if args.compare else None
    except (MockgwError, OSError, ValueError) as exc:
        print(f"mockgw verdict: {exc}", file=sys.stderr)
        return 2
    # SIGTERM ends the verdict like Ctrl-C: the running command's process group is killed on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(f"mockgw verdict: baseline, then {len(matrix.cells)} cells ({matrix.source})", file=sys.stderr, flush=True)
    try:
        report = run_verdict(
            command,
            matrix,
            settings,
            timeout=args.timeout,
            repeat=args.repeat,
            previous=previous,
            compared_with=args.compare,
            progress=_progress,
        )
    except OSError as exc:  # the command cannot be started at all
        print(f"mockgw verdict: cannot run {command[0]!r}: {exc}", file=sys.stderr)
        return 2
    print(render.table(report), end="", flush=True)
    for path, text in ((args.junit, render.junit), (args.json, render.as_json), (args.markdown, render.markdown)):
        if path:
            Path(path).write_text(text(report), encoding="utf-8")
    return report.exit_code
