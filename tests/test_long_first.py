"""The suite's long-first order (tests/support/long_first.py) names tests that exist, and sorts as it says."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.long_first import LONG_FIRST, rank

ROOT = Path(__file__).resolve().parents[1]


def test_every_prefix_still_names_a_folder_a_file_or_a_test() -> None:
    for prefix in LONG_FIRST:
        path, _, test = prefix.partition("::")
        assert (ROOT / path).exists(), prefix
        if test:
            name = re.sub(r"\[.*\]$", "", test)
            assert re.search(rf"^(async )?def {re.escape(name)}\(", (ROOT / path).read_text(), re.M), prefix


def test_the_rank_is_the_first_prefix_that_matches() -> None:
    assert rank("tests/server/test_schemathesis.py::test_x") == 0
    pytest_md = "tests/docs/test_code_blocks.py::test_every_block_of_the_page_runs[pytest.md]"
    readme = "tests/docs/test_code_blocks.py::test_every_block_of_the_page_runs[README.md]"
    assert rank(pytest_md) < rank(readme) < len(LONG_FIRST)
    assert rank("tests/core/test_frozen.py::test_x") == len(LONG_FIRST)
