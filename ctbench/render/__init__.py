"""The output formats: each a thin layout of a report, returning a string.

A format is one module with a ``FORMAT``; registering it here is all a new
one needs.  Only the command line prints.
"""

from __future__ import annotations

from typing import Final

from ctbench.render import csv_format, json_format, markdown, patch, rich_view, table
from ctbench.render.format import Format
from ctbench.report.build import build_report
from ctbench.report.document import Report
from ctbench.results import RunResult

FORMATS: Final[dict[str, Format]] = {
    f.name: f
    for f in (
        patch.FORMAT,
        table.FORMAT,
        markdown.FORMAT,
        csv_format.FORMAT,
        json_format.FORMAT,
        rich_view.FORMAT,
    )
}


def render(run: RunResult, fmt: str, width: int = 80) -> str:
    """``run`` in the format named ``fmt``."""
    return FORMATS[fmt].layout(build_report(run), width)


def lay_out(report: Report, fmt: str, width: int = 80) -> str:
    return FORMATS[fmt].layout(report, width)


__all__ = ["FORMATS", "Format", "lay_out", "render"]
