"""The code blocks of a Markdown page, as a reader meets them: language, line, text, and the file it names.

A block names a file when the paragraph just before it starts with the name in backticks (`agent.yaml`:) or the
block's first line is a comment with the name (`# app.py`); the docs runner writes such blocks to that file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^```(\w*)\s*$")
NAMED_BY_PROSE = re.compile(
    r"(?:^`([\w./-]+\.(?:ya?ml|py|json|mjs|js|toml|sh))`|`([\w./-]+\.(?:ya?ml|py|json|mjs|js|toml|sh))`:$)"
)
NAMED_BY_COMMENT = re.compile(r"^(?:#|//) ([\w./-]+\.(?:ya?ml|py|json|mjs|js|toml|sh))\b")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    page: Path
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    file: str | None  # the file the page says this block is

    @property
    def where(self) -> str:
        return f"{self.page.name}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """Every fenced block of `page`, in order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        end = index + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        text = "\n".join(lines[index + 1 : end]) + "\n"
        found.append(Block(page, index + 1, opening.group(1), text, _named(lines, index, text)))
        index = end + 1
    return found


def _named(lines: list[str], fence: int, text: str) -> str | None:
    first = text.splitlines()[0] if text.strip() else ""
    by_comment = NAMED_BY_COMMENT.match(first)
    if by_comment:
        return by_comment.group(1)
    before = fence - 1
    while before >= 0 and not lines[before].strip():
        before -= 1
    by_prose = NAMED_BY_PROSE.search(lines[before].strip()) if before >= 0 else None
    return (by_prose.group(1) or by_prose.group(2)) if by_prose else None


@dataclass(frozen=True)
class Command:
    """A `$ command` of a console block and the output the page shows for it."""

    line: str  # the command, continuation lines joined as the shell reads them
    expected: str


def commands(text: str) -> list[Command]:
    """The commands of a console block: `$ ` starts one; it goes on while a quote is open or a line ends in `\\`."""
    result: list[Command] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        if not lines[index].startswith("$ "):
            index += 1
            continue
        command = [lines[index][2:]]
        while _open(command) and index + 1 < len(lines):
            index += 1
            command.append(lines[index])
        index += 1
        output = []
        while index < len(lines) and not lines[index].startswith("$ "):
            output.append(lines[index])
            index += 1
        result.append(Command("\n".join(command), "\n".join(output)))
    return result


def _open(command: list[str]) -> bool:
    text = "\n".join(command)
    quotes = re.sub(r"\"[^\"]*\"", "", re.sub(r"'[^']*'", "", text))  # quoted parts removed, single first
    return text.rstrip().endswith("\\") or "'" in quotes or '"' in quotes
