"""The command line: `mockgw serve` runs the gateway, `mockgw check` lints fixture and config files."""

from __future__ import annotations

import argparse
import asyncio
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
    check = commands.add_parser("check", help="lint fixture and config files; exit 1 on errors")
    check.add_argument("paths", nargs="*", metavar="PATH", help="fixture or config files (told by their keys), folders")
    check.add_argument("--config", action="append", metavar="FILE", help="check FILE as a config file (repeatable)")
    return parser


async def _serve(gateway: MockGateway) -> None:
    await gateway.start_async()
    count = len(gateway.state.file_fixtures)
    print(
        f"mockgw {__version__} serving {gateway.base_url} ({count} fixtures, seed {gateway.settings.seed})",
        flush=True,
    )
    try:
        await asyncio.Event().wait()
    finally:
        await gateway.stop_async()


def serve(args: argparse.Namespace) -> int:
    flags = {
        "host": args.host,
        "port": args.port,
        "fixtures": args.fixtures,
        "seed": args.seed,
        "strict": args.strict,
    }
    try:
        gateway = MockGateway(config.resolve(flags, args.config))
    except MockgwError as exc:
        for line in str(exc).splitlines():  # every mistake of every file, one per line
            print(f"mockgw: {line}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(gateway))
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
