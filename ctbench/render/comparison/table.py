"""A comparison as a terminal table."""

from __future__ import annotations

from tabulate import tabulate

from ctbench.render.comparison.format import ComparisonFormat
from ctbench.report.comparison import SUMMARY_HEADING, ComparisonReport


def render(r: ComparisonReport) -> str:
    ratio_columns = len(r.headers) - 3
    body = tabulate(
        r.rows,
        headers=r.headers,
        tablefmt="simple",
        disable_numparse=True,
        colalign=("left", "left") + ("right",) * ratio_columns + ("left",),
    )
    lines = [r.title, *r.method, ""]
    if r.rows or not r.summary_rows:
        lines += [body, ""]
    if r.summary_rows:
        lines += [SUMMARY_HEADING, _summary_table(r), ""]
    lines += [r.counters[0]]
    lines += [f"  {line}" for line in r.counters[1:]]
    lines += [f"NOTE: {n}" for n in r.notes]
    lines += ["", r.outcome]
    return "\n".join(lines) + "\n"


def _summary_table(r: ComparisonReport) -> str:
    return str(
        tabulate(
            r.summary_rows,
            headers=r.summary_headers,
            tablefmt="simple",
            disable_numparse=True,
            colalign=("left", "left") + ("right",) * (len(r.summary_headers) - 2),
        )
    )


FORMAT = ComparisonFormat("table", render, "a table for a terminal")
