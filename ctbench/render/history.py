"""A history's layouts: its runs, each phase's trend run by run, the steps
found and the verdict.  ``table`` for a terminal, ``markdown`` for a CI
job's summary (``$GITHUB_STEP_SUMMARY``), ``csv`` a row per run, backend
and phase, ``json`` the whole document for machines."""

from __future__ import annotations

import csv
import io
import json
import math
import textwrap
from collections.abc import Callable
from typing import Any, Final

from tabulate import tabulate

from ctbench.history.analysis import History, ScenarioHistory, Step, Trend
from ctbench.history.document import history_to_json
from ctbench.history.edivisive import MIN_SEGMENT as MIN_RUNS_A_SIDE
from ctbench.render.markdown import markdown_table
from ctbench.report.numbers import num, percent, plural

# The method note's width in the table layout: the project's line length.
WRAP: Final = 88
# The marks beside a run's figure where a step starts (ASCII, as the patch).
SLOWER_MARK: Final = " ^"
FASTER_MARK: Final = " v"


def change_words(change: float) -> str:
    """'8.1% slower' / '3.0% faster'."""
    if not math.isfinite(change):
        return "a change of unknown size"
    return f"{percent(abs(change) * 100)}% {'slower' if change > 0 else 'faster'}"


def interval_words(step: Step) -> str:
    """'95% CI 3.6% to 7.0% slower', or each end in words when they differ
    in direction."""
    if not (math.isfinite(step.low) and math.isfinite(step.high)):
        return "no interval"
    if (step.low > 0) == (step.high > 0) and step.low != 0:
        low, high = sorted((abs(step.low), abs(step.high)))
        word = "slower" if step.high > 0 else "faster"
        return f"95% CI {percent(low * 100)}% to {percent(high * 100)}% {word}"
    return f"95% CI {change_words(step.low)} to {change_words(step.high)}"


def step_line(scenario: ScenarioHistory, trend: Trend, step: Step) -> str:
    run = scenario.runs[step.index]
    return (
        f"{trend.label} on {trend.backend}: from run {step.index + 1} ({run.name}) "
        f"on, {change_words(step.change)} ({interval_words(step)}), "
        f"{num(step.before)} -> {num(step.after)} us, p = {step.p_value:.3f}"
    )


def verdict(scenario: ScenarioHistory) -> str:
    slower = scenario.slower_at_end
    if not slower:
        return "The last run is not part of a step that got slower."
    which = "; ".join(
        f"{t.label} on {t.backend} ({change_words(s.change)} from run {s.index + 1})"
        for t, s in slower
    )
    return f"REGRESSION: the last run is part of a step that got slower: {which}."


def _title(scenario: ScenarioHistory) -> str:
    return (
        f"ctbench history {scenario.title}: {plural(len(scenario.runs), 'run')}, "
        f"ordered by {scenario.ordered_by}"
    )


def _runs_rows(scenario: ScenarioHistory) -> list[list[str]]:
    return [
        [
            str(i + 1),
            run.name,
            run.order,
            ", ".join(f"{k}={v}" for k, v in sorted(run.tags.items())),
        ]
        for i, run in enumerate(scenario.runs)
    ]


def _phase_tables(
    scenario: ScenarioHistory,
) -> list[tuple[str, list[str], list[list[str]]]]:
    """Per phase: its label, the headers, a row per run with each backend's
    figure, marked where a step starts."""
    by_phase: dict[str, list[Trend]] = {}
    for trend in scenario.trends:
        by_phase.setdefault(trend.label, []).append(trend)
    out = []
    for label, trends in by_phase.items():
        rows = []
        for i, run in enumerate(scenario.runs):
            cells = [str(i + 1), run.name]
            for trend in trends:
                mark = next(
                    (
                        SLOWER_MARK if s.slower else FASTER_MARK
                        for s in trend.steps
                        if s.index == i
                    ),
                    "",
                )
                cells.append(num(trend.values[i]) + mark)
            rows.append(cells)
        out.append((label, ["#", "run", *(t.backend for t in trends)], rows))
    return out


def _notes(scenario: ScenarioHistory) -> list[str]:
    lines = [
        step_line(scenario, trend, step)
        for trend in scenario.trends
        for step in trend.steps
    ]
    if not lines:
        lines = ["No step found in any trend."]
    rejected = [
        f"{t.label} on {t.backend} at run {t.rejected[0] + 1}, p = {t.rejected[1]:.3f}"
        for t in scenario.trends
        if t.rejected is not None
    ]
    if rejected:
        lines.append("Best split not kept: " + "; ".join(rejected) + ".")
    if len(scenario.runs) < 2 * MIN_RUNS_A_SIDE:
        lines.append(
            f"NOTE: {plural(len(scenario.runs), 'run')}: a step needs at least "
            f"{MIN_RUNS_A_SIDE} runs on each side to be found"
        )
    lines += [
        f"WARNING: run {i + 1}: {flag}"
        for i, run in enumerate(scenario.runs)
        for flag in run.flags
    ]
    return lines


def _table(history: History) -> str:
    parts = []
    for scenario in history.scenarios:
        lines = [_title(scenario), "", textwrap.fill(history.method, WRAP), ""]
        runs = tabulate(
            _runs_rows(scenario),
            headers=["#", "run", scenario.ordered_by, "tags"],
            tablefmt="simple",
            disable_numparse=True,
        )
        lines += [runs, ""]
        for label, heads, rows in _phase_tables(scenario):
            lines += [f"{label}: {history.statistic} per run (us)"]
            lines += [
                tabulate(rows, headers=heads, tablefmt="simple", disable_numparse=True),
                "",
            ]
        lines += _notes(scenario)
        lines += ["", verdict(scenario)]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def _markdown(history: History) -> str:
    parts = []
    for scenario in history.scenarios:
        lines = [f"### {_title(scenario)}", "", history.method, ""]
        lines += [f"**{verdict(scenario)}**", ""]
        lines += [f"- {line}" for line in _notes(scenario)] + [""]
        for label, heads, rows in _phase_tables(scenario):
            lines += [f"**{label}**: {history.statistic} per run (us)", ""]
            lines += [markdown_table(rows, heads), ""]
        lines += [
            "<details><summary>Runs</summary>",
            "",
            markdown_table(
                _runs_rows(scenario), ["#", "run", scenario.ordered_by, "tags"]
            ),
            "",
            "</details>",
        ]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


CSV_HEADERS: Final = (
    "scenario",
    "phase",
    "backend",
    "run",
    "file",
    "ordered_by",
    "value_us",
    "step_change",
    "step_low",
    "step_high",
    "step_p_value",
)


def _csv(history: History) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADERS)
    for scenario in history.scenarios:
        for trend in scenario.trends:
            steps = {s.index: s for s in trend.steps}
            for i, run in enumerate(scenario.runs):
                step = steps.get(i)
                figures: list[Any] = (
                    [step.change, step.low, step.high, step.p_value]
                    if step is not None
                    else ["", "", "", ""]
                )
                writer.writerow(
                    [
                        scenario.title,
                        trend.label,
                        trend.backend,
                        i + 1,
                        run.name,
                        run.order,
                        "" if trend.values[i] is None else trend.values[i],
                        *figures,
                    ]
                )
    return out.getvalue()


def _json(history: History) -> str:
    doc = history_to_json(history)
    return json.dumps(doc, separators=(",", ":")) + "\n"


FORMATS: Final[dict[str, Callable[[History], str]]] = {
    "table": _table,
    "markdown": _markdown,
    "csv": _csv,
    "json": _json,
}


def render(history: History, fmt: str = "table") -> str:
    return FORMATS[fmt](history)
