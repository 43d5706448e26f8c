"""Every statistic, one row per phase and backend (tabulate, plain text)."""

from __future__ import annotations

from tabulate import tabulate

from ctbench.render.format import Format, cell
from ctbench.report.document import Report


def rows(report: Report) -> list[list[str]]:
    return [
        [
            group.label,
            row.label,
            *(cell(c, row.values.get(c.key)) for c in report.columns),
        ]
        for group in report.groups
        for row in group.rows
    ]


def headers(report: Report) -> list[str]:
    return ["phase", "backend", *(c.key for c in report.columns)]


def render(report: Report, width: int = 80) -> str:
    heads = headers(report)
    body = tabulate(
        rows(report),
        headers=heads,
        tablefmt="simple",
        disable_numparse=True,
        colalign=("left", "left") + ("right",) * (len(heads) - 2),
    )
    lines = [report.title, *report.lead, report.table_method, "", body, ""]
    lines += report.summary
    if report.warnings:
        lines += ["", *report.warnings]
    return "\n".join(lines) + "\n"


FORMAT = Format("table", render, "every statistic, a row per phase and backend")
