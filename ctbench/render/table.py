"""Every statistic, one row per phase and backend (tabulate, plain text)."""

from __future__ import annotations

from tabulate import tabulate

from ctbench.render.common import (
    THROUGHPUT_COLUMNS,
    Row,
    conntrack_lines,
    fmt_rate,
    method_note,
    num,
    phase_label,
    row_label,
    rows,
    summary_lines,
    throughput,
    title,
    warnings,
)
from ctbench.results import RunResult

STAT_COLUMNS = ("min", "max", "mean", "median", "p95", "p99", "stdev", "count")
OVS_COLUMNS = ("ovs_ewma", "ovs_p95")


def headers(run: RunResult) -> list[str]:
    cols = ["phase", "backend", *STAT_COLUMNS]
    if run.ovs_stats:
        cols += OVS_COLUMNS
    if run.command == "benchmark":
        cols += THROUGHPUT_COLUMNS
    return cols


def cells(run: RunResult, row: Row, fmt: bool = True) -> list[object]:
    values: list[object] = [phase_label(row.phase), row_label(row.backend)]
    stats = row.stats.as_dict()
    for col in STAT_COLUMNS + (OVS_COLUMNS if run.ovs_stats else ()):
        value = stats.get(col)
        if col == "count":
            values.append(value)
        else:
            values.append(num(float(value)) if fmt and value is not None else value)
    if run.command == "benchmark":
        rates = throughput(row.backend)
        values += [fmt_rate(v) for v in rates] if fmt else rates
    return values


def render(run: RunResult) -> str:
    body = tabulate(
        [cells(run, r) for r in rows(run)],
        headers=headers(run),
        tablefmt="simple",
        disable_numparse=True,
        colalign=("left", "left") + ("right",) * (len(headers(run)) - 2),
    )
    lines = [title(run), *conntrack_lines(run), method_note(run), "", body, ""]
    lines += summary_lines(run)
    extra = warnings(run)
    if extra:
        lines += [""] + extra
    return "\n".join(lines) + "\n"
