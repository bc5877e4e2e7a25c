"""The README's pytest example is true: its application and test files, run as a user would, pass.

tests/docs/test_code_blocks.py runs them: it writes the page's named blocks to files and runs each test file with
pytest and the mockgw plugin, as a reader would, and fails on a failed, errored or skipped test. Here: that the
section is the two files it says, that its test file has its three tests, and that the docs runner takes it as a
test file to run. (Until now this file ran the same pytest a second time.)
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.docs.test_code_blocks import runs_with_pytest
from tests.support.docblocks import blocks

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


def test_the_pytest_section_runs_as_written() -> None:
    files = readme_files("Using mockgw in pytest")
    assert set(files) == {"app.py", "test_app.py"}
    assert len(re.findall(r"^(?:async )?def test_", files["test_app.py"], flags=re.M)) == 3
    run = [block for block in blocks(README) if block.file == "test_app.py" and runs_with_pytest(block)]
    assert [block.text for block in run] == [files["test_app.py"]]
