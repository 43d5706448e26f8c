"""GitHub-flavoured Markdown, for a PR description or a CI job summary."""

from __future__ import annotations

from tabulate import tabulate

from ctbench.render.common import (
    COMPARE_MEANS_HEADING,
    compare_means,
    conntrack_lines,
    method_note,
    rows,
    summary_lines,
    title,
    warnings,
)
from ctbench.render.table import cells, headers
from ctbench.results import RunResult


def render(run: RunResult) -> str:
    body = tabulate(
        [cells(run, r) for r in rows(run)],
        headers=headers(run),
        tablefmt="github",
        disable_numparse=True,
    )
    lines = [f"### {title(run)}", ""]
    ovstest = conntrack_lines(run)
    if ovstest:
        lines += ["```", *ovstest, "```", ""]
    lines += [method_note(run), "", body, ""]
    comparisons = compare_means(run)
    if comparisons:
        lines += [COMPARE_MEANS_HEADING, ""]
        lines += [f"- {c}" for c in comparisons] + [""]
    lines += [f"- {s}" for s in summary_lines(run)]
    extra = warnings(run)
    if extra:
        lines += [""] + [f"> {w}" for w in extra]
    return "\n".join(lines) + "\n"
