"""A comparison as a forest plot: each row's ratio and its 95% interval.

The grey band is the threshold's "unchanged" zone, [1 / (1 + t), 1 + t];
an interval wholly above it is slower, wholly below it faster, across an
edge inconclusive (ctbench.compare).  The ratio axis is logarithmic, so
twice as slow and twice as fast lie at the same distance from 1.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

from ctbench import registry
from ctbench.comparison_document import ComparisonDoc
from ctbench.plot import PlotError, new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

VERDICT_COLORS: Final = {
    "slower": "tab:red",
    "faster": "tab:green",
    "unchanged": "tab:blue",
    "inconclusive": "tab:orange",
}
# Characters of a title line before it is cut short.
TITLE_WIDTH: Final = 90
STAT_WORDS: Final = {"mean": "means", "median": "medians", "p95": "95th percentiles"}


def _phase_label(command: str, phase: str) -> str:
    if command in registry.names():
        return registry.sections(command).phase_label(phase)
    return phase.replace("_", " ")


# Labelled ratios: at least this many on the axis, and no stretch of it
# (the ends included) wider than this share of its log span without one,
# so that each interval's ends read off two nearby labels.
MIN_RATIO_LABELS: Final = 4
MAX_UNLABELLED_SHARE: Final = 0.25
# Round ratios per decade, sparsest first: a log axis is read on these.
LOG_SUBS: Final = (
    (1.0, 2.0, 5.0),
    (1.0, 1.5, 2.0, 3.0, 5.0, 7.0),
    (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0),
)
# Evenly spaced round ratios (0.9, 1, 1.1, ...), for a span too narrow
# for any of the above: at most this many intervals between labels.
LINEAR_BINS: Final = (6, 8, 10, 12)


def ratio_ticks(low: float, high: float) -> list[float]:
    """The labelled ratios of a log axis from ``low`` to ``high``.

    The sparsest set of round ratios that labels the axis densely enough
    (:data:`MIN_RATIO_LABELS`, :data:`MAX_UNLABELLED_SHARE`): 1, 2, 5 a
    decade over a wide span, evenly spaced ones over the usual 0.9x-1.6x,
    where 1, 2, 5 (or 1, 1.5, 2, 3) would label only 1x and 1.5x.
    """
    from matplotlib.ticker import Locator, LogLocator, MaxNLocator

    candidates: list[Locator] = [LogLocator(base=10, subs=subs) for subs in LOG_SUBS]
    candidates += [MaxNLocator(n, steps=[1, 2, 2.5, 5, 10]) for n in LINEAR_BINS]
    ticks: list[float] = []
    for locator in candidates:
        raw = locator.tick_values(low, high)
        ticks = [float(t) for t in raw if low <= t <= high and t > 0]
        if readable(ticks, low, high):
            break
    return ticks


def readable(ticks: Sequence[float], low: float, high: float) -> bool:
    """Enough labels, and no long unlabelled stretch, on a log axis."""
    if len(ticks) < MIN_RATIO_LABELS:
        return False
    marks = [math.log(v) for v in (low, *sorted(ticks), high)]
    widest = max(b - a for a, b in zip(marks, marks[1:], strict=False))
    return widest <= MAX_UNLABELLED_SHARE * (marks[-1] - marks[0])


def comparison_figure(named: Sequence[tuple[str, ComparisonDoc]]) -> Figure:
    from matplotlib.artist import Artist
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import (
        FixedLocator,
        FuncFormatter,
        LogLocator,
        NullFormatter,
    )

    labels: list[str] = []
    rows = []
    for name, doc in named:
        prefix = f"{name}: " if len(named) > 1 else ""
        for row in doc.rows:
            if row.ratio is None:
                continue
            labels.append(
                f"{prefix}{_phase_label(doc.command, row.phase)}, {row.backend}"
            )
            rows.append(row)
    if not rows:
        raise PlotError(
            f"{', '.join(n for n, _ in named)}: no row has a ratio (a baseline of 0)"
        )
    doc = named[0][1]
    values = [doc.faster_below, doc.slower_above]
    for row in rows:
        values += [v for v in (row.ratio, row.low, row.high) if v is not None]
    low, high = min(values), max(values)
    pad = (high / low) ** 0.08
    limits = (low / pad, high * pad)
    if not (limits[0] > 0 and math.isfinite(limits[1])):
        raise PlotError(
            f"{', '.join(n for n, _ in named)}: ratios from {low:.3g} to "
            f"{high:.3g} span too many decades to draw on one axis"
        )
    fig = new_figure(9.0, 1.6 + 0.42 * len(rows))
    ax = fig.subplots()
    ys = list(range(len(rows)))[::-1]  # first row on top
    ax.axvspan(doc.faster_below, doc.slower_above, color="0.88", zorder=0)
    ax.axvline(1.0, color="0.3", linewidth=0.8, zorder=1)
    for y, row in zip(ys, rows, strict=True):
        assert row.ratio is not None
        color = VERDICT_COLORS[row.verdict]
        if row.low is not None and row.high is not None:
            # A percentile interval need not hold its own estimate: then the
            # two are drawn apart (an error bar cannot reach back).
            inside = row.low <= row.ratio <= row.high
            ax.errorbar(
                row.ratio if inside else row.low,
                y,
                xerr=[
                    [row.ratio - row.low if inside else 0.0],
                    [row.high - (row.ratio if inside else row.low)],
                ],
                fmt="o" if inside else "none",
                color=color,
                capsize=3,
                markersize=5,
            )
            if not inside:
                ax.plot(row.ratio, y, "o", color=color, markersize=5)
        else:  # too few samples for an interval: the ratio alone, hollow
            ax.plot(row.ratio, y, "o", mfc="white", mec=color, markersize=6)
    ax.set_yticks(ys, labels)
    ax.set_xscale("log")
    ax.set_xlim(*limits)
    ax.xaxis.set_major_locator(FixedLocator(ratio_ticks(*limits)))
    ax.xaxis.set_minor_locator(LogLocator(base=10, subs=tuple(range(1, 10))))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.grid(True, axis="x", which="major", alpha=0.4)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    words = STAT_WORDS.get(doc.stat, doc.stat)
    ax.set_xlabel(f"candidate / baseline, ratio of {words} (log scale)")
    handles: list[Artist] = [
        Line2D([], [], marker="o", linestyle="", color=c, label=v)
        for v, c in VERDICT_COLORS.items()
        if any(r.verdict == v for r in rows)
    ]
    handles.append(
        Patch(
            color="0.88",
            label=f"unchanged band [{doc.faster_below:.3g}, {doc.slower_above:.3g}] "
            f"(threshold {doc.threshold:.0%})",
        )
    )
    if any(r.low is None for r in rows):
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                mfc="white",
                mec="0.3",
                label="no interval (fewer than 20 samples a side)",
            )
        )
    # Below the plot, where it can hide no row.
    fig.legend(handles=handles, loc="outside lower center", ncols=3, fontsize="small")
    if len(named) > 1:
        title = f"ctbench compare: {len(named)} comparisons"
    else:
        title = (
            f"ctbench compare: {Path(doc.candidate).name} against "
            f"{Path(doc.baseline).name}"
        )
    fig.suptitle(
        f"{textwrap.shorten(title, TITLE_WIDTH, placeholder='...')}\n"
        f"ratio of {words} with 95% percentile-bootstrap intervals",
    )
    return fig
