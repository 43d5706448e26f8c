"""GitHub-flavoured Markdown, for a PR description or a CI job summary."""

from __future__ import annotations

from tabulate import tabulate

from ctbench.render.format import Format
from ctbench.render.table import headers, rows
from ctbench.report.model import COMPARISONS_HEADING, Report


def render(report: Report, width: int = 80) -> str:
    body = tabulate(
        rows(report), headers=headers(report), tablefmt="github", disable_numparse=True
    )
    lines = [f"### {report.title}", ""]
    if report.lead:
        lines += ["```", *report.lead, "```", ""]
    lines += [report.table_method, "", body, ""]
    if report.comparisons:
        lines += [COMPARISONS_HEADING, ""]
        lines += [f"- {c}" for c in report.comparisons] + [""]
    lines += [f"- {s}" for s in report.summary]
    if report.warnings:
        lines += [""] + [f"> {w}" for w in report.warnings]
    return "\n".join(lines) + "\n"


FORMAT = Format("markdown", render, "GitHub Markdown, for a PR or a CI job summary")
