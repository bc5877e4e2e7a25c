"""Every code block of the README and docs/ runs, page by page, the way a reader would run it.

Named blocks (`agent.yaml`:, `# app.py`) become files in a scratch folder beside a link to the bundled fixtures;
YAML must load as the fixture or config file it claims to be; Python runs against the servers the page started
(or, before any, a `make serve`-like server on the page's port); `$ commands` run in bash and print what the page
shows, ids, times and ports aside (`…` in the page stands for anything). A page's blocks share one reader: state
carries over from block to block, as it does for a person working through the page.
"""

from __future__ import annotations

import configparser
import contextlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tomllib
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from mockgw.core.errors import MockgwError
from mockgw.fixtures.load import parse_document
from mockgw.gateway.config import CONFIG_SCHEMA, read_config
from tests.support.docblocks import Block, Command, blocks, commands
from tests.support.lean_pytest import LEAN

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
BIN = Path(sys.executable).parent
SERVING = re.compile(r" serving http://127\.0\.0\.1:(\d+)/v1 ")

# Commands a test inside the suite cannot run, and why; every other command runs.
NOT_RUN = {
    "make ": "make builds the venv and runs this very suite",
    "pip install": "installing is proved by tests/cli/test_install.py",
    "mockgw serve --help": "argparse's own help text, wrapped to the terminal's width",
    ".venv/bin/": "the developer's own virtualenv (the bench's profiling tools)",
}
# A shell snippet that talks to the real gateway is an instruction for the reader's machine: tests have no network
# (recording and drift are proved against local upstreams in tests/record/).
REMOTE = re.compile(r"https://(?!127\.0\.0\.1|localhost)")
SKIPPED_LANGS = {"text"}  # output shown on its own, not code


def _not_run(line: str) -> bool:
    """A command of NOT_RUN, after any `NAME=value` assignments in front of it."""
    return re.sub(r"^(\w+=\S*\s+)*", "", line).startswith(tuple(NOT_RUN))


IDS = re.compile(r"\b(chatcmpl|msg|resp|call|toolu|req|fc|rs)[-_][A-Za-z0-9]{8,}")
VOLATILE = re.compile(r'"(created|created_at|time|duration_ms|held_ms|\w*time_ms|now)":\s*("[^"]*"|[\d.e+-]+)')
HOSTPORT = re.compile(r"(127\.0\.0\.1|localhost):\d+")


def normalised(text: str) -> str:
    text = IDS.sub(r"\1-ID", text)
    text = VOLATILE.sub(r'"\1":0', text)
    text = HOSTPORT.sub("HOST", text)
    return re.sub(r"\s+", "", text)


def shows(expected: str, actual: str) -> bool:
    """The output is what the page shows: whitespace, ids, times and ports aside; `…` stands for anything."""
    pattern = ".*".join(re.escape(part) for part in normalised(expected).split("…"))
    return re.fullmatch(pattern, normalised(actual), re.S) is not None


def runs_with_pytest(block: Block) -> bool:
    """A Python block the page presents as a test file: the reader runs it with pytest."""
    name = block.file or f"test_block_{block.line}.py"
    return Path(name).name.startswith("test_") and "def test_" in block.text


class Reader:
    """One person working through one page in a scratch folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        shutil.copytree(REPO / "fixtures", folder / "fixtures")  # a copy: pages add files to it
        self.ports: dict[str, str] = {}  # the port the page uses -> the one really serving
        self.servers: list[subprocess.Popen[str]] = []
        self.module = types.ModuleType(f"docs_page_{id(self)}")  # the page's Python blocks share it
        self.files: dict[str, str] = {}  # the page's named blocks, as written on the page
        self.status = 0
        self.stale: list[tuple[str, str]] = []  # (what the page shows, what was printed) for DOCS_UPDATE
        self.env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(REPO)}
        # the page's pytest runs (its test files, `$ pytest` and the commands `mockgw verdict` judges) as a reader's
        self.env["PYTEST_ADDOPTS"] = " ".join([*LEAN, self.env.get("PYTEST_ADDOPTS", "")]).strip()

    def close(self) -> None:
        for server in self.servers:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()

    # servers -------------------------------------------------------------------------------------------------
    def serve(self, args: list[str], page_port: str) -> str:
        """`mockgw serve ARGS` on a free port standing for `page_port`; returns its serving line."""
        args = [a for a in args if a != "&"]
        if "--port" in args:
            at = args.index("--port")
            del args[at : at + 2]
        process = subprocess.Popen(
            [sys.executable, "-m", "mockgw", "serve", "--port", "0", *args],
            cwd=self.folder,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        line = process.stdout.readline()
        found = SERVING.search(line)
        if not found:
            process.wait(timeout=20)
            self.status = process.returncode
            return line + (process.stderr.read() if process.stderr else "")
        self.servers.append(process)
        self.ports[page_port] = found.group(1)
        self.status = 0
        return line

    def local(self, text: str, start: bool = True) -> str:
        """The page's addresses pointed at the servers really running (a default one started on first use)."""
        for port in dict.fromkeys(re.findall(r"(?:127\.0\.0\.1|localhost):(\d+)", text)):
            if port not in self.ports and start:
                self.serve(["--fixtures", "fixtures"], port)
            if port in self.ports:
                text = re.sub(rf"(127\.0\.0\.1|localhost):{port}\b", f"127.0.0.1:{self.ports[port]}", text)
        return text

    def _write_files(self) -> None:
        """The page's files, pointed at the servers running now (a file is written before its server starts)."""
        for name, text in self.files.items():
            (self.folder / name).write_text(self.local(text, start=False))

    # blocks --------------------------------------------------------------------------------------------------
    def read(self, block: Block) -> list[str]:
        """Run one block; the problems found, each naming the page and line."""
        if block.file:
            (self.folder / block.file).parent.mkdir(parents=True, exist_ok=True)
            self.files[block.file] = block.text
            self._write_files()
        lang = block.lang or "text"
        if lang in SKIPPED_LANGS:
            return []
        run = getattr(self, f"_{lang}", None)
        if run is None:
            return [f"{block.where}: no way to run a ```{lang} block (add one to tests/docs/test_code_blocks.py)"]
        try:
            return [f"{block.where}: {problem}" for problem in run(block)]
        except Exception as exc:  # a block that crashes is a problem of the page, reported with the others
            return [f"{block.where}: {type(exc).__name__}: {exc}"]

    def _yaml(self, block: Block) -> list[str]:
        if block.file and Path(block.file).name.startswith(("bad", "broken")):
            return []  # a mistake on purpose: the page's `mockgw check` shows how it is refused
        document = yaml.safe_load(block.text)
        if isinstance(document, dict) and "fixtures" in document and "version" in document:
            parse_document(document, block.where)
            return []
        if isinstance(document, dict) and set(document) <= set(CONFIG_SCHEMA["properties"]):
            path = self.folder / (block.file or "mockgw.yaml")
            path.write_text(block.text)
            try:
                read_config(path)
            except MockgwError as exc:
                return [str(exc)]
            return []
        items = document if isinstance(document, list) else [document]
        parse_document({"version": 1, "fixtures": items}, block.where)  # a fixture or a list of them
        return []

    def _json(self, block: Block) -> list[str]:
        json.loads(block.text)
        return []

    def _toml(self, block: Block) -> list[str]:
        tomllib.loads(block.text)
        return []

    def _python(self, block: Block) -> list[str]:
        name = block.file or f"test_block_{block.line}.py"
        if runs_with_pytest(block):
            return self._pytest(name, block)
        if block.file and block.file != Path(block.file).name:
            return []  # a module of a package the page builds: its test imports it
        if block.file and re.search(rf"python (\S*/)?{re.escape(block.file)}", self._page_text(block)):
            return []  # the page runs it with `python FILE`
        source = self.local(block.text)
        saved = dict(os.environ)
        out = io.StringIO()
        sys.modules[self.module.__name__] = self.module  # pydantic and dataclasses look classes' modules up
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(source, block.where, "exec"), self.module.__dict__)
        finally:
            os.environ.clear()
            os.environ.update(saved)
            del sys.modules[self.module.__name__]
        return []

    def _pytest(self, name: str, block: Block) -> list[str]:
        """A test file of the page, run by pytest with the mockgw plugin, as the reader would."""
        (self.folder / name).write_text(self.local(block.text, start=False))
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "asyncio_mode=strict", name]
        done = subprocess.run(argv, cwd=self.folder, env=self.env, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            return [f"pytest {name} failed:\n{done.stdout[-3000:]}{done.stderr[-2000:]}"]
        not_run = re.search(r"\b\d+ (skipped|deselected|xfailed|xpassed)\b", done.stdout)
        return [f"pytest {name}: a test was {not_run.group(1)}:\n{done.stdout[-3000:]}"] if not_run else []

    def _console(self, block: Block) -> list[str]:
        problems = []
        for command in commands(block.text):
            problems += self._command(command)
        return problems

    def _sh(self, block: Block) -> list[str]:
        """A shell snippet: with `$ ` prompts, commands and their output; without, a script run against `$url`."""
        lines = block.text.splitlines()
        if any(line.startswith("$ ") for line in lines):
            return self._console(block)
        if REMOTE.search(block.text) or all(_not_run(line) for line in lines if line.strip()):
            return []
        return self._script(["bash", "-c", self.local(block.text)], block)

    _bash = _sh

    def _js(self, block: Block) -> list[str]:
        """A Node snippet, run as an ES module with `url` (the server's root) defined, as the CI example has it."""
        script = self.folder / "snippet.mjs"
        script.write_text("const url = process.env.MOCKGW_URL;\n" + block.text)
        return self._script(["node", str(script)], block)

    def _script(self, argv: list[str], block: Block) -> list[str]:
        # a session of its own (`/s/<name>`): the snippet checks a job that did nothing wrong, so it passes
        root = self.local("http://127.0.0.1:8080") + f"/s/snippet-{block.line}"
        env = {**self.env, "url": root, "MOCKGW_URL": root}
        done = subprocess.run(argv, cwd=self.folder, env=env, capture_output=True, text=True, timeout=120, check=False)
        return [] if done.returncode == 0 else [f"exited {done.returncode}:\n{done.stdout}{done.stderr}"]

    def _ini(self, block: Block) -> list[str]:
        configparser.ConfigParser().read_string(block.text)
        return []

    def _command(self, command: Command) -> list[str]:
        line = command.line
        if _not_run(line) or REMOTE.search(line):
            return []
        if line.strip() == "echo $?":
            actual = str(self.status)
        elif line.startswith("mockgw serve"):
            args = line.split()[2:]
            port = args[args.index("--port") + 1] if "--port" in args else "8080"
            actual = self.serve(args, port)
            if self.status and not command.expected.strip():
                return [f"`{line}` did not start:\n{actual}"]
        else:
            self._write_files()
            done = subprocess.run(
                ["bash", "-c", self.local(line)],
                cwd=self.folder,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            self.status = done.returncode
            actual = done.stdout + done.stderr
        if command.expected.strip() and not shows(command.expected, actual):
            self.stale.append((command.expected, self.on_page(actual)))
            return [f"`{line.splitlines()[0]}` printed:\n{actual}\nthe page shows:\n{command.expected}"]
        return []

    def on_page(self, output: str) -> str:
        """Output as the page would show it: the page's own ports, no trailing blank line."""
        for page_port, real in self.ports.items():
            output = output.replace(f"127.0.0.1:{real}", f"127.0.0.1:{page_port}")
        return output.rstrip("\n")

    @staticmethod
    def _page_text(block: Block) -> str:
        return block.page.read_text(encoding="utf-8")


@pytest.fixture
def reader(tmp_path: Path) -> Iterator[Reader]:
    person = Reader(tmp_path)
    yield person
    person.close()


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_every_block_of_the_page_runs(page: Path, reader: Reader) -> None:
    problems = [problem for block in blocks(page) for problem in reader.read(block)]
    if problems and os.environ.get("DOCS_UPDATE") == "1":  # write what was printed into the page; review the diff
        text = page.read_text(encoding="utf-8")
        for shown, printed in reader.stale:
            text = text.replace(shown, printed, 1)
        page.write_text(text, encoding="utf-8")
    assert not problems, "\n\n".join([*problems, "(DOCS_UPDATE=1 pytest tests/docs writes the new output in)"])


def test_the_runner_notices_a_page_that_is_wrong(tmp_path: Path, reader: Reader) -> None:
    page = tmp_path / "wrong.md"
    page.write_text(
        "```console\n$ mockgw check nowhere.yaml\nall good\n```\n\n```yaml\nversion: 1\nfixtures: [{name: x}]\n```\n"
    )
    problems = [problem for block in blocks(page) for problem in reader.read(block)]
    assert len(problems) == 2 and problems[0].startswith("wrong.md:1: `mockgw check nowhere.yaml` printed:")
    assert problems[1].startswith("wrong.md:6: ")
