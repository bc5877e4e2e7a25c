"""The README's pytest example is true: its application and test files, run as a user would, pass."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.lean_pytest import LEAN

pytest_plugins = ["pytester"]
README = Path(__file__).resolve().parents[2] / "README.md"


def readme_files(section: str) -> dict[str, str]:
    """The Python blocks of a README section that start with a `# <file name>` comment, by file name."""
    text = README.read_text(encoding="utf-8")
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    files = {}
    for block in re.findall(r"```python\n(.*?)```", body, flags=re.S):
        first = block.splitlines()[0]
        found = re.match(r"# (\w+\.py)", first)
        if found:
            files[found.group(1)] = block
    return files


def test_the_pytest_section_runs_as_written(pytester: pytest.Pytester) -> None:
    files = readme_files("Using mockgw in pytest")
    assert set(files) == {"app.py", "test_app.py"}
    for name, source in files.items():
        pytester.makepyfile(**{name.removesuffix(".py"): source})
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-o", "asyncio_mode=strict", *LEAN)
    result.assert_outcomes(passed=3)
