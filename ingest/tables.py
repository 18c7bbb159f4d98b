"""Tableau → Markdown table, merged cells expanded.

`Cellule@fusionHorizontale=n` spans n columns, `@fusionVerticale=n` spans n rows. A
Markdown table has no spans, so a merged cell's text is repeated in every grid slot it
covers: each row then reads on its own, which matters once a table is split across
chunks. Several header rows are folded into one header line ("Montant — PLAI").
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.inline import InlineRenderer, collapse
from ingest.tree import Element


@dataclass
class Grid:
    header: list[list[str]]
    body: list[list[str]]
    width: int


def table_grid(tableau: Element, inline: InlineRenderer) -> Grid:
    rows = tableau.elements("Rangée")
    width = max(len(tableau.elements("Colonne")), _widest_row(rows))
    grid: list[list[str | None]] = []
    for r, row in enumerate(rows):
        _ensure_rows(grid, r + 1, width)
        col = 0
        for cell in row.elements("Cellule"):
            while col < width and grid[r][col] is not None:
                col += 1
            text = cell_text(cell, inline)
            across = _span(cell, "fusionHorizontale")
            down = _span(cell, "fusionVerticale")
            _ensure_rows(grid, r + down, width)
            width = _ensure_width(grid, col + across, width)
            for dr in range(down):
                for dc in range(across):
                    grid[r + dr][col + dc] = text
            col += across
    filled = [[c or "" for c in row] for row in grid[: len(rows)]]
    header_count = 0
    for row in rows:
        if row.get("type") != "header":
            break
        header_count += 1
    return Grid(filled[:header_count], filled[header_count:], width)


def cell_text(cell: Element, inline: InlineRenderer) -> str:
    parts: list[str] = []
    for child in cell.elements():
        if child.name == "Liste":
            parts.append("; ".join(cell_text(item, inline) for item in child.elements("Item")))
        else:
            parts.append(inline.text(child))
    return " ".join(p for p in parts if p).replace("|", "\\|")


def render_table(tableau: Element, inline: InlineRenderer) -> str:
    """A Markdown table, preceded by its title in bold when it has one."""
    grid = table_grid(tableau, inline)
    if grid.width == 0:
        return ""
    lines = [_row(_fold_header(grid.header, grid.width)), _row(["---"] * grid.width)]
    lines += [_row(row) for row in grid.body]
    title = inline.text(tableau.first("Titre"))
    summary = inline.text(tableau.first("Resume"))
    intro = [f"**{title}**"] if title else []
    if summary:
        intro.append(summary)
    return "\n\n".join(intro + ["\n".join(lines)])


def _fold_header(header: list[list[str]], width: int) -> list[str]:
    folded = []
    for col in range(width):
        labels: list[str] = []
        for row in header:
            if row[col] and row[col] not in labels:
                labels.append(row[col])
        folded.append(" — ".join(labels))
    return folded


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(collapse(c) for c in cells) + " |"


def _span(cell: Element, attribute: str) -> int:
    try:
        return max(1, int(cell.get(attribute, "1") or 1))
    except ValueError:
        return 1


def _widest_row(rows: list[Element]) -> int:
    return max((sum(_span(c, "fusionHorizontale") for c in row.elements("Cellule")) for row in rows), default=0)


def _ensure_width(grid: list[list[str | None]], needed: int, width: int) -> int:
    if needed > width:
        for row in grid:
            row.extend([None] * (needed - width))
    return max(needed, width)


def _ensure_rows(grid: list[list[str | None]], count: int, width: int) -> None:
    while len(grid) < count:
        grid.append([None] * width)
