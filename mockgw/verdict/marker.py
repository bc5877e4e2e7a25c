"""`@pytest.mark.mockgw_matrix`: one test, run once per cell of a matrix with that cell's fault active.

The plugin imports the hooks and the fixture from here. The test id names the cell (`test_bot[reset-before-headers]`)
and the `mockgw_cell` fixture gives the Cell, so a test can assert what the app did under each fault.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from mockgw.handle import MockgwHandle
from mockgw.verdict.default_matrix import default_matrix
from mockgw.verdict.matrix import Cell, Matrix, cell_rule, load_matrix, parse_matrix

MARKER = "mockgw_matrix"
CELL_FIXTURE = "mockgw_cell"


def configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(matrix=None): run the test once per cell of the matrix (a file, a dict, or the built-in one) "
        "with the cell's fault active on the mockgw fixture; the `mockgw_cell` fixture is the cell",
    )


def matrix_for(marker: pytest.Mark, base: Path) -> Matrix:
    """The marker's matrix: its argument (a path relative to the test file, a document, a Matrix) or the default."""
    given: Any = marker.args[0] if marker.args else marker.kwargs.get("matrix")
    if given is None:
        return default_matrix()
    if isinstance(given, Matrix):
        return given
    if isinstance(given, Mapping):
        return parse_matrix(given, "<mockgw_matrix marker>")
    path = Path(given)
    return load_matrix(path if path.is_absolute() else base / path)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise a marked test with the matrix's cells, named by the cells."""
    marker = metafunc.definition.get_closest_marker(MARKER)
    if marker is None:
        return
    matrix = matrix_for(marker, metafunc.definition.path.parent)
    if CELL_FIXTURE not in metafunc.fixturenames:
        metafunc.fixturenames.append(CELL_FIXTURE)
    metafunc.parametrize(CELL_FIXTURE, matrix.cells, ids=[c.name for c in matrix.cells], indirect=True)


def cell_of(node: pytest.Item | Any) -> Cell | None:
    """The cell a parametrised test runs under, if any."""
    callspec = getattr(node, "callspec", None)
    found = callspec.params.get(CELL_FIXTURE) if callspec is not None else None
    return found if isinstance(found, Cell) else None


def settings_changes(node: pytest.Item | Any) -> dict[str, Any]:
    """Server settings a cell needs (a rate limit is a setting of the whole server, so it gets a server of its own)."""
    cell = cell_of(node)
    if cell is None or cell.rate_limit is None:
        return {}
    return {"rate_limit": dict(cell.rate_limit)}


@pytest.fixture
def mockgw_cell(request: pytest.FixtureRequest, mockgw: MockgwHandle) -> Cell:
    """The matrix cell this test runs under; its fault is already active on the `mockgw` fixture."""
    cell = getattr(request, "param", None)
    if not isinstance(cell, Cell):
        pytest.fail(f"`{CELL_FIXTURE}` is given by @pytest.mark.{MARKER}; mark the test with it.", pytrace=False)
    rule = cell_rule(cell)
    if rule is not None:
        mockgw.fault(rule)
    return cell
