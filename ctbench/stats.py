"""Statistics over timing samples: exact ones, and OVS's own estimators.

ctbench reports exact statistics computed from every sample:

- min and max;
- the arithmetic mean and the median;
- p95 and p99 by linear interpolation between closest ranks (numpy's
  ``method="linear"``, Hyndman & Fan's definition 7);
- the sample standard deviation (n - 1 in the denominator), undefined (None,
  printed "-") for a single sample, and the count.

ovstest's table is different, and ``ovs_ewma`` / ``ovs_p95`` reproduce it so a
ctbench run can be set beside a published ovstest table (lib/stopwatch.c):

- its "Avg" is an exponentially weighted moving average with weight 0.01
  for each new sample, seeded by the first sample;
- its "95%ile" is a P-square estimate (Jain & Chlamtac, "The P-square
  algorithm for dynamic calculation of percentiles and histograms without
  storing observations", CACM 28(10), 1985) once 50 samples have been seen,
  and before that the sorted sample at index int(0.95 * n).  Until the
  five P-square markers exist (five samples or fewer) ovstest prints 0.

The percentile bootstrap here serves ``compare``'s intervals, and
:func:`mean_change`'s: the report's change in means between backends of
one run, with the noise within the run as its interval.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Final

import numpy as np
import numpy.typing as npt

PERCENTILE_METHOD: Final = "linear"
PERCENTILE_METHOD_NOTE: Final = (
    "exact percentiles, linear interpolation (numpy 'linear', Hyndman-Fan 7)"
)

# lib/stopwatch.c: long_term.alpha = 0.01 (the "Avg" column, ewma_1).
OVS_EWMA_ALPHA: Final = 0.01
# lib/stopwatch.c: P (the percentile), MARKERS and P_SQUARE_MIN.
OVS_PERCENTILE: Final = 0.95
OVS_MARKERS: Final = 5
OVS_P_SQUARE_MIN: Final = 50


@dataclass(frozen=True)
class Summary:
    """A phase's statistics.  From raw samples every exact field is set;
    a summary-only phase (an imported ovstest table) has min, max and
    ovstest's estimators, and None where the samples would be needed."""

    min: float
    max: float
    mean: float | None
    median: float | None
    p95: float | None
    p99: float | None
    stdev: float | None
    count: int | None
    ovs_ewma: float | None = None
    ovs_p95: float | None = None

    @property
    def summary_only(self) -> bool:
        return self.mean is None

    def as_dict(self) -> dict[str, float | int]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_ovstest(
        cls,
        low: float,
        high: float,
        p95: float | None,
        avg: float | None,
        count: int | None,
    ) -> Summary:
        """ovstest's table row: Min and Max are exact, 95%ile its P-square
        estimate and Avg its EWMA (see the module docstring); benchmark's one
        printed time has neither estimator."""
        return cls(low, high, None, None, None, None, None, count, avg, p95)


def summarize(samples: Sequence[float], ovs: bool = False) -> Summary | None:
    """Exact statistics of ``samples``; None when there are none."""
    if not samples:
        return None
    data = np.asarray(samples, dtype=np.float64)
    p95, p99 = np.percentile(data, [95, 99], method=PERCENTILE_METHOD)
    return Summary(
        min=float(data.min()),
        max=float(data.max()),
        mean=float(data.mean()),
        median=float(np.median(data)),
        p95=float(p95),
        p99=float(p99),
        # With n - 1 in the denominator one sample has no spread to speak
        # of: not 0, which would claim a perfectly steady phase.
        stdev=float(data.std(ddof=1)) if len(data) > 1 else None,
        count=len(data),
        ovs_ewma=ovs_ewma(samples) if ovs else None,
        ovs_p95=PSquare.of(samples).value if ovs else None,
    )


def ovs_ewma(samples: Sequence[float], alpha: float = OVS_EWMA_ALPHA) -> float:
    """ovstest's "Avg": the first sample seeds it, then avg += alpha * (x - avg)."""
    it = iter(samples)
    try:
        average = float(next(it))
    except StopIteration:
        return math.nan
    for x in it:
        average = x * alpha + (1 - alpha) * average
    return average


class PSquare:
    """ovstest's streaming 95th percentile (lib/stopwatch.c calc_percentile)."""

    def __init__(self, p: float = OVS_PERCENTILE) -> None:
        self.p = p
        self.count = 0
        self._first: list[float] = []  # the first P_SQUARE_MIN samples
        self.n = [0] * OVS_MARKERS
        self.n_prime = [0.0] * OVS_MARKERS
        self.dn = [0.0] * OVS_MARKERS
        self.q = [0.0] * OVS_MARKERS

    @classmethod
    def of(cls, samples: Sequence[float]) -> PSquare:
        estimator = cls()
        for x in samples:
            estimator.add(float(x))
        return estimator

    def add(self, x: float) -> None:
        self.count += 1
        if self.count < OVS_P_SQUARE_MIN:
            self._first.append(x)
        if self.count <= OVS_MARKERS:
            if self.count == OVS_MARKERS:
                p = self.p
                self.q = sorted(self._first)
                self.n = [0, 1, 2, 3, 4]
                self.n_prime = [0.0, 2 * p, 4 * p, 2 + 2 * p, 4.0]
                self.dn = [0.0, p / 2, p, (1 + p) / 2, 1.0]
            return
        q, n = self.q, self.n
        if x < q[0]:
            q[0] = x
            k = 0
        elif x < q[1]:
            k = 0
        elif x < q[2]:
            k = 1
        elif x < q[3]:
            k = 2
        elif x <= q[4]:
            k = 3
        else:
            q[4] = x
            k = 3
        for i in range(k + 1, OVS_MARKERS):
            n[i] += 1
        for i in range(OVS_MARKERS):
            self.n_prime[i] += self.dn[i]
        for i in range(1, OVS_MARKERS - 1):
            d = self.n_prime[i] - n[i]
            if (d >= 1 and n[i + 1] - n[i] > 1) or (d <= -1 and n[i - 1] - n[i] < -1):
                step = 1 if d >= 0 else -1
                a = step / (n[i + 1] - n[i - 1])
                b = (n[i] - n[i - 1] + step) * (q[i + 1] - q[i]) / (n[i + 1] - n[i])
                c = (n[i + 1] - n[i] - step) * (q[i] - q[i - 1]) / (n[i] - n[i - 1])
                candidate = q[i] + a * (b + c)
                if q[i - 1] < candidate < q[i + 1]:
                    q[i] = candidate
                else:  # the linear formula when the parabola overshoots
                    q[i] = q[i] + step * (q[i + step] - q[i]) / (n[i + step] - n[i])
                n[i] += step

    @property
    def value(self) -> float:
        if self.count <= OVS_MARKERS:
            return 0.0
        if self.count < OVS_P_SQUARE_MIN:
            ordered = sorted(self._first)
            return ordered[int(self.p * self.count)]
        return self.q[2]


# -- the bootstrap ------------------------------------------------------------

# Resampled values held at once (float64): bounds memory to about 32 MiB per
# side whatever the sample count; the resamples are drawn in blocks.
MAX_BLOCK_VALUES: Final = 4_000_000
BOOTSTRAP_STATS: Final = ("mean", "median", "p95")
# 2,000 resamples: Efron & Tibshirani (1993, section 19.3) suggest 1,000 or
# more for percentile intervals; 2,000 keeps the 2.5% tail at 50 resamples.
DEFAULT_RESAMPLES: Final = 2_000
DEFAULT_SEED: Final = 0
# A 95% interval: the 2.5th and 97.5th percentiles of the bootstrap ratios.
CONFIDENCE: Final = 0.95


def seeded_rng(seed: int, key: str) -> np.random.Generator:
    """A generator per seed and key (a row, a line), so that each interval is
    reproducible and independent of which others are computed."""
    return np.random.default_rng([seed, zlib.crc32(key.encode())])


def sorted_percentile(
    ordered: npt.NDArray[np.float64], q: float
) -> npt.NDArray[np.float64]:
    """Percentile q (0-100) of each row of an already sorted array, by the
    linear interpolation numpy's method="linear" uses (Hyndman-Fan 7): one
    sort then serves both the median and p95, several times faster than two
    np.percentile calls over the resamples."""
    n = ordered.shape[-1]
    position = (n - 1) * q / 100
    below = int(math.floor(position))
    above = min(below + 1, n - 1)
    fraction = position - below
    low, high = ordered[..., below], ordered[..., above]
    return low + (high - low) * fraction  # type: ignore[no-any-return]


def bootstrap(
    samples: npt.NDArray[np.float64],
    resamples: int,
    rng: np.random.Generator,
    stats: Sequence[str] = BOOTSTRAP_STATS,
) -> dict[str, npt.NDArray[np.float64]]:
    """Each of ``stats`` (mean, median, p95) over ``resamples`` resamples with
    replacement (Efron & Tibshirani 1993, ch. 13), drawn in blocks so that
    memory stays bounded; one index draw serves every statistic, and the
    resamples are sorted only when an order statistic is asked for."""
    n = len(samples)
    block = max(1, MAX_BLOCK_VALUES // n)
    ordered = any(s != "mean" for s in stats)
    out: dict[str, list[npt.NDArray[np.float64]]] = {s: [] for s in stats}
    for done in range(0, resamples, block):
        size = min(block, resamples - done)
        drawn = samples[rng.integers(0, n, size=(size, n))]
        if ordered:
            drawn.sort(axis=-1)
        for stat in stats:
            if stat == "mean":
                out[stat].append(drawn.mean(axis=-1))
            else:
                q = 50 if stat == "median" else 95
                out[stat].append(sorted_percentile(drawn, q))
    return {stat: np.concatenate(parts) for stat, parts in out.items()}


# -- within-run intervals -----------------------------------------------------

# Fewer samples a side than this and mean_change() gives no interval: with no
# true difference, the percentile-bootstrap 95% interval lies wholly on one
# side of zero 34% of the time at 2 samples a side, 12% at 5, 8% at 10, 7% at
# 20 and 5% at 50 (normal and lognormal samples alike;
# `python -m bench.experiments.interval_coverage`, 400 trials each).
MIN_INTERVAL_SAMPLES: Final = 20
# Above this many samples a side, mean_change() uses the normal approximation
# (delta method on the log of the ratio of means): the central limit theorem
# holds well there, it uses every sample, and it costs one pass where 2,000
# resamples would cost seconds.
NORMAL_INTERVAL_SAMPLES: Final = 5_000


@dataclass(frozen=True)
class MeanChange:
    """How much ``other``'s mean differs from ``base``'s, in percent (negative:
    lower, i.e. faster), with a 95% interval when there is one.

    ``method`` names how the interval was made; ``low`` and ``high`` are NaN
    and ``method`` says why when there is none.
    """

    change: float
    low: float
    high: float
    method: str

    @property
    def has_interval(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)


def _normal_log_ratio_interval(
    a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]
) -> tuple[float, float]:
    """95% interval of mean(b) / mean(a) - 1 from the delta method:
    Var(log ratio) = var(a) / (n_a mean(a)^2) + var(b) / (n_b mean(b)^2)."""
    ma, mb = a.mean(), b.mean()
    se = math.sqrt(a.var(ddof=1) / (len(a) * ma**2) + b.var(ddof=1) / (len(b) * mb**2))
    z = NormalDist().inv_cdf(1 - (1 - CONFIDENCE) / 2)
    ratio = mb / ma
    return ratio * math.exp(-z * se) - 1, ratio * math.exp(z * se) - 1


def mean_change(
    base: Sequence[float],
    other: Sequence[float],
    key: str,
    seed: int = DEFAULT_SEED,
    resamples: int = DEFAULT_RESAMPLES,
) -> MeanChange | None:
    """``other`` against ``base`` on arithmetic means, or None without a
    positive baseline mean.

    The interval is a percentile bootstrap of the ratio of means (``key``
    and ``seed`` seed it, so each line is reproducible and independent of
    the others); above :data:`NORMAL_INTERVAL_SAMPLES` a side, the normal
    approximation; below :data:`MIN_INTERVAL_SAMPLES` a side, none.  It
    treats the samples as independent: it covers the sampling noise within
    a run, not a drift of the machine between backends measured one after
    the other.
    """
    a = np.asarray(base, dtype=np.float64)
    b = np.asarray(other, dtype=np.float64)
    if not len(a) or not len(b) or not a.mean() > 0:
        return None
    change = float((b.mean() / a.mean() - 1) * 100)
    nan = math.nan
    if min(len(a), len(b)) < MIN_INTERVAL_SAMPLES:
        return MeanChange(
            change, nan, nan, f"fewer than {MIN_INTERVAL_SAMPLES} samples"
        )
    if min(len(a), len(b)) > NORMAL_INTERVAL_SAMPLES:
        if not b.mean() > 0:
            return MeanChange(change, nan, nan, "a mean of 0")
        low, high = _normal_log_ratio_interval(a, b)
        return MeanChange(change, low * 100, high * 100, "normal approx.")
    rng = seeded_rng(seed, key)
    boot_a = bootstrap(a, resamples, rng, ("mean",))["mean"]
    boot_b = bootstrap(b, resamples, rng, ("mean",))["mean"]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = boot_b / boot_a - 1
    if not np.all(np.isfinite(ratios)):
        return MeanChange(change, nan, nan, "a resampled mean of 0")
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(ratios, [tail, 100 - tail]) * 100
    return MeanChange(change, float(low), float(high), "bootstrap")
