"""Options for the pytest runs a test starts in a subprocess (a user's suite, a docs page's test file).

This venv holds the pytest plugins of hypothesis, schemathesis and langsmith (a langchain dependency): a user's suite
needs none of them, and importing them cost ~3 s of CPU per pytest process, most of a small run (and as much per
pytester in-process run, which drops and re-imports what it imported). mockgw's own plugin is still found by its entry
point, as in a user's venv.
"""

from __future__ import annotations

LEAN: tuple[str, ...] = ("-p", "no:hypothesispytest", "-p", "no:schemathesis", "-p", "no:langsmith_plugin")
