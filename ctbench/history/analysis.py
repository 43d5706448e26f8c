"""A scenario's runs over time: each backend's and phase's trend, and the
steps E-divisive means finds in it (:mod:`ctbench.history.edivisive`).

The figure of a run is one statistic of its samples (the median, or the
minimum), so that each run counts once however many rounds it ran.  A step
is where the figures from one run on differ from those before; its size is
the median of the runs' figures after it against the median of those
before it (back to the previous step, on to the next one), with a 95%
bootstrap interval over those runs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from ctbench import registry
from ctbench.history.edivisive import (
    ALPHA,
    MIN_SEGMENT,
    PERMUTATIONS,
    SIGNIFICANCE,
    ChangePoint,
    segment,
)
from ctbench.history.runs import (
    BY_START,
    NamedRun,
    order_value,
    ordered,
    scenario_title,
    scenarios,
)
from ctbench.results import FAILED
from ctbench.results.compatibility import environment_differences
from ctbench.stats import (
    CONFIDENCE,
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    bootstrap,
    seeded_rng,
)
from ctbench.units import require_time

STATISTICS: Final = ("median", "min")
DEFAULT_STATISTIC: Final = "median"

METHOD: Final = (
    "Each run's figure is the {statistic} of its samples; steps are found by "
    "E-divisive means (Matteson & James 2014; the method of MongoDB's and "
    "Apache Otava's performance histories): energy distance, alpha={alpha:g}, "
    "at least {min_segment} runs a side, significant at p <= {significance:g} "
    "by {permutations} permutations (seed {seed}). It assumes no distribution, "
    "so skewed and noisy benchmark figures are taken as they are. A step's "
    "size is the median of the runs' figures after it against that before it, "
    "with a {confidence:.0%} bootstrap interval over those runs."
)


@dataclass(frozen=True)
class Step:
    """A change in a trend: the figures from run ``index`` on differ from
    those before it."""

    index: int  # of the scenario's runs
    before: float  # median of the figures of the runs before, to the last step
    after: float  # and of those after, to the next step
    change: float  # after / before - 1
    low: float  # its 95% interval, NaN when there is none
    high: float
    p_value: float
    statistic: float  # E-divisive's q-hat

    @property
    def slower(self) -> bool:
        return self.change > 0


@dataclass(frozen=True)
class Trend:
    phase: str
    label: str  # the phase's label in reports
    backend: str
    values: tuple[float | None, ...]  # per run; None where the run lacks it
    steps: tuple[Step, ...]
    # The best split tested and not kept: (its run, its p-value), or None
    # when the runs were too few to test one.
    rejected: tuple[int, float] | None


@dataclass(frozen=True)
class HistoryRun:
    name: str
    order: str  # its --key tag's value, or its start time
    tags: dict[str, str]
    flags: tuple[str, ...]  # how it differs from the run before


@dataclass(frozen=True)
class ScenarioHistory:
    title: str
    ordered_by: str
    runs: tuple[HistoryRun, ...]
    trends: tuple[Trend, ...]

    @property
    def slower_at_end(self) -> list[tuple[Trend, Step]]:
        """The trends whose last run is in a step that got slower."""
        last = len(self.runs) - 1
        return [
            (t, t.steps[-1])
            for t in self.trends
            if t.steps and t.steps[-1].slower and t.values[last] is not None
        ]


@dataclass(frozen=True)
class History:
    statistic: str
    method: str
    scenarios: tuple[ScenarioHistory, ...]

    @property
    def regressed(self) -> bool:
        """The last run of a scenario is part of a step that got slower."""
        return any(s.slower_at_end for s in self.scenarios)


def build_history(
    runs: Sequence[NamedRun],
    key: str | None = None,
    statistic: str = DEFAULT_STATISTIC,
    grouped: bool = False,
    seed: int = DEFAULT_SEED,
) -> History:
    """The history of ``runs``: one scenario's, or each one's when
    ``grouped``; HistoryError for runs that make none, and UnitError for
    runs of counts (a history reads times)."""
    for run in runs:
        require_time(run.name, run.run.unit, "history")
    found = [
        _scenario(ordered(group, key), key, statistic, seed)
        for group in scenarios(runs, grouped)
    ]
    method = METHOD.format(
        statistic=statistic if statistic != "min" else "minimum",
        alpha=ALPHA,
        min_segment=MIN_SEGMENT,
        significance=SIGNIFICANCE,
        permutations=PERMUTATIONS,
        seed=seed,
        confidence=CONFIDENCE,
    )
    return History(statistic, method, tuple(found))


def _scenario(
    runs: list[NamedRun], key: str | None, statistic: str, seed: int
) -> ScenarioHistory:
    first = runs[0].run
    sections = registry.sections(first.command)
    phases: list[str] = list(sections.phases)
    backends: list[str] = []
    for named in runs:
        for result in named.run.results:
            if result.label not in backends:
                backends.append(result.label)
            phases += [p for p in result.phases if p not in phases]
    trends = []
    title = scenario_title(first)
    for phase in phases:
        for backend in backends:
            values = tuple(_figure(n, backend, phase, statistic) for n in runs)
            if all(v is None for v in values):
                continue
            steps, rejected = _steps(values, seed, f"{title}/{backend}/{phase}")
            label = sections.phase_label(phase)
            trends.append(Trend(phase, label, backend, values, steps, rejected))
    return ScenarioHistory(
        title=title,
        ordered_by=f"tag {key!r}" if key is not None else BY_START,
        runs=tuple(
            HistoryRun(n.name, order_value(n, key), dict(n.run.tags), _flags(runs, i))
            for i, n in enumerate(runs)
        ),
        trends=tuple(trends),
    )


def _figure(named: NamedRun, backend: str, phase: str, statistic: str) -> float | None:
    for result in named.run.results:
        if result.label != backend or result.status == FAILED:
            continue
        p = result.phases.get(phase)
        stats = p.stats() if p is not None else None
        if stats is None:
            return None
        value = stats.min if statistic == "min" else stats.median
        return None if value is None else float(value)
    return None


def _flags(runs: list[NamedRun], i: int) -> tuple[str, ...]:
    """How run ``i`` differs from the one before: another machine or build,
    as compare says it; or it is incomplete."""
    named = runs[i]
    flags = []
    if i > 0:
        before = runs[i - 1]
        flags += environment_differences(
            before.run, named.run, (before.name, named.name)
        )
    if not named.run.complete:
        flags.append(f"{named.name} is an incomplete (interrupted) run")
    return tuple(flags)


def _steps(
    values: tuple[float | None, ...], seed: int, key: str
) -> tuple[tuple[Step, ...], tuple[int, float] | None]:
    """The steps of a trend, over the runs that have a figure, and the best
    split not kept."""
    present = [i for i, v in enumerate(values) if v is not None]
    series = np.array([values[i] for i in present], dtype=float)
    segmentation = segment(series, seeded_rng(seed, key))
    found = segmentation.changes
    rejected = segmentation.rejected
    bounds = [0, *(c.index for c in found), len(series)]
    steps = []
    for n, change in enumerate(found):
        before = series[bounds[n] : change.index]
        after = series[change.index : bounds[n + 2]]
        steps.append(_step(present[change.index], change, before, after, seed, key))
    kept_out = None if rejected is None else (present[rejected.index], rejected.p_value)
    return tuple(steps), kept_out


def _step(
    index: int,
    change: ChangePoint,
    before: npt.NDArray[np.float64],
    after: npt.NDArray[np.float64],
    seed: int,
    key: str,
) -> Step:
    low_med, high_med = float(np.median(before)), float(np.median(after))
    rng = seeded_rng(seed, f"{key}/step/{index}")
    a = bootstrap(before, DEFAULT_RESAMPLES, rng, ("median",))["median"]
    b = bootstrap(after, DEFAULT_RESAMPLES, rng, ("median",))["median"]
    low = high = math.nan
    if np.all(a > 0):
        tail = (1 - CONFIDENCE) / 2 * 100
        ratios = b / a - 1
        low, high = (float(x) for x in np.percentile(ratios, [tail, 100 - tail]))
    return Step(
        index=index,
        before=low_med,
        after=high_med,
        change=high_med / low_med - 1 if low_med > 0 else math.nan,
        low=low,
        high=high,
        p_value=change.p_value,
        statistic=change.statistic,
    )
