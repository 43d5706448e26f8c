"""A sweep's growth table: how each phase's cost grows, per backend.

Two layouts of the same lines: ``table`` for a terminal, ``markdown`` for a
pull request or a CI job summary (``$GITHUB_STEP_SUMMARY``).
"""

from __future__ import annotations

import textwrap
from typing import Final

from tabulate import tabulate

from ctbench.growth.analysis import METHOD, GrowthFit
from ctbench.growth.document import SweepDocument
from ctbench.growth.fit import POOR_FIT_FACTOR, Exponent
from ctbench.render.markdown import markdown_table
from ctbench.report.numbers import plural

FORMATS: Final = ("table", "markdown")
# The method note's width in the table layout: the project's line length.
WRAP: Final = 88


def two_decimals(value: float) -> str:
    """0.004 -> '0.00', and -0.004 -> '0.00' too, not '-0.00'."""
    text = f"{value:.2f}"
    return "0.00" if text == "-0.00" else text


def power(e: Exponent, interval: bool = True) -> str:
    """'stored^1.00 [0.97, 1.03]'."""
    text = f"{e.variable}^{two_decimals(e.value)}"
    if not interval:
        return text
    return f"{text} [{two_decimals(e.low)}, {two_decimals(e.high)}]"


def growth(fit: GrowthFit) -> str:
    """'∝ stored^1.00 [0.97, 1.03] · zone^0.01 [-0.02, 0.04]'."""
    return "∝ " + " · ".join(power(e) for e in fit.fit.exponents)


def quality(fit: GrowthFit) -> str:
    flag = "POOR" if fit.fit.poor else "ok"
    mixed = f", {fit.machines} machines" if fit.machines > 1 else ""
    return f"x{fit.fit.scatter_factor:.2f} {flag}{mixed}"


def title(doc: SweepDocument) -> str:
    grid = doc.grid
    iterations = "/".join(map(str, grid.get("iterations", [])))
    return (
        f"ctbench sweep {doc.command}: {plural(len(doc.points), 'point')}, "
        f"entries {', '.join(f'{v:,}' for v in grid.get('entries', []))} x "
        f"zones {', '.join(f'{v:,}' for v in grid.get('zones', []))}, "
        f"{iterations} {'iteration' if iterations == '1' else 'iterations'}"
    )


def method(doc: SweepDocument) -> str:
    words = {"min": "minimum"}.get(doc.statistic, doc.statistic)
    return METHOD.format(statistic=words, poor=POOR_FIT_FACTOR)


def render(doc: SweepDocument, fmt: str = "table") -> str:
    rows = [[f.label, f.backend, growth(f), str(f.fit.n), quality(f)] for f in doc.fits]
    headers = ["phase", "backend", "growth (95% intervals)", "points", "scatter"]
    markdown = fmt == "markdown"
    table = (
        markdown_table(rows, headers)
        if markdown
        else tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)
    )
    note = method(doc) if markdown else textwrap.fill(method(doc), WRAP)
    lines = [f"### {title(doc)}" if markdown else title(doc), "", note, ""]
    lines += [table if rows else "(no fit: too few points)", ""]
    tail = []
    if not doc.complete:
        why = f"stopped by {doc.stopped_by}" if doc.stopped_by else "incomplete"
        tail.append(f"NOTE: {why}: fitted on the points finished so far.")
    tail += [f"NOTE: {note}" for note in doc.notes]
    tail += [f"WARNING: {warning}" for warning in doc.warnings]
    lines += [f"- {line}" for line in tail] if markdown else tail
    return "\n".join(lines).rstrip("\n") + "\n"
