"""`python -m schemathesis.cli`, with `ast.parse` made safe to call from two threads at once.

CPython 3.11 keeps the AST constructor's recursion depth in state the whole interpreter shares: two threads parsing
at once can trip `SystemError: AST constructor recursion depth mismatch (before=186, after=179)` (CPython
gh-106905 and the threads behind it). schemathesis's `--workers 2` are threads, and Hypothesis calls `ast.parse`
as it generates and describes cases (its pretty printer, lambda sources): now and then, under load, a case errored
that way. A lock around `ast.parse` (which `ast.literal_eval` uses too) serialises the parses and nothing else.
"""

from __future__ import annotations

import ast
import runpy
import threading
from typing import Any

_PARSING = threading.Lock()
_parse = ast.parse


def _serialised_parse(*args: Any, **kwargs: Any) -> Any:
    with _PARSING:
        return _parse(*args, **kwargs)


if __name__ == "__main__":
    ast.parse = _serialised_parse
    runpy.run_module("schemathesis.cli", run_name="__main__", alter_sys=True)
