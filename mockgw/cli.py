"""The command line: `mockgw serve` runs the gateway, `mockgw check` lints fixture files."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
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
    serve.add_argument(
        "--log-requests", action="store_true", default=None, help="print one line per call (or MOCKGW_LOG=requests)"
    )
    serve.add_argument("--journal-out", metavar="FILE", help="write the journal as JSONL here when the server stops")
    serve.add_argument(
        "--clock", metavar="TIME", help="fix the gateway clock at an ISO 8601 time (e.g. 2026-01-01T00:00:00Z)"
    )
    check = commands.add_parser("check", help="lint fixture files; exit 1 on errors")
    check.add_argument("paths", nargs="+", metavar="PATH")
    add_verdict_parser(commands)
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
        print(f"mockgw: {exc}", file=sys.stderr)
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
