"""The command line: `mockgw serve` runs the gateway, `mockgw check` lints fixture files."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence

from mockgw.core.errors import MockgwError
from mockgw.core.version import VERSION as __version__
from mockgw.fixtures.load import fixture_files, load_file
from mockgw.gateway import config
from mockgw.server.runner import MockGateway
from mockgw.verdict.command import add_verdict_parser, verdict


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
    check = commands.add_parser("check", help="lint fixture files; exit 1 on errors")
    check.add_argument("paths", nargs="+", metavar="PATH")
    add_verdict_parser(commands)
    return parser


async def _serve(gateway: MockGateway) -> None:
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
    print("mockgw stopped", flush=True)


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
        print(f"mockgw: {exc}", file=sys.stderr)
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


def check(paths: Sequence[str]) -> int:
    """Load every file on its own and report each broken one; 0 when all load."""
    try:
        files = fixture_files(paths)
    except MockgwError as exc:
        print(f"error: {exc}")
        return 1
    failures = 0
    total = 0
    for path in files:
        try:
            total += len(load_file(path))
        except MockgwError as exc:
            failures += 1
            print(f"error: {exc}")
    print(f"{len(files)} files, {total} fixtures, {failures} with errors")
    return 1 if failures else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "verdict":
        return verdict(args)
    return check(args.paths)
