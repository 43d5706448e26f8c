"""The grouped report for a terminal: the patch's layout drawn by rich."""

from __future__ import annotations

import io

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from ctbench.render.format import Format, cell
from ctbench.report.model import COMPARISONS_HEADING, Report


def renderable(report: Report) -> RenderableType:
    # Labels come from files and backend options: Text keeps rich from
    # reading "[...]" in them as markup.
    table = Table(
        title=Text(report.title),
        caption=Text(report.method),
        caption_justify="left",
    )
    table.add_column("phase / backend", no_wrap=True)
    for column in report.grouped:
        table.add_column(column.label, justify="right", no_wrap=True)
    for group in report.groups:
        table.add_row(Text(group.label, style="bold"))
        for row in group.rows:
            values = [cell(c, row.values.get(c.key)) for c in report.grouped]
            table.add_row(Text(f"  {row.label}"), *map(Text, values))
        table.add_section()
    parts: list[RenderableType] = [Text(line) for line in report.lead]
    parts.append(table)
    if report.comparisons:
        parts.append(Text(COMPARISONS_HEADING, style="bold"))
        parts += [Text(f"* {c}") for c in report.comparisons]
    parts += [Text(line) for line in report.summary]
    parts += [Text(w, style="yellow") for w in report.warnings]
    return Group(*parts)


def render(report: Report, width: int = 80) -> str:
    """The rich view as text with the terminal's escape codes, ``width``
    columns wide."""
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=True, highlight=False)
    console.print(renderable(report))
    return out.getvalue()


FORMAT = Format("rich", render, "the grouped table drawn for a terminal")
