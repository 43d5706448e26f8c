"""The grouped report for a terminal: the patch's layout drawn by rich.

No figure is ever cut short: the phase labels wrap first, and a table that
still does not fit is drawn as wide as it needs, with a note, rather than
let rich shorten its numbers to "…".
"""

from __future__ import annotations

import io

from rich.console import Console, Group, RenderableType
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from ctbench.render.format import Format, cell
from ctbench.report.document import COMPARISONS_HEADING, Report

# Wider than any table a report makes: measuring at this width gives the
# table's own minimum, not one clamped to the terminal.
_UNBOUNDED = 100_000


def _table(report: Report) -> Table:
    # Labels come from files and backend options: Text keeps rich from
    # reading "[...]" in them as markup.
    table = Table(
        title=Text(report.title),
        caption=Text(report.method),
        caption_justify="left",
    )
    # At a narrow width the phase labels wrap at their spaces; a backend's
    # label stays whole, and the figures never wrap.
    backends = [f"  {row.label}" for group in report.groups for row in group.rows]
    table.add_column(
        "phase / backend", overflow="fold", min_width=max(map(len, backends), default=0)
    )
    for column in report.grouped:
        table.add_column(column.label, justify="right", no_wrap=True)
    for group in report.groups:
        table.add_row(Text(group.label, style="bold"))
        for row in group.rows:
            values = [cell(c, row.values.get(c.key)) for c in report.grouped]
            table.add_row(Text(f"  {row.label}"), *map(Text, values))
        table.add_section()
    return table


def renderable(report: Report, note: str | None = None) -> RenderableType:
    parts: list[RenderableType] = [Text(line) for line in report.lead]
    parts.append(_table(report))
    if report.comparisons:
        parts.append(Text(COMPARISONS_HEADING, style="bold"))
        parts += [Text(f"* {c}") for c in report.comparisons]
    parts += [Text(line) for line in report.summary]
    parts += [Text(w, style="yellow") for w in report.warnings]
    if note:
        parts.append(Text(note, style="yellow"))
    return Group(*parts)


def table_width(report: Report) -> int:
    """The fewest columns the table takes with every figure and backend
    label whole (the phase labels wrapped at their spaces)."""
    console = Console(file=io.StringIO(), width=_UNBOUNDED)
    return Measurement.get(console, console.options, _table(report)).minimum


def render(report: Report, width: int = 80) -> str:
    """The rich view as text with the terminal's escape codes, ``width``
    columns wide, or wider, with a note, when its figures need more."""
    need = table_width(report)
    note = None
    if need > width:
        note = (
            f"NOTE: this table needs {need} columns and {width} were available: "
            "it is drawn at full width, so its lines run past the edge, rather "
            "than cut its figures short."
        )
    out = io.StringIO()
    console = Console(
        file=out, width=max(width, need), force_terminal=True, highlight=False
    )
    console.print(renderable(report, note))
    return out.getvalue()


FORMAT = Format("rich", render, "the grouped table drawn for a terminal")
