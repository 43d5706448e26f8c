"""Is a phase's sample stable enough to trust?  Five checks, each a short
finding with its figure, or nothing.

Each check answers one way a run can mislead, with a statistic chosen for
timing samples, which are skewed to the right and carry a long tail:

- **wide spread**: the relative MAD, 1.4826 x the median absolute
  deviation over the median.  For normal samples it equals pyperf's
  stdev / mean; unlike the stdev it is not carried by a few slow samples,
  so it speaks of the bulk of the samples (Rousseeuw & Croux, "Alternatives
  to the median absolute deviation", JASA 88(424), 1993, for 1.4826).
- **bimodal**: a two-component normal mixture fitted by EM to the log of
  the samples (timing noise multiplies), judged by Ashman's D, the
  separation of the two components in units of their spread (Ashman, Bird
  & Zepf, "Detecting bimodality in astronomical datasets", AJ 108(6),
  1994).  Sarle's bimodality coefficient was tried first and rejected: it
  reads right-skewed samples as bimodal (it exceeds its 5/9 bound on 15
  of the 16 phases of two quiet runs of ``benchmark-zones 1000 20 1000``).
- **drift**: the median of the last tenth of the samples against the first
  tenth's, in the order they were taken.
- **a tail far from the median**: how far the mean, which ``compare`` and
  the report's comparisons use, sits above the median: a tail that moves
  the mean that much carries the comparison.
- **warm-up not reached**: the median of the first tenth against the
  median of the rest (the middle eight tenths).

A phase timed within :data:`CLOCK_BOUND_READS` clock reads is not judged
at all: the report already says its figure is an upper bound, and what
these checks would see is the clock's and the call's noise, not the
table's (docs/statistics.md, "Stability warnings").

The core never prints: :func:`stability_findings` returns the findings'
sentences and the report puts them on its warning lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

# A phase whose median is within this many clock reads is clock-bound: at
# 100 reads one read is 1% of the sample, more than the 2-3 digits the
# report prints can ignore.  Its figure is an upper bound, and its spread,
# a drift or slow first rounds are those of a clock pair and a call around
# little work (docs/statistics.md, "Stability warnings", measures them).
# pyperf warns of such a sample as too short ("the shortest raw value is
# only ...", pyperf/_cli.py, format_checks), and its cure, more loops per
# value, is not ovstest's one call per round.  One cause, one line: the
# report's NOTE, not five warnings.
CLOCK_BOUND_READS: Final = 100
# 1.4826 = 1 / Phi^-1(3/4): it makes the MAD estimate the standard deviation
# of normal samples (Rousseeuw & Croux 1993).
MAD_TO_SIGMA: Final = 1.4826
# pyperf warns when the standard deviation is 10% of the mean or more
# (pyperf/_cli.py, format_checks); this is the same bound on the robust
# analogue, 1.4826 x MAD / median.
WIDE_SPREAD: Final = 0.10
# pyperf warns when the maximum is 50% or more above the mean (format_checks);
# the maximum is one sample, so this bound is put on the mean against the
# median instead: the whole tail's pull on the figure compare uses.
FAR_TAIL: Final = 0.50
# A shift of the median as large as the widest spread pyperf accepts
# (WIDE_SPREAD): the same 10% for drift and for the warm-up.
DRIFT: Final = WIDE_SPREAD
WARM_UP: Final = WIDE_SPREAD
# Tenths of fewer than 5 samples: a median of 4 or fewer says little, so the
# drift and warm-up checks need 50 samples.
ORDER_MIN_SAMPLES: Final = 50
# Ashman's D above 2 is "required for a clean separation" of two normal
# components (Ashman, Bird & Zepf 1994, section 2).
ASHMAN_D: Final = 2.0
# The smaller component holds at least a tenth of the samples: fewer are a
# tail (the tail check's business), not a second mode.
MIN_MODE_SHARE: Final = 0.10
# The fitted density must fall between its two peaks to half the lower one
# or less: the half-maximum criterion by which two peaks are called
# resolved; with unequal weights D > 2 alone can leave one peak and a
# shoulder.
VALLEY: Final = 0.5
# The checks need a few samples to say anything; the mixture needs more: on
# steady samples (normal, lognormal, gamma) it calls 26-30% of 20-sample
# draws bimodal, 4.5% at 50 and under 1% at 100 (`python
# bench/experiments/stability_alarms.py`, 200 trials each).
MIN_SAMPLES: Final = 5
MIXTURE_MIN_SAMPLES: Final = 100
# EM on at most this many samples (an even stride through them): it bounds
# the cost on millions of samples, and 5,000 draws place a mode holding a
# tenth of them (500 samples) to within a few percent of its spread.
MIXTURE_MAX_SAMPLES: Final = 5_000
# EM stops when no mean moves by more than this share of the range, or after
# EM_ITERATIONS steps: the figures printed have 2-4 digits.
# The usual stop on the log-likelihood's gain (scikit-learn's
# GaussianMixture stops when the mean gain per sample falls below its
# ``tol``, 1e-3) saves little here: on steady samples of 200 and 1,000 the
# mean log-likelihood still rose by over 1e-8 a step at step 400, and a
# bound of 1e-6 already moved Ashman's D by up to 2.9 (seeded draws as in
# bench/experiments/stability_alarms.py, 2026-12).
EM_TOLERANCE: Final = 1e-6
EM_ITERATIONS: Final = 500

Floats = npt.NDArray[np.float64]


def clock_bound(median_us: float, clock_read_ns: float) -> bool:
    """Whether a phase of this median (us) is within CLOCK_BOUND_READS
    reads of a clock that costs ``clock_read_ns`` a read (0: unknown, as
    in a run counted by callgrind, which has no clock)."""
    return median_us * 1e3 < CLOCK_BOUND_READS * clock_read_ns


def stability_findings(
    samples: Sequence[float],
    unit: str = "us",
    mixture_min: int = MIXTURE_MIN_SAMPLES,
    clock_read_ns: float = 0.0,
) -> list[str]:
    """The checks that fire on ``samples`` (in the order taken), each a
    short sentence with its figure and bound; none for a steady sample,
    nor for a clock-bound one (:func:`clock_bound` with ``clock_read_ns``,
    the run's timer overhead).  ``unit`` names the samples' unit where a
    finding quotes a value; ``mixture_min`` is the fewest samples the
    bimodality check looks at (``bench/experiments/stability_alarms.py``
    varies it).

    >>> stability_findings([100.0] * 60)
    []
    >>> stability_findings([0.5, 0.9] * 30, clock_read_ns=50)
    []
    """
    data = np.asarray(samples, dtype=np.float64)
    if len(data) < MIN_SAMPLES:
        return []
    median = float(np.median(data))
    if not median > 0 or clock_bound(median, clock_read_ns):
        return []
    found = []
    spread = MAD_TO_SIGMA * float(np.median(np.abs(data - median))) / median
    if spread >= WIDE_SPREAD:
        found.append(
            f"wide spread: relative MAD {spread:.0%} (warned at {WIDE_SPREAD:.0%})"
        )
    bimodal = _bimodal(data, unit) if len(data) >= mixture_min else None
    if bimodal:
        found.append(bimodal)
    found += _order_findings(data)
    tail = float(data.mean()) / median - 1
    if tail >= FAR_TAIL:
        found.append(
            f"far tail: the mean is {tail:.0%} above the median "
            f"(warned at {FAR_TAIL:.0%})"
        )
    return found


def _order_findings(data: Floats) -> list[str]:
    """Warm-up and drift, from the medians of the first tenth, the middle
    and the last tenth.  A warm-up alone also moves the first tenth
    against the last; drift is named only when the last tenth has moved
    from the middle as well, so one cause gives one warning."""
    if len(data) < ORDER_MIN_SAMPLES:
        return []
    tenth = len(data) // 10
    first = float(np.median(data[:tenth]))
    middle = float(np.median(data[tenth:-tenth]))
    last = float(np.median(data[-tenth:]))
    out = []
    warm_up = first / middle - 1
    if warm_up >= WARM_UP:
        out.append(
            f"warm-up not reached: the first tenth's median is {warm_up:.0%} "
            f"above the rest's (warned at {WARM_UP:.0%})"
        )
    drift = last / first - 1
    settled = abs(last / middle - 1) < DRIFT
    if abs(drift) >= DRIFT and not (out and settled):
        word = "above" if drift > 0 else "below"
        out.append(
            f"drift: the last tenth's median is {abs(drift):.0%} {word} the "
            f"first tenth's (warned at {DRIFT:.0%})"
        )
    return out


def _bimodal(data: Floats, unit: str) -> str | None:
    if not np.all(data > 0):
        return None
    stride = -(-len(data) // MIXTURE_MAX_SAMPLES)
    logs = np.sort(np.log(data[::stride]))
    if logs[-1] - logs[0] <= 0:
        return None
    weights, means, sigmas = fit_two_normals(logs)
    share = float(weights.min())
    d = float(np.sqrt(2) * abs(means[0] - means[1]) / np.hypot(sigmas[0], sigmas[1]))
    if share < MIN_MODE_SHARE or d <= ASHMAN_D:
        return None
    if valley_ratio(weights, means, sigmas) > VALLEY:
        return None
    low, high = np.exp(np.sort(means))
    return (
        f"bimodal: modes near {low:.4g} and {high:.4g} {unit}, the smaller holding "
        f"{share:.0%} of the samples (Ashman's D {d:.1f}, warned above "
        f"{ASHMAN_D:g})"
    )


def fit_two_normals(x: Floats) -> tuple[Floats, Floats, Floats]:
    """Weights, means and standard deviations of a two-component normal
    mixture fitted to sorted ``x`` by expectation-maximisation (Dempster,
    Laird & Rubin 1977), started from the lower and upper halves so that
    the fit is deterministic.

    Each component's figures are worked on one array of ``len(x)`` values,
    never an array of ``len(x)`` rows of two: numpy's sums along such
    short rows made each step 2 (200 samples) to 10 (5,000) times slower,
    for the same arithmetic.  On steady samples EM runs to EM_ITERATIONS:
    the two components keep creeping along a nearly flat likelihood."""
    half = len(x) // 2
    span = float(x[-1] - x[0])
    # A floor on the deviations keeps a component from collapsing onto
    # repeated values (a timer's granularity).
    floor = 1e-3 * span
    parts = (x[:half], x[half:])
    weights = [0.5, 0.5]
    means = [float(p.mean()) for p in parts]
    sigmas = [max(float(p.std()), floor) for p in parts]
    for _ in range(EM_ITERATIONS):
        density = [
            w / s * np.exp(-0.5 * ((x - m) / s) ** 2) + 1e-300
            for w, m, s in zip(weights, means, sigmas, strict=True)
        ]
        total = density[0] + density[1]
        owned = [d / total for d in density]
        counts = [float(o.sum()) for o in owned]
        weights = [c / len(x) for c in counts]
        moved = [float(o @ x) / c for o, c in zip(owned, counts, strict=True)]
        step = max(abs(a - b) for a, b in zip(moved, means, strict=True))
        means = moved
        sigmas = [
            max(float(np.sqrt(o @ ((x - m) ** 2) / c)), floor)
            for o, m, c in zip(owned, means, counts, strict=True)
        ]
        if step <= EM_TOLERANCE * span:
            break
    return np.array(weights), np.array(means), np.array(sigmas)


def valley_ratio(weights: Floats, means: Floats, sigmas: Floats) -> float:
    """The mixture density's lowest point between its outermost peaks over
    the lower peak: 1 when it has a single peak."""
    grid = np.linspace(
        means.min() - 3 * sigmas.max(), means.max() + 3 * sigmas.max(), 2001
    )
    z = (grid[:, None] - means) / sigmas
    density = (weights / sigmas * np.exp(-0.5 * z * z)).sum(axis=1)
    rising = np.diff(density) > 0
    peaks = np.flatnonzero(rising[:-1] & ~rising[1:]) + 1
    if len(peaks) < 2:
        return 1.0
    a, b = peaks[0], peaks[-1]
    return float(density[a:b].min() / min(density[a], density[b]))
