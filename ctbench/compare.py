"""Compare two runs: ratios with bootstrap intervals, verdicts, exit status.

For every backend and phase present in both runs, ``compare()`` computes the
ratio candidate / baseline of the mean, the median and the 95th percentile,
each with a 95% confidence interval from a percentile bootstrap over the raw
samples (Efron & Tibshirani, "An Introduction to the Bootstrap", Chapman &
Hall 1993, chapter 13): each side's samples are resampled with replacement,
independently, the statistic is computed on each resample, and the interval
is the 2.5th and 97.5th percentiles of the resampled ratios.

The verdict uses one statistic (``--stat``, the median by default) and a
threshold t (10% by default):

- slower: the whole interval lies above 1 + t;
- faster: the whole interval lies below 1 / (1 + t), the same distance as
  "slower" on a log scale (t = 10% gives 0.909: a candidate that is 10% slower
  and one whose baseline is 10% slower than it are mirror images);
- unchanged: the whole interval lies within [1 / (1 + t), 1 + t];
- inconclusive: the interval straddles either edge of that band.

What that promises when nothing changed (two samples of one distribution,
such as a file compared with itself: the method does not know they are the
same and resamples each side on its own):

- slower or faster at most about 2.5% of the time each (the share of
  percentile intervals that miss the true ratio on one side, Efron &
  Tibshirani 1993, ch. 13): the interval would have to miss 1 and the
  whole band as well;
- unchanged at least 95% of the time (the interval's coverage) once the
  interval is narrow, high / low at most 1 + t: an interval that holds 1
  and is that narrow lies inside the band;
- a wider interval (a noisy phase, few samples) may straddle an edge:
  inconclusive, which says the samples cannot tell a change of t from none,
  not that something changed.  ``compare()`` says so in a note, with the
  samples that would narrow the interval enough.

``python -m bench.experiments.interval_coverage`` measures each rate on synthetic
samples of several spreads and sizes.

Work counters (per phase, and the fill's requested/stored/refused) are
compared exactly: the same workload on the same backend does the same work,
so any difference is a behaviour change, not noise.

Counts (``--measure instructions`` or ``cycles``, :mod:`ctbench.units`)
are compared without a bootstrap: callgrind counts the same work the same
(two runs of ``benchmark-zones 200 3 5`` differed by at most 0.19% in any
sample, docs/instruction-counts.md), so there is no sampling noise for an
interval to cover, and the ratio of the two runs' statistic is the change.
Their verdict takes the count threshold (``count_threshold``, 1% by
default): slower above 1 + t, faster below 1 / (1 + t), unchanged between;
never inconclusive, and no minimum of samples.  Runs in different units
are never compared.

A backend with only ovstest's summary on a side (an imported table, an
``--ovstest`` run) has no samples to resample: its phases become summary
rows, the ratios of Min, of ovstest's EWMA "Avg" and of its P-square
95%ile (each computed from the samples on a side that has them), with no
interval and no verdict; a comparison of summaries alone says so instead
of "OK".  With :data:`MIN_INTERVAL_SAMPLES` ovstest runs or more a side
(``--ovstest-repeat``), each run's Min is one sample of the phase, and the
rows are bootstrapped and judged like ctbench's own.

Exit status (``Comparison.exit_status``): 1 when a row is slower, or when
counters differ and ``counters_must_match`` is set; otherwise 3 when
``strict`` is set and a row is inconclusive or a summary row (no
verdict) exists; otherwise 0.  Status 2 (usage or
file errors) belongs to the command line: here it is a ``CompareError``.

This module never prints.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Final

import numpy as np
import numpy.typing as npt

from ctbench.disturbance import RECORD_KEY, disturbed_findings
from ctbench.errors import CtbenchError
from ctbench.report.numbers import plural
from ctbench.results import BackendResult, RunResult, distinct_labels
from ctbench.results.compatibility import differences
from ctbench.results.pairing import PairingError, pair_backends
from ctbench.stability import stability_findings
from ctbench.stats import (
    BOOTSTRAP_STATS,
    CONFIDENCE,
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    MIN_INTERVAL_SAMPLES,
    PERCENTILE_METHOD,
    Summary,
    bootstrap,
    seeded_rng,
    summarize,
)
from ctbench.units import MICROSECONDS, UnitError, same_unit, unit_of

STATS: Final = BOOTSTRAP_STATS
VERDICTS: Final = ("faster", "slower", "unchanged", "inconclusive")
DEFAULT_STAT: Final = "median"
DEFAULT_THRESHOLD: Final = 0.10
# Counts' threshold: pairs of command-line runs of `benchmark-zones 200 3
# 5` counted within 0.03-0.19% of each other per sample
# (docs/instruction-counts.md); 1% is five times the most, and a change of
# 1% in the instructions a phase executes is a change in its code's work,
# where 1% in time is the machine's noise.
DEFAULT_COUNT_THRESHOLD: Final = 0.01
# Beyond 1000% a candidate 11 times slower passes as unchanged: the gate
# would check nothing.
MAX_THRESHOLD: Final = 10.0
# Fewer and a percentile interval means nothing: its ends are the 2.5th and
# 97.5th percentiles of the resampled ratios, estimated from 25 resamples
# each at 1,000, from none at all at 1 (where the "interval" was one
# resample, which could miss its own point estimate and call a file
# compared with itself slower).  Efron & Tibshirani (1993, section 19.3) and
# Davison & Hinkley ("Bootstrap Methods and their Application", Cambridge
# 1997, chapter 5) ask for about 1,000 or more for percentile intervals.
MIN_RESAMPLES: Final = 1_000
RESAMPLES_SOURCE: Final = (
    "Efron & Tibshirani 1993, section 19.3; Davison & Hinkley 1997, ch. 5"
)
# More resamples narrow nothing but the interval's own noise: 100,000 is
# 50x Efron & Tibshirani's advice, and with 20,000 samples a side (the
# subsample cap below) takes about a minute per row here.
MAX_RESAMPLES: Final = 100_000
# Above this many samples a side is bootstrapped from a seeded subsample of
# this size (without replacement): 2,000 sorts of 4 M samples would take many
# minutes, and a subsample's interval is wider, so verdicts stay conservative.
MAX_BOOTSTRAP_SAMPLES: Final = 20_000
BOOTSTRAP_NOTE: Final = (
    "95% intervals: percentile bootstrap (Efron & Tibshirani 1993, ch. 13), "
    "each side's samples resampled with replacement (from a seeded subsample "
    f"of {MAX_BOOTSTRAP_SAMPLES:,} where a side has more)"
)

EXIT_OK: Final = 0
EXIT_REGRESSION: Final = 1
EXIT_INCONCLUSIVE: Final = 3

FILL_COUNTERS: Final = ("requested", "stored", "refused")


class CompareError(CtbenchError, ValueError):
    """Two runs that cannot be compared, or a bad comparison setting."""


def parse_threshold(text: str) -> float:
    """'10%' or '0.1' -> 0.1.

    A bare number must be a fraction below 1: '10' is refused rather than read
    as 1000%, since it almost always means 10%.

    >>> parse_threshold("10%"), parse_threshold("0.05")
    (0.1, 0.05)
    """
    raw = text.strip()
    match = re.fullmatch(r"([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(%?)", raw)
    if not match:
        raise CompareError(f"threshold must look like 10% or 0.1 (got {text!r})")
    value = float(match.group(1))
    if match.group(2):
        value /= 100
    elif value >= 1:
        raise CompareError(
            f"threshold {text!r} is ambiguous: write {raw}% for a percentage, "
            "or a fraction below 1 such as 0.1"
        )
    if not (value > 0 and math.isfinite(value)):
        raise CompareError(f"threshold must be greater than 0 (got {text!r})")
    if value > MAX_THRESHOLD:
        raise CompareError(
            f"threshold must be at most {MAX_THRESHOLD:.0%} (got {text!r})"
        )
    return value


@dataclass(frozen=True)
class Settings:
    stat: str = DEFAULT_STAT
    threshold: float = DEFAULT_THRESHOLD
    resamples: int = DEFAULT_RESAMPLES
    seed: int = DEFAULT_SEED
    strict: bool = False
    counters_must_match: bool = False
    # (baseline label, candidate label): backends compared whatever their
    # tables (``--pair``); the others pair by the table they ran.
    pairs: tuple[tuple[str, str], ...] = ()
    # The threshold of runs whose samples are counts: compare() makes it
    # the threshold of their comparison.
    count_threshold: float = DEFAULT_COUNT_THRESHOLD

    def __post_init__(self) -> None:
        if self.stat not in STATS:
            raise CompareError(f"--stat must be one of {', '.join(STATS)}")
        for value in (self.threshold, self.count_threshold):
            if not 0 < value <= MAX_THRESHOLD:
                raise CompareError(
                    f"threshold must be greater than 0 and at most {MAX_THRESHOLD:.0%}"
                )
        if not MIN_RESAMPLES <= self.resamples <= MAX_RESAMPLES:
            raise CompareError(
                f"--resamples must be from {MIN_RESAMPLES:,} to {MAX_RESAMPLES:,} "
                f"(got {self.resamples}): fewer make a 95% percentile interval "
                f"meaningless ({RESAMPLES_SOURCE})"
            )

    @property
    def upper(self) -> float:
        """Above this ratio the candidate is slower."""
        return 1 + self.threshold

    @property
    def lower(self) -> float:
        """Below this ratio the candidate is faster: 1 / (1 + threshold)."""
        return 1 / (1 + self.threshold)


@dataclass(frozen=True)
class Ratio:
    """candidate / baseline for one statistic, with its bootstrap interval.

    ``low`` and ``high`` are NaN when the ratio is undefined (a baseline
    statistic of 0)."""

    stat: str
    baseline: float
    candidate: float
    ratio: float
    low: float
    high: float


@dataclass(frozen=True)
class Row:
    backend: str
    phase: str
    baseline_count: int
    candidate_count: int
    ratios: dict[str, Ratio]
    verdict: str


@dataclass(frozen=True)
class SummaryRow:
    """A phase where one side (or both) has only ovstest's summary: the
    ratios of its statistics, candidate / baseline, with no interval and no
    verdict.  ``ratios`` holds ``min`` (exact on both sides), ``ovs_ewma``
    (ovstest's Avg, an EWMA) and ``ovs_p95`` (its P-square 95%ile); a side
    with samples has these computed from them.  With several ovstest runs a
    side, each figure is the median over the runs."""

    backend: str
    phase: str
    baseline_runs: int
    candidate_runs: int
    ratios: dict[str, Ratio]


@dataclass(frozen=True)
class CounterDiff:
    """A work counter that differs; None where one side lacks it."""

    backend: str
    phase: str
    counter: str
    baseline: int | None
    candidate: int | None


@dataclass(frozen=True)
class Comparison:
    baseline_name: str
    candidate_name: str
    command: str
    settings: Settings
    rows: list[Row]
    counter_diffs: list[CounterDiff] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    summary_rows: list[SummaryRow] = field(default_factory=list)
    # What both runs' samples measure (ctbench.units).
    unit: str = MICROSECONDS.key

    @property
    def counted(self) -> bool:
        """Counts compared exactly: each ratio its own interval."""
        return unit_of(self.unit).counted

    def count(self, verdict: str) -> int:
        return sum(1 for row in self.rows if row.verdict == verdict)

    @property
    def regressed(self) -> bool:
        return self.count("slower") > 0

    @property
    def counters_failed(self) -> bool:
        return bool(self.counter_diffs) and self.settings.counters_must_match

    def exit_status(self) -> int:
        if self.regressed or self.counters_failed:
            return EXIT_REGRESSION
        # A summary row has no verdict: no more support than an
        # inconclusive one.
        unsure = self.count("inconclusive") + len(self.summary_rows)
        if self.settings.strict and unsure:
            return EXIT_INCONCLUSIVE
        return EXIT_OK

    def outcome(self) -> str:
        """One line: what the exit status means and why."""
        counts = ", ".join(f"{self.count(v)} {v}" for v in VERDICTS if self.count(v))
        if self.summary_rows:
            counts += (", " if counts else "") + (
                f"{len(self.summary_rows)} summary-only without a verdict"
            )
        status = self.exit_status()
        if status == EXIT_REGRESSION:
            reasons = []
            if self.regressed:
                reasons.append("regression")
            if self.counters_failed:
                reasons.append("work counters differ (--counters-must-match)")
            head = "FAIL: " + " and ".join(reasons)
        elif status == EXIT_INCONCLUSIVE:
            head = "INCONCLUSIVE (--strict)"
        elif not self.rows:
            # Ratios of summaries alone support no verdict, not even "OK".
            head = "NO VERDICT: summaries only, ratios without intervals"
        else:
            head = "OK: no regression"
        return f"{head} ({counts or 'no rows'}); exit status {status}"


# -- the statistics -----------------------------------------------------------

Reducer = Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]]

_REDUCERS: Final[dict[str, Reducer]] = {
    "mean": lambda a: np.mean(a, axis=-1),
    "median": lambda a: np.median(a, axis=-1),
    "p95": lambda a: np.percentile(a, 95, axis=-1, method=PERCENTILE_METHOD),
}


def _subsample(
    samples: npt.NDArray[np.float64], rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    if len(samples) <= MAX_BOOTSTRAP_SAMPLES:
        return samples
    return rng.choice(samples, MAX_BOOTSTRAP_SAMPLES, replace=False)


def _point_ratios(base: Sequence[float], cand: Sequence[float]) -> dict[str, Ratio]:
    """The ratios without an interval: too few samples to trust one."""
    a = np.asarray(base, dtype=np.float64)
    b = np.asarray(cand, dtype=np.float64)
    ratios = {}
    for stat in STATS:
        point_a = float(_REDUCERS[stat](a))
        point_b = float(_REDUCERS[stat](b))
        ratio = point_b / point_a if point_a > 0 else math.nan
        ratios[stat] = Ratio(stat, point_a, point_b, ratio, math.nan, math.nan)
    return ratios


def _ratios(
    base: Sequence[float],
    cand: Sequence[float],
    settings: Settings,
    rng: np.random.Generator,
) -> dict[str, Ratio]:
    a = np.asarray(base, dtype=np.float64)
    b = np.asarray(cand, dtype=np.float64)
    boot_a = bootstrap(_subsample(a, rng), settings.resamples, rng)
    boot_b = bootstrap(_subsample(b, rng), settings.resamples, rng)
    tail = (1 - CONFIDENCE) / 2 * 100
    ratios = {}
    for stat in STATS:
        point_a = float(_REDUCERS[stat](a))
        point_b = float(_REDUCERS[stat](b))
        with np.errstate(divide="ignore", invalid="ignore"):
            boot = boot_b[stat] / boot_a[stat]
        if point_a > 0 and np.all(np.isfinite(boot)):
            low, high = np.percentile(boot, [tail, 100 - tail])
            ratio = point_b / point_a
        else:  # a zero baseline: no ratio to speak of
            low = high = ratio = math.nan
        ratios[stat] = Ratio(stat, point_a, point_b, ratio, float(low), float(high))
    return ratios


def _judged_row(
    label: str,
    phase: str,
    base: Sequence[float],
    cand: Sequence[float],
    settings: Settings,
) -> Row:
    """A row of samples on both sides, with its verdict: bootstrap
    intervals (seeded per row), or with fewer than
    :data:`MIN_INTERVAL_SAMPLES` a side the ratios alone, which no interval
    backs: inconclusive."""
    if min(len(base), len(cand)) < MIN_INTERVAL_SAMPLES:
        ratios = _point_ratios(base, cand)
    else:
        rng = seeded_rng(settings.seed, f"{label}/{phase}")
        ratios = _ratios(base, cand, settings, rng)
    chosen = ratios[settings.stat]
    return Row(
        backend=label,
        phase=phase,
        baseline_count=len(base),
        candidate_count=len(cand),
        ratios=ratios,
        verdict=verdict(chosen.low, chosen.high, settings),
    )


def _counted_row(
    label: str,
    phase: str,
    base: Sequence[float],
    cand: Sequence[float],
    settings: Settings,
) -> Row:
    """A row of counts on both sides: each statistic's ratio is exact, so
    its interval is the ratio itself, and the verdict is where it lies
    against the band."""
    ratios = {
        stat: replace(r, low=r.ratio, high=r.ratio)
        for stat, r in _point_ratios(base, cand).items()
    }
    chosen = ratios[settings.stat]
    return Row(
        backend=label,
        phase=phase,
        baseline_count=len(base),
        candidate_count=len(cand),
        ratios=ratios,
        verdict=verdict(chosen.low, chosen.high, settings),
    )


def verdict(low: float, high: float, settings: Settings) -> str:
    """Where the interval [low, high] lies against the threshold band."""
    if math.isnan(low) or math.isnan(high):
        return "inconclusive"
    if low > settings.upper:
        return "slower"
    if high < settings.lower:
        return "faster"
    if low >= settings.lower and high <= settings.upper:
        return "unchanged"
    return "inconclusive"


# -- matching the two runs ----------------------------------------------------


def _summary_group(result: BackendResult) -> str | None:
    """The name a summary-only backend is compared under: its ovstest runs'
    common label (``ovstest:single`` for ``ovstest:single#1``...), or its
    own; None for a backend with samples."""
    phases = result.phases.values()
    if not phases or any(p.summary is None for p in phases):
        return None
    source = result.extra.get("source")
    group = source.get("group") if isinstance(source, dict) else None
    return group if isinstance(group, str) else result.label


def _by_label(run: RunResult) -> dict[str, list[BackendResult]]:
    """Backends by label, as the run recorded them: a spec the run holds
    twice is ``single#1`` and ``single#2`` there (ctbench.results); labels
    that still repeat (a run built by hand) are numbered the same way.  The
    repeated runs of one ovstest binary are one entry, in order."""
    plain = [r for r in run.results if _summary_group(r) is None]
    labels = distinct_labels([result.label for result in plain])
    out = {label: [r] for label, r in zip(labels, plain, strict=True)}
    for result in run.results:
        group = _summary_group(result)
        if group is not None:
            out.setdefault(group if group not in labels else result.label, []).append(
                result
            )
    return out


def _plain(by: dict[str, list[BackendResult]]) -> set[str]:
    return {
        label
        for label, side in by.items()
        if all(_summary_group(r) is None for r in side)
    }


def _match(
    base_by: dict[str, list[BackendResult]],
    cand_by: dict[str, list[BackendResult]],
    requested: Sequence[tuple[str, str]],
    names: tuple[str, str],
) -> tuple[list[tuple[str, list[BackendResult], list[BackendResult]]], list[str]]:
    """What is compared with what, in the baseline's order: (row label,
    baseline side, candidate side), and notes on what is not.

    Backends with samples on both sides pair by the table they ran
    (:func:`ctbench.results.pairing.pair_backends`), so ``sharded`` and
    ``sharded:shards=64`` pair; ``requested`` pairs two labels whatever
    their tables.  A label with ovstest's summaries on a side matches the
    same label on the other."""
    plain_base, plain_cand = _plain(base_by), _plain(cand_by)
    # A label with samples here and only summaries there pairs by label.
    by_label = (base_by.keys() - plain_base) | (cand_by.keys() - plain_cand)
    try:
        pairing = pair_backends(
            [(lb, base_by[lb][0]) for lb in base_by if lb in plain_base - by_label],
            [(lb, cand_by[lb][0]) for lb in cand_by if lb in plain_cand - by_label],
            requested,
            names,
        )
    except PairingError as exc:
        raise CompareError(str(exc)) from None
    pairs = {p.base_label: p for p in pairing.pairs}
    matched = []
    for label, side in base_by.items():
        if label in pairs:
            pair = pairs[label]
            matched.append((pair.label, [pair.base], [pair.cand]))
        elif label in by_label and label in cand_by:
            matched.append((label, side, cand_by[label]))
    only = [(lb, names[0]) for lb in pairing.only_base] + [
        (lb, names[1]) for lb in pairing.only_cand
    ]
    only += [(lb, names[0]) for lb in by_label & base_by.keys() - cand_by.keys()]
    only += [(lb, names[1]) for lb in by_label & cand_by.keys() - base_by.keys()]
    other = {label for label, _, _ in pairing.other_tables}
    notes = [
        f"backend {lb}: only in {where}, not compared"
        for lb, where in only
        if lb not in other
    ]
    notes += [
        f"backend {label}: another table in each file ({a} in {names[0]}, {b} in "
        f"{names[1]}): not compared; --pair {label} {label} compares them"
        for label, a, b in pairing.other_tables
    ]
    return matched, notes


def _summaries(side: list[BackendResult], phase: str) -> list[Summary]:
    """Each run's statistics of ``phase``: ovstest's summary, or, from
    samples, the same statistics (its EWMA and P-square too)."""
    out = []
    for result in side:
        p = result.phases.get(phase)
        stats = None if p is None else p.summary or summarize(p.samples, True)
        if stats is not None:
            out.append(stats)
    return out


# What a summary row compares: ovstest's figures, each like with like.
SUMMARY_STATS: Final = ("min", "ovs_ewma", "ovs_p95")


def _summary_ratios(base: list[Summary], cand: list[Summary]) -> dict[str, Ratio]:
    ratios = {}
    for stat in SUMMARY_STATS:
        a = [v for v in (getattr(s, stat) for s in base) if v is not None]
        b = [v for v in (getattr(s, stat) for s in cand) if v is not None]
        if not a or not b:
            continue
        point_a, point_b = float(np.median(a)), float(np.median(b))
        ratio = point_b / point_a if point_a > 0 else math.nan
        ratios[stat] = Ratio(stat, point_a, point_b, ratio, math.nan, math.nan)
    return ratios


def _counter_diffs(
    label: str, base: BackendResult, cand: BackendResult
) -> list[CounterDiff]:
    diffs = []
    fill_a, fill_b = vars(base.fill), vars(cand.fill)
    for name in FILL_COUNTERS:
        if fill_a[name] != fill_b[name]:
            diffs.append(CounterDiff(label, "fill", name, fill_a[name], fill_b[name]))
    for phase in [p for p in base.phases if p in cand.phases]:
        ca, cb = base.phases[phase].counters, cand.phases[phase].counters
        for name in sorted(ca.keys() | cb.keys()):
            if ca.get(name) != cb.get(name):
                diffs.append(
                    CounterDiff(label, phase, name, ca.get(name), cb.get(name))
                )
    return diffs


def compare(
    baseline: RunResult,
    candidate: RunResult,
    settings: Settings = Settings(),
    names: tuple[str, str] = ("baseline", "candidate"),
) -> Comparison:
    """Compare ``candidate`` against ``baseline``.

    Raises CompareError when the runs come from different commands or share
    no backend and phase with samples.
    """
    a_name, b_name = names
    if baseline.command != candidate.command:
        raise CompareError(
            f"cannot compare results of different commands: {a_name} is "
            f"{baseline.command!r}, {b_name} is {candidate.command!r}"
        )
    try:
        unit = same_unit(((a_name, baseline.unit), (b_name, candidate.unit)), "compare")
    except UnitError as exc:
        raise CompareError(str(exc)) from None
    counted = unit_of(unit).counted
    if counted:
        settings = replace(settings, threshold=settings.count_threshold)
    base_by, cand_by = _by_label(baseline), _by_label(candidate)
    matched, notes = _match(base_by, cand_by, settings.pairs, names)
    rows, diffs = [], []
    unstable: list[str] = []
    summary_rows: list[SummaryRow] = []
    too_few = 0
    for label, base_side, cand_side in matched:
        if any(_summary_group(r) is not None for r in base_side + cand_side):
            rows += _ovstest_rows(label, base_side, cand_side, settings, summary_rows)
            continue
        base, cand = base_side[0], cand_side[0]
        diffs += _counter_diffs(label, base, cand)
        for phase in [p for p in base.phases if p in cand.phases]:
            sa, sb = base.phases[phase].samples, cand.phases[phase].samples
            if not sa or not sb:
                notes.append(f"{phase} on {label}: no samples in one file, skipped")
                continue
            if counted:
                # No noise: nothing for an interval, a disturbance or a
                # stability check to say (docs/instruction-counts.md).
                rows.append(_counted_row(label, phase, sa, sb, settings))
                continue
            if min(len(sa), len(sb)) < MIN_INTERVAL_SAMPLES:
                too_few += 1
            rows.append(_judged_row(label, phase, sa, sb, settings))
            unstable += _disturbed_verdict(rows[-1], (base, cand), names)
            for name, samples, run in (
                (a_name, sa, baseline),
                (b_name, sb, candidate),
            ):
                # A clock-bound phase is not judged (ctbench.stability).
                unstable += [
                    f"{name}: {phase} on {label}: {finding}"
                    for finding in stability_findings(
                        samples, clock_read_ns=run.clock_read_ns
                    )
                ]
        for phase in base.phases.keys() ^ cand.phases.keys():
            where = a_name if phase in base.phases else b_name
            notes.append(f"{phase} on {label}: only in {where}, not compared")
    if too_few:
        notes.append(
            f"{plural(too_few, 'row')} {'has' if too_few == 1 else 'have'} fewer "
            f"than {MIN_INTERVAL_SAMPLES} samples a "
            "side: no interval and no verdict (inconclusive); at 2-5 samples a "
            "bootstrap interval claims a difference that is not there 10-28% of "
            "the time (bench/experiments/interval_coverage.py)"
        )
    if summary_rows:
        notes.append(SUMMARY_ROWS_NOTE)
    notes += _too_wide_note(rows, settings)
    if any(r.backend in _min_sampled(base_by, cand_by) for r in rows):
        notes.append(MIN_SAMPLES_NOTE)
    if not rows and not summary_rows:
        raise CompareError(
            f"{a_name} and {b_name} have no backend and phase with samples in common"
        )
    return Comparison(
        baseline_name=a_name,
        candidate_name=b_name,
        command=baseline.command,
        settings=settings,
        rows=rows,
        counter_diffs=diffs,
        warnings=differences(baseline, candidate, names) + unstable,
        notes=sorted(notes),
        summary_rows=summary_rows,
        unit=unit,
    )


def _disturbed_verdict(
    row: Row,
    sides: tuple[BackendResult, BackendResult],
    names: tuple[str, str],
) -> list[str]:
    """A line naming ``row``'s verdict when it rests on a phase that
    :func:`ctbench.disturbance.disturbed_findings` calls disturbed."""
    out = []
    for name, result in zip(names, sides, strict=True):
        record = result.extra.get(RECORD_KEY)
        found = disturbed_findings(record if isinstance(record, dict) else {}).get(
            row.phase
        )
        if found:
            out.append(
                f"the verdict on {row.phase} on {row.backend} ({row.verdict}) "
                f"rests on a disturbed run: {name}: {found}"
            )
    return out


def _too_wide_note(rows: list[Row], settings: Settings) -> list[str]:
    """A note on the inconclusive rows that show no change (their interval
    holds 1) but are too wide for the band: how many times the samples a
    side would narrow them to high / low = 1 + threshold, where "unchanged"
    is promised 95% of the time (an interval's width shrinks as the square
    root of the samples)."""
    wide = [
        r.ratios[settings.stat]
        for r in rows
        if r.verdict == "inconclusive"
        and r.ratios[settings.stat].low <= 1 <= r.ratios[settings.stat].high
    ]
    if not wide:
        return []
    widest = max(r.high / r.low for r in wide)
    factor = math.ceil((math.log(widest) / math.log(settings.upper)) ** 2)
    one = len(wide) == 1
    return [
        f"{plural(len(wide), 'inconclusive row')} {'shows' if one else 'show'} "
        f"no change ({'its interval holds' if one else 'their intervals hold'} 1) "
        f"but {'is' if one else 'are'} too wide to call unchanged (high/low "
        f"{'' if one else 'up to '}{widest:.3f}): with no change, a 95% interval "
        "comes out unchanged 95% of the time once its high/low is at most "
        f"{settings.upper:.3f}, and about {factor}x the samples a side would "
        f"narrow {'it' if one else 'them'} that far "
        "(bench/experiments/interval_coverage.py)"
    ]


SUMMARY_ROWS_NOTE: Final = (
    "summary-only rows hold ovstest's figures (Min; Avg, an EWMA; 95%ile, a "
    "P-square estimate), not samples, so they get ratios with no interval "
    "and no verdict; with 20 or more ovstest runs a side "
    "(--ovstest-repeat 20) each run's Min is a sample and the rows get "
    "intervals and verdicts"
)
MIN_SAMPLES_NOTE: Final = (
    "rows of ovstest runs (ovstest:LABEL) take each run's Min as one sample: "
    "their mean, median and p95 are over the runs' minimums"
)


def _min_sampled(
    base_by: dict[str, list[BackendResult]], cand_by: dict[str, list[BackendResult]]
) -> set[str]:
    """The labels compared on their ovstest runs' Min as samples."""
    return {
        label
        for label in base_by.keys() & cand_by.keys()
        if all(_summary_group(r) is not None for r in base_by[label] + cand_by[label])
        and min(len(base_by[label]), len(cand_by[label])) >= MIN_INTERVAL_SAMPLES
    }


def _ovstest_rows(
    label: str,
    base_side: list[BackendResult],
    cand_side: list[BackendResult],
    settings: Settings,
    summary_rows: list[SummaryRow],
) -> list[Row]:
    """Rows of a backend that has only ovstest's summaries on a side.

    With :data:`MIN_INTERVAL_SAMPLES` runs or more a side, and summaries on
    both, each run's Min is a sample of the phase, and the rows get
    intervals and verdicts as ctbench's own do (docs/measuring-against-ovstest.md).
    Otherwise each phase gets a summary row: ratios, no interval, no verdict.
    """
    rows = []
    phases = [p for p in base_side[0].phases if p in cand_side[0].phases]
    all_summary = all(_summary_group(r) is not None for r in base_side + cand_side)
    for phase in phases:
        base, cand = _summaries(base_side, phase), _summaries(cand_side, phase)
        if not base or not cand:
            continue
        if all_summary and min(len(base), len(cand)) >= MIN_INTERVAL_SAMPLES:
            sa, sb = [s.min for s in base], [s.min for s in cand]
            rows.append(_judged_row(label, phase, sa, sb, settings))
            continue
        summary_rows.append(
            SummaryRow(label, phase, len(base), len(cand), _summary_ratios(base, cand))
        )
    return rows


__all__ = [
    "BOOTSTRAP_NOTE",
    "DEFAULT_COUNT_THRESHOLD",
    "DEFAULT_RESAMPLES",
    "DEFAULT_SEED",
    "DEFAULT_STAT",
    "MAX_RESAMPLES",
    "MIN_RESAMPLES",
    "RESAMPLES_SOURCE",
    "STATS",
    "VERDICTS",
    "CompareError",
    "Comparison",
    "CounterDiff",
    "Ratio",
    "Row",
    "Settings",
    "SummaryRow",
    "compare",
    "parse_threshold",
    "verdict",
]
