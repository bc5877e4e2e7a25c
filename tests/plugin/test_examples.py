"""The example suites in examples/ pass as a user would run them (each in its own folder, app unmodified)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

# Imported once here: pytester's in-process runs drop the modules they import (re-importing costs seconds).
import edgee  # noqa: F401
import langchain_openai  # noqa: F401
import openai  # noqa: F401
import pytest

from tests.support.lean_pytest import LEAN

pytest_plugins = ["pytester"]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SUITES = sorted(path.parent.name for path in EXAMPLES.glob("*/test_app.py"))


def test_every_example_is_covered() -> None:
    assert SUITES == ["edgee_sync", "langchain", "openai_async"]


@pytest.mark.parametrize("suite", SUITES)
def test_example_suite_passes(pytester: pytest.Pytester, suite: str) -> None:
    for file in (EXAMPLES / suite).iterdir():
        if file.is_file():
            shutil.copy(file, pytester.path / file.name)
    tests = len(re.findall(r"^(?:async )?def test_", (EXAMPLES / suite / "test_app.py").read_text(), re.MULTILINE))
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=function", *LEAN
    )
    result.assert_outcomes(passed=tests)
