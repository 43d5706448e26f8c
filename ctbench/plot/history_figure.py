"""A history's trends: each run's figure by run, a panel per phase, a line
per backend; each step marked by a dashed line at its first run and the
levels before and after it, with its size.  Runs flagged (another machine
or build) are marked on the x axis."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ctbench.history.analysis import History, ScenarioHistory
from ctbench.plot import PlotError, new_figure
from ctbench.plot.axes import time_label

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_COLORS = tuple(f"C{i}" for i in range(10))
STAT_WORDS = {"min": "minimum", "median": "median"}


def step_text(change: float) -> str:
    """'+6.7%' / '-3.0%'."""
    return f"{change * 100:+.1f}%"


def _panel(ax: Axes, scenario: ScenarioHistory, label: str, statistic: str) -> None:
    runs = list(range(1, len(scenario.runs) + 1))
    trends = [t for t in scenario.trends if t.label == label]
    for n, trend in enumerate(trends):
        color = _COLORS[n % len(_COLORS)]
        points = [
            (x, v) for x, v in zip(runs, trend.values, strict=True) if v is not None
        ]
        ax.plot(
            *zip(*points, strict=True),
            marker="o",
            ms=3,
            color=color,
            label=trend.backend,
        )
        bounds = [0, *(s.index for s in trend.steps), len(runs)]
        for k, step in enumerate(trend.steps):
            ax.axvline(step.index + 0.5, color=color, ls="--", lw=1)
            ax.hlines(
                step.before,
                bounds[k] + 0.5,
                step.index + 0.5,
                color=color,
                lw=2,
                alpha=0.4,
            )
            ax.hlines(
                step.after,
                step.index + 0.5,
                bounds[k + 2] + 0.5,
                color=color,
                lw=2,
                alpha=0.4,
            )
            ax.annotate(
                step_text(step.change),
                (step.index + 0.5, step.after),
                textcoords="offset points",
                xytext=(4, 4),
                color=color,
                fontsize=8,
            )
    flagged = [i + 1 for i, run in enumerate(scenario.runs) if run.flags]
    if flagged:
        ax.plot(
            flagged,
            [0] * len(flagged),
            "^",
            color="grey",
            transform=ax.get_xaxis_transform(),
            clip_on=False,
            label="other machine or build",
        )
    ax.set_title(label, fontsize=10)
    ax.set_ylabel(f"{STAT_WORDS.get(statistic, statistic)} per run")
    ax.yaxis.set_major_formatter(lambda v, _: time_label(v))
    ax.set_xlim(0.5, len(runs) + 0.5)
    ax.legend(fontsize=8, loc="best")


def history_figure(history: History) -> Figure:
    """One column per scenario, a panel per phase."""
    if not any(s.trends for s in history.scenarios):
        raise PlotError("the history holds no trend: nothing to plot")
    labels = [list(dict.fromkeys(t.label for t in s.trends)) for s in history.scenarios]
    rows = max(map(len, labels))
    columns = len(history.scenarios)
    fig = new_figure(6.4 * columns, 2.6 * rows + 0.6)
    axes = fig.subplots(rows, columns, squeeze=False)
    for col, (scenario, phases) in enumerate(
        zip(history.scenarios, labels, strict=True)
    ):
        for row in range(rows):
            ax = axes[row][col]
            if row >= len(phases):
                ax.set_visible(False)
                continue
            _panel(ax, scenario, phases[row], history.statistic)
        last = axes[len(phases) - 1][col]
        last.set_xlabel(f"run (ordered by {scenario.ordered_by})")
    fig.suptitle(
        "; ".join(f"ctbench history {s.title}" for s in history.scenarios), fontsize=11
    )
    return fig
