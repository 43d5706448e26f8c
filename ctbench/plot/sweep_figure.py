"""A sweep's cost against size, on log-log axes, a row per phase.

A sweep varies two sizes at once, so each phase gets two panels: cost
against the connections stored (points of one zone size joined), and cost
against the zone size (points of one zone count joined).  A design whose
cost follows the table shows rising lines on the left that fall on one
another; one whose cost follows the zone shows flat lines on the left and
rising ones on the right.  The legend gives each backend's fitted law;
dashed lines are the fit's predictions at the same points.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from ctbench.growth.analysis import GrowthFit, Observation
from ctbench.growth.document import SweepDocument
from ctbench.plot import PlotError, new_figure
from ctbench.plot.axes import count_label, log_count_axis, log_time_axis
from ctbench.render.growth import power
from ctbench.report.commands.benchmark_zones import SECTIONS
from ctbench.report.numbers import plural
from ctbench.scenarios.benchmark_zones import PHASE_ORDER

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# matplotlib's default cycle ("tab10"), by backend in order of appearance.
_COLORS = tuple(f"C{i}" for i in range(10))
STAT_WORDS = {"min": "minimum", "median": "median", "mean": "mean"}
_MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def fit_label(backend: str, fit: GrowthFit | None) -> str:
    if fit is None:
        return f"{backend}: no fit"
    law = " · ".join(power(e, interval=False) for e in fit.fit.exponents)
    poor = ", POOR fit" if fit.fit.poor else ""
    return f"{backend}: ∝ {law} (x{fit.fit.scatter_factor:.2f}{poor})"


def _group_key(obs: Observation, group_of: str) -> int:
    return obs.zone if group_of == "zone" else round(obs.stored / obs.zone)


def group_label(key: int, group_of: str) -> str:
    return f"zone {count_label(key)}" if group_of == "zone" else plural(key, "zone")


def _series(
    ax: Axes,
    observations: list[Observation],
    x_of: str,
    group_of: str,
    color: str,
    label: str,
    fit: GrowthFit | None,
    markers: dict[int, str],
) -> None:
    """One backend's points, a line per value of ``group_of`` (its marker
    from ``markers``), and the fit's predictions dashed."""
    groups: dict[int, list[Observation]] = {}
    for obs in observations:
        groups.setdefault(_group_key(obs, group_of), []).append(obs)
    for i, (key, members) in enumerate(sorted(groups.items())):
        members.sort(key=lambda o: getattr(o, x_of))
        xs = [getattr(o, x_of) for o in members]
        ax.plot(
            xs,
            [o.cost_us for o in members],
            color=color,
            marker=markers[key],
            markersize=5,
            linewidth=1.2,
            label=label if i == 0 else "_nolegend_",
        )
        if fit is not None:
            ax.plot(
                xs,
                [fit.fit.predict(o.stored, o.zone) for o in members],
                color=color,
                linestyle="--",
                linewidth=0.8,
                alpha=0.7,
                label="_nolegend_",
            )


def _marker_legend(
    ax: Axes,
    markers: dict[int, str],
    group_of: str,
    where: Literal["lower right", "best"],
) -> None:
    """Which marker is which line: a legend of its own, in black, beside
    the backends' legend."""
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color="0.2", marker=marker, label=group_label(key, group_of))
        for key, marker in sorted(markers.items())
    ]
    title = (
        "lines join points of one zone size"
        if group_of == "zone"
        else ("lines join points of one zone count")
    )
    legend = ax.legend(
        handles=handles,
        loc=where,
        fontsize="x-small",
        title=title,
        title_fontsize="x-small",
    )
    ax.add_artist(legend)


def sweep_figure(named: Sequence[tuple[str, SweepDocument]]) -> Figure:
    """Cost against size for one sweep, or several (labelled by file)."""
    series: dict[tuple[str, str], list[Observation]] = {}
    fits: dict[tuple[str, str], GrowthFit] = {}
    statistics = set()
    for name, doc in named:
        prefix = f"{name}:" if len(named) > 1 else ""
        statistics.add(doc.statistic)
        for point in doc.points:
            for obs in point.observations:
                series.setdefault((prefix + obs.backend, obs.phase), []).append(obs)
        for fit in doc.fits:
            fits[prefix + fit.backend, fit.phase] = fit
    phases = [p for p in PHASE_ORDER if any(ph == p for _, ph in series)]
    if not phases:
        raise PlotError(
            f"{', '.join(n for n, _ in named)}: no points with samples to plot"
        )
    backends = list(dict.fromkeys(b for b, _ in series))
    everything = [o for members in series.values() for o in members]
    markers = {
        group: {
            key: _MARKERS[i % len(_MARKERS)]
            for i, key in enumerate(sorted({_group_key(o, group) for o in everything}))
        }
        for group in ("zone", "zones")
    }
    fig = new_figure(12.0, 3.4 * len(phases) + 0.8)
    axes = fig.subplots(len(phases), 2, squeeze=False)
    for row, phase in zip(axes, phases, strict=True):
        left, right = row
        costs: list[float] = []
        stored: list[float] = []
        zones: list[float] = []
        for b, backend in enumerate(backends):
            observations = series.get((backend, phase), [])
            if not observations:
                continue
            found = fits.get((backend, phase))
            color = _COLORS[b % len(_COLORS)]
            label = fit_label(backend, found)
            _series(
                left,
                observations,
                "stored",
                "zone",
                color,
                label,
                found,
                markers["zone"],
            )
            _series(
                right,
                observations,
                "zone",
                "zones",
                color,
                label,
                found,
                markers["zones"],
            )
            costs += [o.cost_us for o in observations]
            stored += [o.stored for o in observations]
            zones += [o.zone for o in observations]
        for ax in row:
            log_time_axis(ax, "y", costs)
            ax.set_ylabel("cost per call (log scale)")
            ax.grid(True, which="major", alpha=0.4)
            ax.grid(True, which="minor", alpha=0.12)
        log_count_axis(left, "x", stored)
        log_count_axis(right, "x", zones)
        label = SECTIONS.phase_label(phase)
        left.set_title(f"{label}: against connections stored")
        right.set_title(f"{label}: against zone size")
        left.set_xlabel("connections stored in the table (log scale)")
        right.set_xlabel("connections in the zone, ENTRIES (log scale)")
        _marker_legend(left, markers["zone"], "zone", "lower right")
        _marker_legend(right, markers["zones"], "zones", "best")
        left.legend(loc="upper left", fontsize="small")
    doc = named[0][1]
    statistic = "/".join(sorted(statistics))
    fig.suptitle(
        f"ctbench sweep {doc.command}: cost against size, "
        f"{plural(len(doc.points), 'point')}\n"
        f"each point's {STAT_WORDS.get(statistic, statistic)} over its rounds; "
        "legend: fitted cost ∝ stored^b · zone^c (scatter factor); dashed: the fit",
    )
    return fig
