"""A run's latency distributions: one ECDF per backend, a panel per phase.

An empirical CDF shows every sample (no bins to choose): the curve passes
through (t, share of rounds that took at most t).  Its x axis is a log axis
of time in units, so a 2 us phase and a 500 ms one read alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ctbench.plot import PlotError, new_figure
from ctbench.plot.axes import log_time_axis, time_label
from ctbench.registry import sections
from ctbench.results import FAILED, RunResult, merge_runs

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.figure import Figure


def run_title(run: RunResult, runs: int) -> str:
    """'ctbench benchmark-zones 1,000 10 60', or 'ctbench benchmark-zones:
    3 runs' for several (whose parameters may differ)."""
    if runs > 1:
        return f"ctbench {run.command}: {runs} runs"
    params = " ".join(
        f"{value:,}"
        if isinstance(value, int)
        else " ".join(map(str, value))
        if isinstance(value, list)
        else str(value)
        for value in (run.params.get(k) for k in sections(run.command).title_params)
        if value is not None
    )
    return f"ctbench {run.command} {params}"


def _why_no_samples(run: RunResult) -> str:
    """Why a run has no sample to draw: ovstest's figures alone, a run
    stopped before its first round ended, or no phase at all."""
    phases = [p for r in run.results for p in r.phases.values()]
    if any(p.summary is not None for p in phases):
        return "ovstest's summary figures only (an imported table or --ovstest run)"
    if not run.complete:
        by = f" by {run.stopped_by}" if run.stopped_by else ""
        return f"the run was stopped{by} before its first round ended"
    if any(r.status == FAILED for r in run.results):
        return "every backend failed before its first round ended"
    return "no phase holds a sample"


def run_figure(named: Sequence[tuple[str, RunResult]]) -> Figure:
    """The latency distributions of one run, or of several side by side
    (backends labelled FILE:backend, as ``report`` labels them)."""
    run = named[0][1] if len(named) == 1 else merge_runs(list(named))
    command = sections(run.command)
    phases = [
        name
        for name in dict.fromkeys(
            [*command.phases, *(p for r in run.results for p in r.phases)]
        )
        if any(r.phases.get(name) and r.phases[name].samples for r in run.results)
    ]
    if not phases:
        why = "; ".join(f"{name}: {_why_no_samples(r)}" for name, r in named)
        raise PlotError(f"no samples to plot: {why}")
    cols = 2 if len(phases) > 1 else 1
    rows = math.ceil(len(phases) / cols)
    fig = new_figure(6.0 * cols, 3.6 * rows + 0.6)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[len(phases) :]:
        ax.set_visible(False)
    many = len(named) > 1
    colors: dict[str, str] = {}  # a backend's colour, the same in every panel
    rounds = {
        len(r.phases[p].samples) for r in run.results for p in phases if p in r.phases
    }
    for ax, phase in zip(axes, phases, strict=False):
        values: list[float] = []
        for result in run.results:
            p = result.phases.get(phase)
            if p is None or not p.samples:
                continue
            x = np.sort(np.asarray(p.samples, dtype=np.float64))
            y = np.arange(1, len(x) + 1) / len(x)
            median = float(np.median(x))
            ax.step(
                np.concatenate([[x[0]], x]),
                np.concatenate([[0.0], y]),
                where="post",
                color=colors.setdefault(result.label, f"C{len(colors) % 10}"),
                label=(
                    f"{result.label} (n={len(x):,})"
                    if many
                    else f"{result.label}: median {time_label(median)} (n={len(x):,})"
                ),
            )
            values += [float(x[0]), float(x[-1])]
        log_time_axis(ax, "x", values)
        ax.set_ylim(0, 1.02)
        # Quartiles: a curve crosses 0.5 at its median.
        ax.set_yticks([0, 0.25, 0.5, 0.75, 1])
        ax.set_title(command.phase_label(phase))
        ax.set_xlabel("time per call (log scale)")
        ax.set_ylabel("share of samples ≤ time")
        ax.grid(True, which="major", alpha=0.4)
        ax.grid(True, which="minor", alpha=0.15)
        if not many:
            ax.legend(loc="best", fontsize="small")
    if many:
        # Several files' labels are long: one legend for every panel, below.
        seen: dict[str, Artist] = {}
        for ax in axes[: len(phases)]:
            for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
                seen.setdefault(label.rsplit(" (n=", 1)[0], handle)
        fig.legend(
            list(seen.values()),
            list(seen),
            loc="outside lower center",
            ncols=2,
            fontsize="small",
        )
    n = "/".join(map(str, sorted(rounds)))
    fig.suptitle(
        f"{run_title(run, len(named))}: latency per phase\n"
        f"empirical CDF of {n} {'sample' if rounds == {1} else 'samples'} per "
        "backend; time on a log axis",
    )
    return fig
