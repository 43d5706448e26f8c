"""GitHub-flavoured Markdown, for a PR description or a CI job summary."""

from __future__ import annotations

from collections.abc import Sequence

from tabulate import tabulate

from ctbench.render.format import Format
from ctbench.render.table import headers, rows
from ctbench.report.document import COMPARISONS_HEADING, Report


def markdown_table(body: Sequence[Sequence[str]], heads: Sequence[str]) -> str:
    """A GitHub table whose cells may hold a "|" (a file or backend label):
    it is written "\\|", which GitHub reads as the character, where a bare
    one would end the cell and shift the rest of the row."""
    return tabulate(
        [[_escape(c) for c in row] for row in body],
        headers=[_escape(h) for h in heads],
        tablefmt="github",
        disable_numparse=True,
    )


def _escape(cell: str) -> str:
    return cell.replace("|", "\\|")


def render(report: Report, width: int = 80) -> str:
    body = markdown_table(rows(report), headers(report))
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
