"""The command line: `mockgw serve` runs the gateway, `mockgw check` lints fixture and config files."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import re
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from mockgw.core.errors import ConfigError, FixtureError, MockgwError
from mockgw.core.explain import Problem
from mockgw.core.frozen import frozen
from mockgw.core.version import VERSION as __version__
from mockgw.fixtures.load import Fixture, file_problems, fixture_files, load_paths, read_yaml
from mockgw.gateway import config
from mockgw.gateway.control_access import exposure_warning
from mockgw.record.modes import MODES, RecordSettings
from mockgw.verdict.command import add_verdict_parser, verdict

if TYPE_CHECKING:
    from mockgw.server.runner import MockGateway


COMMANDS = ("serve", "check", "verdict", "record", "export", "drift")


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser. Given the `command` a command line names, only that command gets its options (the
    others keep their name and help): parsing it reads nothing else, and start-up skips building ~45 options."""

    def full(name: str) -> bool:
        return command is None or command == name

    parser = argparse.ArgumentParser(prog="mockgw", description="A local emulator of the Edgee AI Gateway API.")
    parser.add_argument("--version", action="version", version=f"mockgw {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the API on a port")
    if full("serve"):
        _serve_flags(serve)
    check = commands.add_parser("check", help="lint fixture and config files; exit 1 on errors")
    if full("check"):
        check.add_argument(
            "paths", nargs="*", metavar="PATH", help="fixture or config files (told by their keys), folders"
        )
        check.add_argument("--config", action="append", metavar="FILE", help="check FILE as a config file (repeatable)")
    add_verdict_parser(commands, options=full("verdict"))
    record = commands.add_parser("record", help="forward to an upstream gateway and record fixture files")
    if full("record"):
        record.add_argument("--host", help="address to listen on (default 127.0.0.1)")
        record.add_argument("--port", type=int, help="port to listen on (default 8080; 0 picks a free one)")
        record.add_argument("--mode", choices=MODES, default="new", help="once | new (default) | all | proxy")
        record.add_argument("--seed", type=int, help="seed for every random choice (default 0)")
        _record_flags(record, required=True)
    export = commands.add_parser("export", help="print the calls a running server has seen as a fixture file")
    if full("export"):
        export.add_argument("--url", help="the server's root URL (default: MOCKGW_URL)")
        export.add_argument("--session", default="", help="only this session's calls (default: the default session)")
        export.add_argument("--all", action="store_true", help="the calls of every session")
        export.add_argument(
            "--control-token", metavar="TOKEN", help="the server's control token (or MOCKGW_CONTROL_TOKEN)"
        )
    drift = commands.add_parser("drift", help="compare the real gateway's answers with mockgw's; exit 1 on critical")
    if full("drift"):
        drift.add_argument("--upstream", required=True, metavar="URL", help="the real gateway's root URL")
        drift.add_argument("--url", help="a running mockgw's root URL (default: MOCKGW_URL, else one started here)")
        drift.add_argument("--cassettes", metavar="DIR", help="send the recorded requests of these files instead")
        drift.add_argument("--json", metavar="FILE", help="also write the report as JSON (schemas/drift_report)")
        drift.add_argument("--upstream-key-env", metavar="NAME", help="the key for the upstream (default: none)")
    return parser


def _serve_flags(serve: argparse.ArgumentParser) -> None:
    """`serve`'s options."""
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8080; 0 picks a free one)")
    serve.add_argument("--fixtures", nargs="+", metavar="PATH", help="fixture files or folders")
    serve.add_argument("--config", metavar="FILE", help="a mockgw.yaml config file")
    serve.add_argument("--seed", type=int, help="seed for every random choice (default 0)")
    serve.add_argument("--strict", action="store_true", default=None, help="unmatched requests get 404")
    serve.add_argument(
        "--ui-write",
        action="store_true",
        default=None,
        help="let the web inspector change state (release holds, delete fault rules, reset)",
    )
    serve.add_argument(
        "--log-requests", action="store_true", default=None, help="print one line per call (or MOCKGW_LOG=requests)"
    )
    serve.add_argument("--journal-out", metavar="FILE", help="write the journal as JSONL here when the server stops")
    serve.add_argument(
        "--clock", metavar="TIME", help="fix the gateway clock at an ISO 8601 time (e.g. 2026-01-01T00:00:00Z)"
    )
    _connection_flags(serve)
    serve.add_argument("--record", choices=("none", *MODES), default="none", help="forward to --upstream and record")
    serve.add_argument(
        "--control-token",
        metavar="TOKEN",
        help="require Authorization: Bearer TOKEN on /__mockgw/ (or MOCKGW_CONTROL_TOKEN); for non-loopback hosts",
    )
    serve.add_argument(
        "--watchdog-ms",
        type=int,
        metavar="MS",
        help="report a step that holds the event loop longer than MS (default 100; 0: off)",
    )
    _record_flags(serve, required=False)


def _positive(kind: type[int] | type[float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text} is not above 0")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in "invalid int value"
    return parse


def _connection_flags(parser: argparse.ArgumentParser) -> None:
    """`serve`'s bounds on connections (server/connections.py)."""
    parser.add_argument(
        "--header-timeout",
        type=_positive(float),
        metavar="SECONDS",
        help="close a connection whose request head is not whole SECONDS after it began (default 20)",
    )
    parser.add_argument(
        "--idle-timeout",
        type=_positive(float),
        metavar="SECONDS",
        help="close a keep-alive connection idle for SECONDS (default 75)",
    )
    parser.add_argument(
        "--max-connections",
        type=_positive(int),
        metavar="N",
        help="serve at most N connections at once; more get 503 too_many_connections (default 4096)",
    )


def drift_command(args: argparse.Namespace) -> int:
    """`mockgw drift`: 0 without critical findings, 1 with, 2 when something could not run."""
    from mockgw.record import drift
    from mockgw.server import drift_probe
    from mockgw.server.runner import MockGateway

    key = os.environ.get(args.upstream_key_env, "") if args.upstream_key_env else ""
    if args.cassettes:
        try:
            files = fixture_files([args.cassettes])
        except MockgwError as exc:
            print(f"mockgw drift: {exc}", file=sys.stderr)
            return 2
        probes = drift.cassette_probes((str(f), yaml.safe_load(f.read_text(encoding="utf-8"))) for f in files)
    else:
        probes = drift.probes()
    url = args.url or config.remote_url()
    started = None if url else MockGateway(config.resolve({"port": 0}, env={})).start()
    mock = url or (started.url if started else "")
    try:
        results = drift_probe.run(args.upstream, mock, probes, key)
    except OSError as exc:
        print(f"mockgw drift: {exc}", file=sys.stderr)
        return 2
    finally:
        if started is not None:
            started.stop()
    report = drift.report(args.upstream, mock, results)
    print(report.text())
    if args.json:
        Path(args.json).write_text(json.dumps(report.as_json(), indent=2) + "\n", encoding="utf-8")
    return 1 if report.critical else 0


def export_command(args: argparse.Namespace) -> int:
    """`mockgw export`: GET /__mockgw/export from a running server, to stdout."""
    import urllib.error
    import urllib.parse
    import urllib.request

    url = args.url or config.remote_url()
    if not url:
        print("mockgw export: give --url URL or set MOCKGW_URL", file=sys.stderr)
        return 2
    query = urllib.parse.urlencode({"session": args.session, **({"all": "1"} if args.all else {})})
    request = urllib.request.Request(f"{url.rstrip('/')}/__mockgw/export?{query}")
    token = args.control_token or config.control_token()
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            sys.stdout.write(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        print(f"mockgw export: {exc.read().decode('utf-8', 'replace')}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"mockgw export: cannot reach {url}: {exc}", file=sys.stderr)
        return 2
    return 0


def _record_flags(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("--upstream", required=required, metavar="URL", help="the real gateway, e.g. its root URL")
    parser.add_argument("--out", required=required, metavar="DIR", help="folder for the recorded fixture files")
    parser.add_argument("--upstream-key-env", metavar="NAME", help="send this variable's key upstream (never written)")
    parser.add_argument("--redact", metavar="FILE", help="YAML with redact: {headers, paths, patterns}")
    parser.add_argument("--redact-header", action="append", default=[], metavar="NAME", help="never write it")
    parser.add_argument("--redact-path", action="append", default=[], metavar="PATH", help="JSON body path (a.*.b)")
    parser.add_argument("--redact-pattern", action="append", default=[], metavar="REGEX", help="replace matches")


def _record_settings(args: argparse.Namespace, mode: str) -> RecordSettings:
    """The recording settings from the flags (and the --redact file); raises MockgwError on a mistake."""
    if not args.upstream or not args.out:
        raise ConfigError("recording needs --upstream URL and --out DIR")
    key = None
    if args.upstream_key_env:
        key = os.environ.get(args.upstream_key_env)
        if not key:
            raise ConfigError(f"--upstream-key-env {args.upstream_key_env}: the variable is not set")
    rules: dict[str, list[str]] = {"headers": [], "paths": [], "patterns": []}
    if args.redact:
        loaded = yaml.safe_load(Path(args.redact).read_text(encoding="utf-8")) or {}
        section = loaded.get("redact", loaded) if isinstance(loaded, dict) else {}
        for name in rules:
            rules[name] = [str(v) for v in section.get(name, [])]
    from mockgw.record.secrets import Redaction  # recording only

    try:
        redaction = Redaction.of(
            [*rules["headers"], *args.redact_header],
            [*rules["paths"], *args.redact_path],
            [*rules["patterns"], *args.redact_pattern],
        )
    except re.error as exc:
        raise ConfigError(f"a redact pattern is not a valid regular expression: {exc}") from None
    return RecordSettings(args.upstream, args.out, mode, key, redaction)


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
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # Before the serving line: a script that signals as soon as it reads the line (CI's `kill $pid`) must get the
    # clean stop, not the default SIGTERM action (exit -15) in the instant before the handlers are in place.
    for signum in (signal.SIGTERM, signal.SIGINT):  # both end the same clean way, exit 0
        loop.add_signal_handler(signum, stop.set)
    if not gc.isenabled():  # the command started without collections (mockgw/__main__.py): serving needs them
        gc.freeze()  # what start-up made lives as long as the server: no collection needs to look at it again
        gc.enable()
    count = len(gateway.state.file_fixtures)
    print(
        f"mockgw {__version__} serving {gateway.base_url} ({count} fixtures, seed {gateway.settings.seed})",
        flush=True,
    )
    mode = "read-write" if gateway.settings.ui_write else "read-only"
    sign_in = "?token=<control token>" if gateway.settings.control_token else ""  # the token itself is not printed
    print(f"inspector: {gateway.url}/__mockgw/ui/{sign_in} ({mode})", flush=True)
    warning = exposure_warning(gateway.settings.host, gateway.settings.control_token)
    if warning:
        print(warning, file=sys.stderr, flush=True)
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
    from mockgw.server import tls

    tls.import_aiohttp_for_serving()  # first, so that aiohttp skips loading CAs that serving never uses
    from mockgw.server.listen import authority
    from mockgw.server.loop import run as run_loop
    from mockgw.server.runner import MockGateway

    flags = {
        "host": args.host,
        "port": args.port,
        "fixtures": getattr(args, "fixtures", None),
        "seed": args.seed,
        "strict": getattr(args, "strict", None),
        "ui_write": getattr(args, "ui_write", None),
        "log_requests": getattr(args, "log_requests", None),
        "control_token": getattr(args, "control_token", None),
        "watchdog_ms": getattr(args, "watchdog_ms", None),
        "header_timeout_s": getattr(args, "header_timeout", None),
        "idle_timeout_s": getattr(args, "idle_timeout", None),
        "max_connections": getattr(args, "max_connections", None),
    }
    try:
        clock = getattr(args, "clock", None)
        flags["clock"] = config.parse_clock(clock) if clock else None
        recording = None
        mode = args.mode if args.command == "record" else args.record
        if mode != "none":
            recording = _record_settings(args, mode)
            # the out folder's recordings answer what they match (modes once and new)
            recorded = _recorded_files(args.out, mode)
            if recorded and recorded[0] not in (flags["fixtures"] or []):
                flags["fixtures"] = [*(flags["fixtures"] or []), *recorded]
        gateway = MockGateway(config.resolve(flags, getattr(args, "config", None)), recording)
    except MockgwError as exc:
        for line in str(exc).splitlines():  # every mistake of every file, one per line
            print(f"mockgw: {line}", file=sys.stderr)
        return 2
    try:
        if gateway.settings.log_requests:
            _log_requests()
        run_loop(_serve(gateway, getattr(args, "journal_out", None)))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(
            f"mockgw: cannot listen on {authority(gateway.settings.host, gateway.settings.port)}: {exc}",
            file=sys.stderr,
        )
        return 2
    return 0


def _recorded_files(out: str, mode: str) -> list[str] | None:
    folder = Path(out)
    if mode in ("all", "proxy") or not folder.is_dir() or not any(folder.glob("*.yaml")):
        return None
    return [out]


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
    errors: tuple[str, ...] = ()  # the recording review's (something key-shaped in the file)
    warnings: tuple[str, ...] = ()  # the recording review's (a reply and its recording disagree)


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
    if problems:
        return _Checked(False, 0, tuple(problems))
    from mockgw.fixtures import lint  # `mockgw check` only: serving does not import the linter (nor RE2)
    from mockgw.record.review import review

    errors, warnings = review(document, str(path))
    warnings = [*warnings, *lint.regex_warnings(fixtures)]
    return _Checked(False, len(fixtures), (), tuple(errors), tuple(warnings))


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
        for warning in result.warnings:
            print(f"warning: {warning}")
        for error in (*(p.line() for p in result.problems), *result.errors):
            print(f"error: {error}")
    failures = missing + sum(1 for r in results if r.problems or r.errors)
    configs_seen = sum(r.is_config for r in results)
    files = f"{len(results)} files" + (f" ({configs_seen} config)" if configs_seen else "")
    print(f"{files}, {sum(r.fixtures for r in results)} fixtures, {failures} with errors")
    return 1 if failures else 0


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    named = words[0] if words and words[0] in COMMANDS else None  # else the whole parser (top-level help, mistakes)
    args = _parser(named).parse_args(words)
    if args.command in ("serve", "record"):
        return serve(args)
    if args.command == "verdict":
        return verdict(args)
    if args.command == "export":
        return export_command(args)
    if args.command == "drift":
        return drift_command(args)
    if not args.paths and not args.config:
        _parser().error("check: give fixture or config files (PATH...), or --config FILE")
    return check(args.paths, args.config or ())
