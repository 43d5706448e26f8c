"""A comparison as a terminal table."""

from __future__ import annotations

from tabulate import tabulate

from ctbench.render.comparison.format import ComparisonFormat
from ctbench.report.comparison import ComparisonReport


def render(r: ComparisonReport) -> str:
    ratio_columns = len(r.headers) - 3
    body = tabulate(
        r.rows,
        headers=r.headers,
        tablefmt="simple",
        disable_numparse=True,
        colalign=("left", "left") + ("right",) * ratio_columns + ("left",),
    )
    lines = [r.title, *r.method, "", body, "", r.counters[0]]
    lines += [f"  {line}" for line in r.counters[1:]]
    lines += [f"NOTE: {n}" for n in r.notes]
    lines += ["", r.outcome]
    return "\n".join(lines) + "\n"


FORMAT = ComparisonFormat("table", render, "a table for a terminal")
