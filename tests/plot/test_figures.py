"""The figures: what is drawn (series, labels, scales, legends), not pixels.

Built on matplotlib's Figure directly, headless (Agg), as ``plot`` does.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from ctbench.compare import Settings, compare
from ctbench.comparison_document import (
    ComparisonDoc,
    ForestRow,
    comparison_from_json,
    comparison_to_json,
)
from ctbench.growth.build import build_sweep
from ctbench.plot.axes import decade_limits, time_label
from ctbench.plot.comparison_figure import comparison_figure
from ctbench.plot.run_figure import run_figure
from ctbench.plot.sweep_figure import sweep_figure
from tests.helpers.run_factory import make_run
from tests.helpers.sweep_factory import grid_runs

pytest.importorskip("matplotlib")

from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


def _visible(fig: Figure) -> list[Axes]:
    return [ax for ax in fig.axes if ax.get_visible()]


def _legend(ax: Axes) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None
    return [t.get_text() for t in legend.get_texts()]


@pytest.mark.parametrize(
    ("us", "text"),
    [
        (2, "2 µs"),
        (0.5, "500 ns"),
        (1000, "1 ms"),
        (2500, "2.5 ms"),
        (5e5, "500 ms"),
        (1e6, "1 s"),
    ],
)
def test_times_read_in_units(us: float, text: str) -> None:
    assert time_label(us) == text


def test_a_narrow_range_still_spans_a_whole_decade() -> None:
    assert decade_limits([1.2, 1.3]) == (1.0, 10.0)
    assert decade_limits([2.0, 5e5]) == (1.0, 1e6)


def test_a_run_is_one_ecdf_per_backend_in_a_panel_per_phase() -> None:
    run = make_run()
    fig = run_figure([("run.json", run)])
    axes = _visible(fig)
    assert [ax.get_title() for ax in axes] == ["ct execute (commit)", "flush full zone"]
    for ax in axes:
        assert ax.get_xscale() == "log"
        assert ax.get_xlabel() == "time per call (log scale)"
        assert ax.get_ylabel() == "share of samples ≤ time"
        assert len(ax.get_lines()) == 2  # single, per-zone
        texts = _legend(ax)
        assert texts[0].startswith("single: median ") and texts[0].endswith("(n=200)")
        assert texts[1].startswith("per-zone: median ")
        # The steps climb from 0 to 1 over every sample.
        y = np.asarray(ax.get_lines()[0].get_ydata())
        assert y[0] == 0 and y[-1] == 1 and len(y) == 201
    title = fig.get_suptitle()
    assert title.startswith("ctbench benchmark-zones 1,000 20 200: latency per phase")
    assert "empirical CDF of 200 samples" in title


def test_the_time_axis_reads_from_2_us_to_500_ms() -> None:
    run = make_run(backends=("single",))
    phase = run.results[0].phases["flush_full_zone"]
    phase.samples = [2.0, 30.0, 900.0, 20_000.0, 500_000.0]
    ax = _visible(run_figure([("run.json", run)]))[1]
    low, high = ax.get_xlim()
    assert (low, high) == (1.0, 1e6)
    majors = [v for v in ax.get_xticks() if low <= v <= high]
    labels = [ax.xaxis.get_major_formatter()(v, 0) for v in majors]
    assert labels == ["1 µs", "10 µs", "100 µs", "1 ms", "10 ms", "100 ms", "1 s"]


def test_several_runs_are_labelled_by_file_in_one_legend_below() -> None:
    fig = run_figure([("a.json", make_run()), ("b.json", make_run(seed=1))])
    axes = _visible(fig)
    assert all(ax.get_legend() is None for ax in axes)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "a.json:single",
        "a.json:per-zone",
        "b.json:single",
        "b.json:per-zone",
    ]
    # A series keeps its colour from panel to panel.
    colours = [[line.get_color() for line in ax.get_lines()] for ax in axes]
    assert colours[0] == colours[1] and len(set(colours[0])) == 4
    assert fig.get_suptitle().startswith("ctbench benchmark-zones: 2 runs")


def test_a_sweep_is_cost_against_both_sizes_with_the_fitted_laws() -> None:
    doc = build_sweep(grid_runs(), "min")
    fig = sweep_figure([("sweep.json", doc)])
    axes = _visible(fig)
    assert len(axes) == 8  # 4 phases x (stored, zone)
    assert axes[4].get_title() == "flush full zone: against connections stored"
    assert axes[5].get_title() == "flush full zone: against zone size"
    for ax in axes:
        assert ax.get_xscale() == ax.get_yscale() == "log"
        assert ax.get_ylabel() == "cost per call (log scale)"
        # 2 backends x 3 lines (one per zone size or count), each with its fit.
        assert len(ax.get_lines()) == 12
    assert axes[0].get_xlabel() == "connections stored in the table (log scale)"
    assert axes[1].get_xlabel() == "connections in the zone, ENTRIES (log scale)"
    legend = _legend(axes[4])
    assert legend[0].startswith("single: ∝ stored^1.0") and "zone^0.0" in legend[0]
    assert legend[1].startswith("per-zone: ∝ stored^0.0") and "zone^1.0" in legend[1]
    title = fig.get_suptitle()
    assert "cost against size, 9 points" in title and "minimum" in title


def test_a_comparison_is_a_forest_of_ratios_with_the_threshold_band() -> None:
    base, cand = make_run(), make_run(scale=1.3)
    result = compare(base, cand, Settings(), ("base.json", "new.json"))
    doc = comparison_from_json(
        json.loads(json.dumps(comparison_to_json(result))), "c.json"
    )
    fig = comparison_figure([("c.json", doc)])
    (ax,) = _visible(fig)
    assert ax.get_xscale() == "log"
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [
        "ct execute (commit), single",
        "flush full zone, single",
        "ct execute (commit), per-zone",
        "flush full zone, per-zone",
    ]
    assert len(ax.containers) == 4  # an error bar per row
    for container in ax.containers:
        x = np.atleast_1d(np.asarray(container[0].get_xdata()))
        assert list(x) == pytest.approx([1.3], rel=1e-6)
    # axvspan's patch in its own coordinates (x in data): a Rectangle from
    # matplotlib 3.9, a Polygon before.
    patch = ax.patches[0]
    xs = patch.get_patch_transform().transform(patch.get_path().vertices)[:, 0]
    assert (xs.min(), xs.max()) == pytest.approx((1 / 1.1, 1.1))
    assert ax.get_xlabel() == "candidate / baseline, ratio of medians (log scale)"
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["slower", "unchanged band [0.909, 1.1] (threshold 10%)"]
    title = fig.get_suptitle()
    assert title.startswith("ctbench compare: new.json against base.json")


def _labelled_ratios(fig: Figure) -> tuple[list[float], tuple[float, float]]:
    """The x ticks that carry a label once drawn, and the axis's span."""
    fig.draw_without_rendering()  # tick labels are set when drawn
    (ax,) = _visible(fig)
    low, high = ax.get_xlim()
    ticks = [
        float(t)
        for t, label in zip(ax.get_xticks(), ax.get_xticklabels(), strict=True)
        if low <= t <= high and label.get_text()
    ]
    return ticks, (low, high)


@pytest.mark.parametrize(
    "intervals",
    [
        # The usual span, 0.9x-1.6x: a log locator labelled only 1x and 1.5x.
        [(0.97, 1.0, 1.05), (1.2, 1.3, 1.45), (1.3, 1.45, 1.6)],
        [(0.98, 1.0, 1.02)],
        [(0.3, 0.5, 0.7), (1.5, 2.0, 2.5)],
        [(0.05, 0.1, 0.2), (5.0, 8.0, 12.0)],
    ],
)
def test_the_ratio_axis_labels_enough_ticks_to_read_each_interval(
    intervals: list[tuple[float, float, float]],
) -> None:
    rows = [
        ForestRow("single", f"phase_{i}", ratio, low, high, "inconclusive")
        for i, (low, ratio, high) in enumerate(intervals)
    ]
    doc = ComparisonDoc(
        "benchmark-zones", "a.json", "b.json", "median", 1.1, 1 / 1.1, 0.1, rows
    )
    ticks, (low, high) = _labelled_ratios(comparison_figure([("c.json", doc)]))
    assert len(ticks) >= 4
    span = math.log(high / low)
    for end in [v for interval in intervals for v in interval]:
        # Each end within an eighth of the axis of a labelled ratio.
        assert min(abs(math.log(end / t)) for t in ticks) <= span / 8, (end, ticks)
