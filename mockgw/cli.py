"""The command line: `mockgw serve` runs the gateway, `mockgw check` lints fixture and config files."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from mockgw.core.errors import FixtureError, MockgwError
from mockgw.core.explain import Problem
from mockgw.core.frozen import frozen
from mockgw.core.version import VERSION as __version__
from mockgw.fixtures.load import Fixture, file_problems, fixture_files, load_paths, read_yaml
from mockgw.gateway import config
from mockgw.server.runner import MockGateway


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mockgw", description="A local emulator of the Edgee AI Gateway API.")
    parser.add_argument("--version", action="version", version=f"mockgw {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the API on a port")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8080; 0 picks a free one)")
    serve.add_argument("--fixtures", nargs="+", metavar="PATH", help="fixture files or folders")
    serve.add_argument("--config", metavar="FILE", help="a mockgw.yaml config file")
    serve.add_argument("--seed", type=int, help="seed for every random choice (default 0)")
    serve.add_argument("--strict", action="store_true", default=None, help="unmatched requests get 404")
    serve.add_argument(
        "--log-requests", action="store_true", default=None, help="print one line per call (or MOCKGW_LOG=requests)"
    )
    serve.add_argument("--journal-out", metavar="FILE", help="write the journal as JSONL here when the server stops")
    serve.add_argument(
        "--clock", metavar="TIME", help="fix the gateway clock at an ISO 8601 time (e.g. 2026-01-01T00:00:00Z)"
    )
    check = commands.add_parser("check", help="lint fixture and config files; exit 1 on errors")
    check.add_argument("paths", nargs="*", metavar="PATH", help="fixture or config files (told by their keys), folders")
    check.add_argument("--config", action="append", metavar="FILE", help="check FILE as a config file (repeatable)")
    return parser


def _log_requests() -> None:
    """Send the request log (one line per call) to stdout, beside the serving line."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = logging.getLogger("mockgw.requests")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def write_journal(gateway: MockGateway, path: str) -> None:
    """Every kept call, oldest first, one JSON object a line (a CI artifact)."""
    with open(path, "w", encoding="utf-8") as out:
        for call in gateway.state.journal.calls():
            out.write(json.dumps(call.to_json(), ensure_ascii=False) + "\n")


async def _serve(gateway: MockGateway, journal_out: str | None = None) -> None:
    await gateway.start_async()
    count = len(gateway.state.file_fixtures)
    print(
        f"mockgw {__version__} serving {gateway.base_url} ({count} fixtures, seed {gateway.settings.seed})",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):  # both end the same clean way, exit 0 (CI does `kill $pid`)
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await gateway.stop_async()
        if journal_out:
            try:
                write_journal(gateway, journal_out)
            except OSError as exc:  # the server ran fine; still say it, and not with a traceback
                print(f"mockgw: cannot write the journal to {journal_out}: {exc}", file=sys.stderr, flush=True)
    print("mockgw stopped", flush=True)


def serve(args: argparse.Namespace) -> int:
    flags = {
        "host": args.host,
        "port": args.port,
        "fixtures": args.fixtures,
        "seed": args.seed,
        "strict": args.strict,
        "log_requests": args.log_requests,
    }
    try:
        flags["clock"] = config.parse_clock(args.clock) if args.clock else None
        gateway = MockGateway(config.resolve(flags, args.config))
    except MockgwError as exc:
        for line in str(exc).splitlines():  # every mistake of every file, one per line
            print(f"mockgw: {line}", file=sys.stderr)
        return 2
    try:
        if gateway.settings.log_requests:
            _log_requests()
        asyncio.run(_serve(gateway, args.journal_out))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(
            f"mockgw: cannot listen on {gateway.settings.host}:{gateway.settings.port}: {exc}",
            file=sys.stderr,
        )
        return 2
    return 0


def _looks_like_config(document: object) -> bool:
    """A config file by its keys: any setting but `fixtures`, or `fixtures:` listing paths; a fixture file has
    `version:` and fixture objects."""
    if not isinstance(document, Mapping) or "version" in document:
        return False
    if set(document) & (config.CONFIG_KEYS - {"fixtures"}):
        return True
    listed = document.get("fixtures")
    return isinstance(listed, list) and bool(listed) and all(isinstance(item, str) for item in listed)


@frozen
class _Checked:
    """What checking one file found."""

    is_config: bool
    fixtures: int
    problems: tuple[Problem, ...]


def _check_config(path: Path, document: object) -> _Checked:
    """A config file: its settings and fault rules, then the fixture files it names (as `serve` would load them)."""
    problems = config.config_problems(document, str(path))
    fixtures: tuple[Fixture, ...] = ()
    if not problems and isinstance(document, Mapping):
        try:
            fixtures = load_paths(str(path.parent / p) for p in document.get("fixtures", ()))
        except FixtureError as exc:
            problems = list(exc.problems)
    return _Checked(True, len(fixtures), tuple(problems))


def _check_file(path: Path, as_config: bool) -> _Checked:
    document, problems = read_yaml(path)
    if problems:
        return _Checked(as_config, 0, tuple(problems))
    if as_config or _looks_like_config(document):
        return _check_config(path, document)
    fixtures, problems = file_problems(path)
    return _Checked(False, len(fixtures), tuple(problems))


def check(paths: Sequence[str], configs: Sequence[str] = ()) -> int:
    """Check every file (fixture files, and config files told by their keys or `--config`) and report every
    mistake of every one; 0 when all load."""
    todo: list[tuple[Path, bool]] = [(Path(c), True) for c in configs]
    missing = 0
    for entry in paths:
        try:
            todo.extend((path, False) for path in fixture_files([entry]))
        except FixtureError as exc:
            missing += 1
            print(f"error: {exc}")
    results = [_check_file(path, as_config) for path, as_config in todo]
    for result in results:
        for problem in result.problems:
            print(f"error: {problem.line()}")
    failures = missing + sum(1 for r in results if r.problems)
    configs_seen = sum(r.is_config for r in results)
    files = f"{len(results)} files" + (f" ({configs_seen} config)" if configs_seen else "")
    print(f"{files}, {sum(r.fixtures for r in results)} fixtures, {failures} with errors")
    return 1 if failures else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if not args.paths and not args.config:
        _parser().error("check: give fixture or config files (PATH...), or --config FILE")
    return check(args.paths, args.config or ())
