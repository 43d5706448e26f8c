"""E-divisive means: where a series of benchmark figures changed.

The method is Matteson and James's E-divisive (D. S. Matteson and N. A.
James, "A Nonparametric Approach for Multiple Change Point Analysis of
Multivariate Data", Journal of the American Statistical Association 109
(505), 2014, pp. 334-345; arXiv:1306.4933), the one MongoDB runs over its
performance history (D. Daly et al., "The Use of Change Point Detection to
Identify Software Performance Regressions in a Continuous Integration
System", ICPE 2020, arXiv:2003.00584) and Apache Otava (formerly DataStax's
Hunter: M. Fleming et al., "Hunter: Using Change Point Detection to Hunt for
Performance Regressions", ICPE 2023, arXiv:2301.03034) builds on.

Why it fits benchmark figures: it assumes no distribution.  Its statistic
is the energy distance between the figures before and after a split (the
mean distance across the split against the mean distances within each
side), so a skewed, heavy-tailed or two-mode series (a noisy neighbour, a
frequency step of the CPU) is taken as it is, and its significance comes
from permutations of the figures themselves, not from a normal model.
Hunter replaced the permutation test by a Student's t-test for speed over
thousands of series; with a project's tens to hundreds of runs the
permutations cost little, and they keep the method free of that normal
assumption.

Implemented here with numpy, as the paper states it, with one choice of
the paper's own: the split's right end is the segment's end (kappa = T),
as in Daly et al.'s implementation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

# The paper's exponent of the distance, |x - y|^alpha with alpha in (0, 2);
# 1 is its choice in every experiment (section 5) and the ecp package's
# default (e.divisive(alpha = 1)).
ALPHA: Final = 1.0
# Permutations per significance test: the ecp package's default,
# e.divisive(R = 199) (Matteson and James's R package,
# https://cran.r-project.org/package=ecp); the smallest p-value is then
# 1/200 = 0.005.
PERMUTATIONS: Final = 199
# The level a change must pass: Hunter's, 0.01 (datastax-labs/hunter,
# hunter/analysis.py: QHatPermutationsSignificanceTester(pvalue=0.01)), not
# ecp's 0.05: each split of the hierarchy is one more test, and at 0.05 the
# small segments left beside a real step get false changes of their own
# (tests/history/test_edivisive.py shows one at seed 2).
SIGNIFICANCE: Final = 0.01
# The fewest runs on each side of a change.  ecp's default (30) is for
# series of thousands of points; a project's history has tens of runs.
# Three, so that one odd run (a night on a busy machine) cannot make a
# segment of its own, and the within-segment term has three distances.
MIN_SEGMENT: Final = 3


@dataclass(frozen=True)
class ChangePoint:
    """A change at ``index``: figures from ``index`` on differ from those
    before it.  ``statistic`` is the paper's q-hat at the split,
    ``p_value`` its permutation test's."""

    index: int
    statistic: float
    p_value: float


def _block_sums(distances: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Sums of the distance matrix's top-left blocks: out[i, j] is the sum
    over rows < i and columns < j."""
    n = len(distances)
    out = np.zeros((n + 1, n + 1))
    out[1:, 1:] = distances.cumsum(axis=0).cumsum(axis=1)
    return out


def split_statistics(
    values: npt.NDArray[np.float64], min_segment: int = MIN_SEGMENT
) -> npt.NDArray[np.float64]:
    """q-hat(tau) for each split tau of ``values`` into values[:tau] and
    values[tau:] (NaN where a side would hold fewer than ``min_segment``):
    the energy divergence scaled by m n / (m + n) (the paper's eq. 5, with
    kappa at the end of the series)."""
    n = len(values)
    out = np.full(n + 1, np.nan)
    taus = np.arange(min_segment, n - min_segment + 1)
    if len(taus) == 0:
        return out
    distances = np.abs(values[:, None] - values[None, :]) ** ALPHA
    sums = _block_sums(distances)
    total = sums[n, n]
    left = sums[taus, taus]  # within values[:tau], each pair twice
    corner = sums[taus, n]  # rows < tau, every column
    across = corner - left  # rows < tau, columns >= tau
    right = total - 2 * corner + left  # within values[tau:], each pair twice
    m = taus.astype(float)
    k = n - m
    energy = 2 * across / (m * k) - left / (m * (m - 1)) - right / (k * (k - 1))
    out[taus] = m * k / (m + k) * energy
    return out


def _best_split(
    values: npt.NDArray[np.float64], min_segment: int
) -> tuple[int, float] | None:
    stats = split_statistics(values, min_segment)
    if np.all(np.isnan(stats)):
        return None
    tau = int(np.nanargmax(stats))
    return tau, float(stats[tau])


def _best_over(
    values: npt.NDArray[np.float64], bounds: Sequence[int], min_segment: int
) -> tuple[int, float] | None:
    """The best split of any segment (between consecutive ``bounds``), as
    an index into ``values``, and its q-hat."""
    best: tuple[int, float] | None = None
    for start, end in zip(bounds[:-1], bounds[1:], strict=True):
        found = _best_split(values[start:end], min_segment)
        if found is not None and (best is None or found[1] > best[1]):
            best = (start + found[0], found[1])
    return best


@dataclass(frozen=True)
class Segmentation:
    """The changes kept, in order of position, and the best split that was
    tested and not kept (None when no split was possible)."""

    changes: tuple[ChangePoint, ...]
    rejected: ChangePoint | None


def change_points(
    series: Sequence[float] | npt.NDArray[np.float64],
    rng: np.random.Generator,
    *,
    min_segment: int = MIN_SEGMENT,
    permutations: int = PERMUTATIONS,
    significance: float = SIGNIFICANCE,
) -> list[ChangePoint]:
    """The changes E-divisive finds in ``series``, in order of position
    (:func:`segment`)."""
    found = segment(
        series,
        rng,
        min_segment=min_segment,
        permutations=permutations,
        significance=significance,
    )
    return list(found.changes)


def segment(
    series: Sequence[float] | npt.NDArray[np.float64],
    rng: np.random.Generator,
    *,
    min_segment: int = MIN_SEGMENT,
    permutations: int = PERMUTATIONS,
    significance: float = SIGNIFICANCE,
) -> Segmentation:
    """Where E-divisive splits ``series``.

    Hierarchical, as the paper's section 3: the best split of any current
    segment is kept when its q-hat beats that of the series with each
    segment's values permuted in place, at ``significance``, over
    ``permutations`` permutations; then the segments are split again,
    until a split is not significant.
    """
    values = np.asarray(series, dtype=float)
    if not np.all(np.isfinite(values)):
        raise ValueError("the series holds a value that is not a finite number")
    bounds = [0, len(values)]
    found: list[ChangePoint] = []
    rejected = None
    while True:
        best = _best_over(values, bounds, min_segment)
        if best is None:
            break
        index, statistic = best
        as_large = 0
        shuffled = values.copy()
        for _ in range(permutations):
            for start, end in zip(bounds[:-1], bounds[1:], strict=True):
                shuffled[start:end] = rng.permutation(values[start:end])
            again = _best_over(shuffled, bounds, min_segment)
            if again is not None and again[1] >= statistic:
                as_large += 1
        candidate = ChangePoint(index, statistic, (as_large + 1) / (permutations + 1))
        if candidate.p_value > significance:
            rejected = candidate
            break
        found.append(candidate)
        bounds = sorted([*bounds, index])
    return Segmentation(tuple(sorted(found, key=lambda c: c.index)), rejected)
