"""Importing PyYAML without compiling the one pattern only its pure-Python reader uses (`mockgw serve` only).

`yaml/reader.py` compiles `NON_PRINTABLE`, a character class over most of Unicode, while PyYAML is imported: about
3 ms, the largest part of `import yaml` and 2 % of a server's start. mockgw parses YAML with libyaml (CSafeLoader),
which checks for unprintable characters itself; PyYAML's pure-Python reader only runs to word a mistake, or where
PyYAML was built without libyaml. So the command line imports PyYAML with that one pattern deferred: the class
attribute is a stand-in that compiles the same pattern when it is first used, and then does what it does.
"""

from __future__ import annotations

import re
import sys
from typing import Any

# yaml/reader.py's pattern, character for character (PyYAML 5.1 and later); if a release changes it, the new one is
# compiled at import as usual
NON_PRINTABLE = "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"


class DeferredPattern:
    """A regular expression compiled the first time anything of it is used; then it behaves as the compiled one."""

    __slots__ = ("_compiled", "_flags", "_source")

    def __init__(self, source: str, flags: int = 0) -> None:
        self._source = source
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    def compiled(self) -> re.Pattern[str]:
        """The pattern, compiled now if it was not yet."""
        if self._compiled is None:
            self._compiled = re.compile(self._source, self._flags)
        return self._compiled

    def __getattr__(self, name: str) -> Any:  # search, match, sub, pattern, flags...: the compiled pattern's
        return getattr(self.compiled(), name)

    def __repr__(self) -> str:
        return repr(self.compiled())


def import_yaml() -> None:
    """Import PyYAML with `NON_PRINTABLE` deferred; nothing when something imported PyYAML already."""
    if "yaml" in sys.modules:
        return
    compile_now = re.compile

    def compile_later(pattern: Any, flags: Any = 0) -> Any:
        if pattern == NON_PRINTABLE and not flags:
            return DeferredPattern(pattern)
        return compile_now(pattern, flags)

    re.compile = compile_later  # for the length of this import only (start-up is single-threaded here)
    try:
        import yaml  # noqa: F401
    finally:
        re.compile = compile_now
