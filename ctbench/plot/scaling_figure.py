"""A thread sweep's throughput against threads, with the fitted law.

One panel per scaling file: each run's throughput as a point, each
backend's fitted Universal Scalability Law (or Amdahl's law) as a solid
curve, and its ideal, linear scaling from the fitted one-thread throughput
λ as a dotted line, so the gap between them is what contention and
coherency cost.  Linear axes: scaling is read as distance from a straight
line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ctbench.growth.scaling import AMDAHL
from ctbench.growth.scaling_document import ScalingDocument
from ctbench.plot import PlotError, new_figure
from ctbench.render.scaling import interval
from ctbench.report.numbers import plural

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# matplotlib's default cycle ("tab10"), by backend in order of appearance.
_COLORS = tuple(f"C{i}" for i in range(10))
# Points along each fitted curve: smooth at any thread range.
_CURVE_POINTS = 200


def scaling_figure(named: Sequence[tuple[str, ScalingDocument]]) -> Figure:
    if not any(doc.points for _, doc in named):
        raise PlotError("no run in the scaling files: nothing to plot")
    fig = new_figure(7.5, 4.5 * len(named))
    axes = fig.subplots(len(named), 1, squeeze=False)[:, 0]
    for ax, (name, doc) in zip(axes, named, strict=True):
        counts = sorted({p.threads for p in doc.points})
        top = max(counts)
        for b, label in enumerate(doc.backends):
            color = _COLORS[b % len(_COLORS)]
            points = [p for p in doc.points if label in p.throughput]
            ax.plot(
                [p.threads for p in points],
                [p.throughput[label] for p in points],
                linestyle="none",
                marker="o",
                markersize=5,
                color=color,
                alpha=0.8,
                label=f"{label}: runs",
            )
            fit = doc.fits.get(label)
            if fit is None:
                continue
            xs = [1 + (top - 1) * i / (_CURVE_POINTS - 1) for i in range(_CURVE_POINTS)]
            kappa = "" if fit.model == AMDAHL else f", κ {interval(fit.kappa)}"
            ax.plot(
                xs,
                [fit.predict(x) for x in xs],
                color=color,
                linewidth=1.5,
                label=f"{label}: {fit.model.upper()} σ {interval(fit.sigma)}{kappa}",
            )
            ax.plot(
                [1, top],
                [fit.lam.value, fit.lam.value * top],
                color=color,
                linestyle=":",
                linewidth=1.2,
                label=f"{label}: ideal, λN",
            )
        ax.set_xticks(counts)
        ax.set_xlim(0.5, top + 0.5)
        ax.set_ylim(bottom=0)
        ax.set_xlabel(f"threads ({doc.scaling.param})")
        ax.set_ylabel(f"throughput ({doc.scaling.unit})")
        ax.grid(True, alpha=0.4)
        ax.legend(loc="upper left", fontsize="small")
        ax.set_title(
            f"{name}: ctbench sweep {doc.command}, {plural(len(doc.points), 'run')}"
        )
    fig.suptitle(
        "throughput against threads: points are runs; solid, the fitted\n"
        "X(N) = λN / (1 + σ(N-1) + κN(N-1)); dotted, ideal scaling λN"
    )
    return fig
