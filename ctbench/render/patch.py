"""The patch's grouped layout, in ASCII: one group per phase, one row per
backend, columns Min, Max, 95%ile, Avg; then "Comparing the averages", the
summary and the warnings.  What you paste into a patch email."""

from __future__ import annotations

from ctbench.render.format import Format, cell
from ctbench.report.document import COMPARISONS_HEADING, Report


def box(report: Report) -> list[str]:
    """The table's lines: a header box, then a section per phase."""
    cols = report.grouped
    groups = [
        (
            g.label,
            [(r.label, [cell(c, r.values.get(c.key)) for c in cols]) for r in g.rows],
        )
        for g in report.groups
    ]
    labels = [g for g, _ in groups] + [m for _, ms in groups for m, _ in ms]
    first = max(map(len, labels), default=10)
    widths = [len(c.label) for c in cols]
    for _, members in groups:
        for _, values in members:
            widths = [max(w, len(v)) for w, v in zip(widths, values, strict=True)]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    lead = " " * (first + 3)
    heads = "|".join(f" {c.label:>{w}} " for c, w in zip(cols, widths, strict=True))
    lines = [lead + rule, f"{lead}|{heads}|"]
    sep = "+" + "-" * (first + 2) + rule
    lines.append(sep)
    for group, members in groups:
        blank = "|".join(" " * (w + 2) for w in widths)
        lines.append(f"| {group:<{first}} |{blank}|")
        for label, values in members:
            cells = "|".join(f" {v:>{w}} " for v, w in zip(values, widths, strict=True))
            lines.append(f"| {label:>{first}} |{cells}|")
        lines.append(sep)
    return lines


def render(report: Report, width: int = 80) -> str:
    lines = [report.title, *report.lead, report.method, "", *box(report)]
    if report.comparisons:
        lines += ["", COMPARISONS_HEADING]
        lines += [f"* {c}" for c in report.comparisons]
    lines += ["", *report.summary]
    if report.warnings:
        lines += ["", *report.warnings]
    return "\n".join(lines) + "\n"


FORMAT = Format("patch", render, "the patch's grouped ASCII table, to paste")
