"""A comparison as Markdown, for a CI job summary."""

from __future__ import annotations

from ctbench.render.comparison.format import ComparisonFormat
from ctbench.render.markdown import markdown_table
from ctbench.report.comparison import SUMMARY_HEADING, ComparisonReport


def render(r: ComparisonReport) -> str:
    body = markdown_table(r.rows, r.headers)
    lines = [f"### {r.title}", "", f"**{r.outcome}**", ""]
    if r.rows or not r.summary_rows:
        lines += [body, ""]
    if r.summary_rows:
        summary = markdown_table(r.summary_rows, r.summary_headers)
        lines += [f"**{SUMMARY_HEADING}**", "", summary, ""]
    lines += [*r.method, "", r.counters[0]]
    if r.counters[1:]:
        lines += [""] + [f"- {line}" for line in r.counters[1:]]
    if r.notes:
        lines += [""] + [f"- Note: {n}" for n in r.notes]
    return "\n".join(lines) + "\n"


FORMAT = ComparisonFormat("markdown", render, "Markdown, for a CI job summary")
