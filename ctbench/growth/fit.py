"""One joint least-squares fit of a cost on two sizes, on log-log axes.

    log(cost) = a + b·log(stored) + c·log(zone)

``stored`` (connections in the table) and ``zone`` (connections in the zone
a phase works on) grow together in a sweep (stored = entries × zones), so
two separate one-variable fits would each credit one variable with the
other's effect; one joint fit separates them.  Ordinary least squares
(``numpy.linalg.lstsq``); each exponent's 95% interval is b ± t·se(b), with
se from σ̂²·(XᵀX)⁻¹ and t the Student t 0.975 quantile with n - 3 degrees of
freedom (the textbook OLS interval, e.g. Montgomery, Peck & Vining,
"Introduction to Linear Regression Analysis", 5th ed., 3.4.1).  It assumes
independent errors of equal spread on the log scale, that is a
multiplicative noise of about the same size at every point.

Fit quality: the residual standard error σ̂ = sqrt(RSS / (n - 3)) of the
log fit, shown as the factor e^σ̂ by which a point typically misses the
fitted law.  R² is recorded but not used to judge: a phase whose cost does
not grow (an empty flush on per-zone maps) has R² near 0 by nature.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from ctbench.growth.student_t import t_quantile
from ctbench.report.numbers import plural

CONFIDENCE: Final = 0.95
# A fit whose points miss the fitted law by more than 25% typically (one
# residual standard error, e^σ̂ > 1.25) is flagged poor: the law does not
# describe them, so its exponents do not summarise the growth.  A judgement,
# set from real sweeps on a shared 2-vCPU VM, where well-behaved phases
# scatter by 2-10% (docs/commands/sweep.md).
POOR_FIT_FACTOR: Final = 1.25
VARIABLES: Final = ("stored", "zone")


class FitError(ValueError):
    """Points from which no fit can be made."""


@dataclass(frozen=True)
class Exponent:
    variable: str
    value: float
    low: float  # the 95% interval; NaN without degrees of freedom
    high: float


@dataclass(frozen=True)
class PowerLawFit:
    """cost ≈ e^a · stored^b · zone^c over ``n`` points."""

    intercept: float
    exponents: tuple[Exponent, ...]
    n: int
    dof: int
    r_squared: float
    residual_se: float  # σ̂ on the natural-log scale

    @property
    def scatter_factor(self) -> float:
        """e^σ̂: how far, as a factor, a point typically lies from the law."""
        return math.exp(self.residual_se)

    @property
    def poor(self) -> bool:
        return self.scatter_factor > POOR_FIT_FACTOR

    def exponent(self, variable: str) -> Exponent:
        return next(e for e in self.exponents if e.variable == variable)

    def predict(self, stored: float, zone: float) -> float:
        return math.exp(self.log_predict(stored, zone))

    def log_predict(self, stored: float, zone: float) -> float:
        """The prediction's natural log (it may lie beyond a float's range in
        a hand-edited file, where predict() would overflow)."""
        b, c = (e.value for e in self.exponents)
        return self.intercept + b * math.log(stored) + c * math.log(zone)


def fit_power_law(
    stored: npt.ArrayLike, zone: npt.ArrayLike, cost: npt.ArrayLike
) -> PowerLawFit:
    """The joint fit; FitError when the points cannot separate the two
    variables (fewer than 4 points, or sizes that do not vary
    independently) or a value is not positive."""
    s = np.asarray(stored, dtype=np.float64)
    z = np.asarray(zone, dtype=np.float64)
    y = np.asarray(cost, dtype=np.float64)
    if not len(s) == len(z) == len(y):
        raise FitError("stored, zone and cost must have one value per point")
    n = len(y)
    if n < len(VARIABLES) + 2:
        raise FitError(
            f"{plural(n, 'point')}: a fit of two exponents and a constant needs at "
            "least 4, for one degree of freedom to estimate its error"
        )
    if not (np.all(s > 0) and np.all(z > 0) and np.all(y > 0)):
        raise FitError("sizes and costs must be above 0 for a log-log fit")
    x = np.column_stack([np.ones(n), np.log(s), np.log(z)])
    log_y = np.log(y)
    beta, _, rank, _ = np.linalg.lstsq(x, log_y, rcond=None)
    if rank < x.shape[1]:
        raise FitError(
            "the points do not vary stored connections and zone size "
            "independently: sweep at least 2 entries and 2 zone counts"
        )
    residuals = log_y - x @ beta
    rss = float(residuals @ residuals)
    dof = n - x.shape[1]
    sigma2 = rss / dof
    covariance = sigma2 * np.linalg.inv(x.T @ x)
    t = t_quantile((1 + CONFIDENCE) / 2, dof)
    tss = float(((log_y - log_y.mean()) ** 2).sum())
    exponents = tuple(
        Exponent(
            name,
            float(beta[i + 1]),
            float(beta[i + 1] - t * math.sqrt(covariance[i + 1, i + 1])),
            float(beta[i + 1] + t * math.sqrt(covariance[i + 1, i + 1])),
        )
        for i, name in enumerate(VARIABLES)
    )
    return PowerLawFit(
        intercept=float(beta[0]),
        exponents=exponents,
        n=n,
        dof=dof,
        r_squared=1 - rss / tss if tss > 0 else 1.0,
        residual_se=math.sqrt(sigma2),
    )
