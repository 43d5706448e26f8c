"""The patch's grouped layout: one group per phase, one row per backend,
columns Min, Max, 95%ile, Avg, then "Comparing the averages" and the fill.

For the threaded ``benchmark`` command, ovstest's ``conntrack:  NNN ms`` line
of each backend comes first and the rows gain throughput columns."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ctbench.render.common import (
    COMPARE_MEANS_HEADING,
    THROUGHPUT_LABELS,
    Row,
    compare_means,
    conntrack_lines,
    fmt_rate,
    method_note,
    num,
    phase_label,
    phase_names,
    row_label,
    rows,
    summary_lines,
    throughput,
    title,
    warnings,
)
from ctbench.results import RunResult


def _columns(run: RunResult) -> list[str]:
    cols = ["Min", "Max", "95%ile", "Avg"]
    if run.ovs_stats:
        cols += ["OVS 95%ile", "OVS Avg"]
    if run.command == "benchmark":
        cols += list(THROUGHPUT_LABELS.values())
    return cols


def _values(run: RunResult, row: Row) -> list[str]:
    s = row.stats
    values = [num(s.min), num(s.max), num(s.p95), num(s.mean)]
    if run.ovs_stats:
        values += [num(s.ovs_p95), num(s.ovs_ewma)]
    if run.command == "benchmark":
        values += [fmt_rate(v) for v in throughput(row.backend)]
    return values


def _grouped(run: RunResult) -> list[tuple[str, list[tuple[str, list[str]]]]]:
    by_phase: dict[str, list[tuple[str, list[str]]]] = {p: [] for p in phase_names(run)}
    for row in rows(run):
        by_phase[row.phase].append((row_label(row.backend), _values(run, row)))
    return [(phase_label(p), members) for p, members in by_phase.items() if members]


def _box(run: RunResult) -> list[str]:
    cols = _columns(run)
    groups = _grouped(run)
    labels = [g for g, _ in groups] + [m for _, ms in groups for m, _ in ms]
    first = max(map(len, labels), default=10)
    widths = [len(c) for c in cols]
    for _, members in groups:
        for _, values in members:
            widths = [max(w, len(v)) for w, v in zip(widths, values, strict=True)]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    lead = " " * (first + 3)
    lines = [
        lead + rule,
        lead
        + "|"
        + "|".join(f" {c:>{w}} " for c, w in zip(cols, widths, strict=True))
        + "|",
    ]
    sep = "+" + "-" * (first + 2) + rule
    lines.append(sep)
    for group, members in groups:
        lines.append(
            f"| {group:<{first}} |" + "|".join(" " * (w + 2) for w in widths) + "|"
        )
        for label, values in members:
            cells = "|".join(f" {v:>{w}} " for v, w in zip(values, widths, strict=True))
            lines.append(f"| {label:>{first}} |{cells}|")
        lines.append(sep)
    return lines


def render(run: RunResult) -> str:
    lines = [title(run)]
    lines += conntrack_lines(run)
    lines += [method_note(run), ""]
    lines += _box(run)
    comparisons = compare_means(run)
    if comparisons:
        lines += ["", COMPARE_MEANS_HEADING]
        lines += [f"* {c}" for c in comparisons]
    lines += [""] + summary_lines(run)
    extra = warnings(run)
    if extra:
        lines += [""] + extra
    return "\n".join(lines) + "\n"


def render_rich(run: RunResult) -> RenderableType:
    """The same report for a terminal."""
    # Labels come from files and backend options: Text keeps rich from
    # reading "[...]" in them as markup.
    table = Table(
        title=Text(title(run)), caption=Text(method_note(run)), caption_justify="left"
    )
    table.add_column("phase / backend", no_wrap=True)
    for col in _columns(run):
        table.add_column(col, justify="right", no_wrap=True)
    for group, members in _grouped(run):
        table.add_row(Text(group, style="bold"))
        for label, values in members:
            table.add_row(Text(f"  {label}"), *map(Text, values))
        table.add_section()
    parts: list[RenderableType] = [Text(line) for line in conntrack_lines(run)]
    parts.append(table)
    comparisons = compare_means(run)
    if comparisons:
        parts.append(Text(COMPARE_MEANS_HEADING, style="bold"))
        parts += [Text(f"* {c}") for c in comparisons]
    parts += [Text(line) for line in summary_lines(run)]
    parts += [Text(w, style="yellow") for w in warnings(run)]
    return Group(*parts)
