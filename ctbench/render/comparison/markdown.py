"""A comparison as Markdown, for a CI job summary."""

from __future__ import annotations

from tabulate import tabulate

from ctbench.render.comparison.format import ComparisonFormat
from ctbench.report.comparison import SUMMARY_HEADING, ComparisonReport


def render(r: ComparisonReport) -> str:
    body = tabulate(r.rows, headers=r.headers, tablefmt="github", disable_numparse=True)
    lines = [f"### {r.title}", "", f"**{r.outcome}**", ""]
    if r.rows or not r.summary_rows:
        lines += [body, ""]
    if r.summary_rows:
        summary = tabulate(
            r.summary_rows,
            headers=r.summary_headers,
            tablefmt="github",
            disable_numparse=True,
        )
        lines += [f"**{SUMMARY_HEADING}**", "", summary, ""]
    lines += [*r.method, "", r.counters[0]]
    if r.counters[1:]:
        lines += [""] + [f"- {line}" for line in r.counters[1:]]
    if r.notes:
        lines += [""] + [f"- Note: {n}" for n in r.notes]
    return "\n".join(lines) + "\n"


FORMAT = ComparisonFormat("markdown", render, "Markdown, for a CI job summary")
