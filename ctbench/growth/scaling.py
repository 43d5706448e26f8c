"""How throughput scales with threads: the Universal Scalability Law.

Gunther's Universal Scalability Law (N. J. Gunther, "Guerrilla Capacity
Planning", Springer 2007, ch. 4) models the throughput of N threads as

    X(N) = λN / (1 + σ(N - 1) + κN(N - 1))

λ is one thread's throughput, σ the contention (the share of the work that
runs one thread at a time: a lock, a shared write) and κ the coherency
delay (the cost of threads keeping each other's data in step, which makes
throughput fall past a peak).  Amdahl's law is the case κ = 0: with
σ = 1 - p for a parallel fraction p, X(N)/X(1) = N / (1 + σ(N - 1)).

The fit is linear.  Gunther (2007, ch. 5) divides by the measured X(1)
and fits N/C(N) - 1 = σ(N - 1) + κN(N - 1) as a quadratic; here X(1) is
not taken as exact, and λ is fitted with σ and κ: dividing N by X(N) gives

    N / X(N) = a + b(N - 1) + c·N(N - 1),   a = 1/λ, b = σ/λ, c = κ/λ

a least-squares fit (``numpy.linalg.lstsq``, unweighted) of a, b, c over
every run (each repeat at each thread count is one point), then
σ = b/a and κ = c/a.  Their 95% intervals are the delta method's
(the ratio's standard error from the fit's covariance σ̂²(XᵀX)⁻¹) with the
Student t quantile for n - 3 degrees of freedom (n - 2 for Amdahl),
as ``ctbench.growth.fit`` gives its exponents.  With fewer than 3 thread
counts κ cannot be told apart from σ: only Amdahl's law is fitted, and the
fit says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from ctbench.growth.fit import CONFIDENCE, FitError
from ctbench.growth.student_t import t_quantile

USL: Final = "usl"
AMDAHL: Final = "amdahl"
MODEL_NAMES: Final = {
    USL: "Universal Scalability Law (Gunther)",
    AMDAHL: "Amdahl's law (the USL with kappa = 0)",
}
METHOD: Final = (
    "linearised least squares of N/X = (1 + sigma(N-1) + kappa N(N-1)) / lambda "
    "over every run; 95% intervals by the delta method with Student t"
)
# The USL's three parameters need three thread counts; two give Amdahl's two.
USL_MIN_THREAD_COUNTS: Final = 3


@dataclass(frozen=True)
class Interval:
    value: float
    low: float  # NaN without degrees of freedom
    high: float


@dataclass(frozen=True)
class ScalingFit:
    """X(N) ≈ λN / (1 + σ(N - 1) + κN(N - 1)) over ``n`` runs."""

    model: str  # USL or AMDAHL
    lam: Interval  # one thread's throughput, λ
    sigma: Interval
    kappa: Interval  # 0, exactly, for Amdahl's law
    n: int
    dof: int
    thread_counts: tuple[int, ...]

    def predict(self, threads: float) -> float:
        """The fitted throughput at ``threads``."""
        n = threads
        denominator = 1 + self.sigma.value * (n - 1) + self.kappa.value * n * (n - 1)
        return self.lam.value * n / denominator

    @property
    def peak_threads(self) -> float | None:
        """Where the fitted throughput peaks, sqrt((1 - σ)/κ) (where
        dX/dN = 0; Gunther 2007, ch. 4); None where it never falls (κ ≤ 0
        or σ ≥ 1)."""
        if self.kappa.value <= 0 or self.sigma.value >= 1:
            return None
        return math.sqrt((1 - self.sigma.value) / self.kappa.value)


def fit_scaling(threads: npt.ArrayLike, throughput: npt.ArrayLike) -> ScalingFit:
    """The USL over every (threads, throughput) run; Amdahl's law with
    fewer than 3 thread counts.  FitError when no fit can be made: fewer
    than 2 thread counts, a thread count below 1 or a throughput that is
    not above 0."""
    n_threads = np.asarray(threads, dtype=np.float64)
    x = np.asarray(throughput, dtype=np.float64)
    if n_threads.shape != x.shape or n_threads.ndim != 1:
        raise FitError("threads and throughput must have one value per run")
    if not (np.all(n_threads >= 1) and np.all(np.isfinite(x)) and np.all(x > 0)):
        raise FitError("thread counts must be 1 or more and throughputs above 0")
    counts = tuple(sorted({int(t) for t in n_threads}))
    if len(counts) < 2:
        raise FitError(
            f"runs at {len(counts)} thread count: a scaling fit needs at least 2"
        )
    model = USL if len(counts) >= USL_MIN_THREAD_COUNTS else AMDAHL
    columns = [np.ones_like(n_threads), n_threads - 1]
    if model == USL:
        columns.append(n_threads * (n_threads - 1))
    design = np.column_stack(columns)
    y = n_threads / x
    beta, _, rank, _ = np.linalg.lstsq(design, y, rcond=None)
    if rank < design.shape[1] or beta[0] <= 0:
        raise FitError("the runs do not determine a scaling law")
    n = len(y)
    dof = n - design.shape[1]
    if dof > 0:
        residuals = y - design @ beta
        covariance = (
            float(residuals @ residuals) / dof * np.linalg.inv(design.T @ design)
        )
        t = t_quantile((1 + CONFIDENCE) / 2, dof)
    else:
        covariance = np.full((design.shape[1],) * 2, math.nan)
        t = math.nan
    a = float(beta[0])

    def ratio(index: int) -> Interval:
        """beta[index] / a, with its delta-method interval."""
        value = float(beta[index]) / a
        # d(b/a) = db/a - b·da/a²
        gradient = np.zeros(design.shape[1])
        gradient[0] = -value / a
        gradient[index] = 1 / a
        se = math.sqrt(max(float(gradient @ covariance @ gradient), 0.0))
        return Interval(value, value - t * se, value + t * se)

    se_a = math.sqrt(max(float(covariance[0, 0]), 0.0))
    lam_se = se_a / (a * a)  # d(1/a) = -da/a²
    lam = Interval(1 / a, 1 / a - t * lam_se, 1 / a + t * lam_se)
    return ScalingFit(
        model=model,
        lam=lam,
        sigma=ratio(1),
        kappa=ratio(2) if model == USL else Interval(0.0, 0.0, 0.0),
        n=n,
        dof=dof,
        thread_counts=counts,
    )
