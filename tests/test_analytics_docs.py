"""docs/analytics.md shows the tables that are in the code, not a stale copy."""

from __future__ import annotations

from pathlib import Path

from crm.analytics.competence import value_creation_matrix_markdown
from crm.analytics.rfm import RFM_CELL_GRID

DOC = Path(__file__).resolve().parent.parent / "docs" / "analytics.md"


def test_the_documented_value_creation_matrix_equals_the_code() -> None:
    text = DOC.read_text()
    start = "<!-- value-creation-matrix:start -->\n"
    end = "<!-- value-creation-matrix:end -->"
    documented = text[text.index(start) + len(start) : text.index(end)]
    assert documented == value_creation_matrix_markdown()


def test_the_documented_rfm_cells_equal_the_code() -> None:
    lines = DOC.read_text().splitlines()
    header = lines.index("| R \\ FM | 1 | 2 | 3 | 4 | 5 |")
    rows = lines[header + 2 : header + 7]
    for score, (line, cells) in zip(
        range(5, 0, -1), zip(rows, RFM_CELL_GRID, strict=True), strict=True
    ):
        documented = [c.strip() for c in line.strip("|").split("|")]
        assert documented == [str(score), *(cell.value for cell in cells)]
