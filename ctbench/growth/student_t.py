"""Student's t quantiles, exactly, without scipy.

numpy has no t distribution.  For a whole number of degrees of freedom the
t distribution's CDF is a finite trigonometric sum (Abramowitz & Stegun,
"Handbook of Mathematical Functions", 1964, 26.7.3 and 26.7.4): with
θ = arctan(t / √ν), the probability A(t | ν) that |T| ≤ t is

- ν odd:  (2/π) (θ + sin θ (cos θ + 2/3 cos³θ + ... +
  (2·4···(ν-3)) / (1·3···(ν-2)) cos^(ν-2) θ)), and 2θ/π for ν = 1;
- ν even: sin θ (1 + 1/2 cos²θ + (1·3)/(2·4) cos⁴θ + ... +
  (1·3···(ν-3)) / (2·4···(ν-2)) cos^(ν-2) θ).

A is increasing in t, so the quantile is found by bisection on θ in
(0, π/2) to the last bit of a float.  The sums have ν/2 terms: a fit's
degrees of freedom (points - 3) are few.  Checked against the printed
table of NIST/SEMATECH, "e-Handbook of Statistical Methods", 1.3.6.7.2
(tests/growth/test_student_t.py).
"""

from __future__ import annotations

import math
from typing import Final

# Beyond this the t distribution is the normal one to far better than the
# 4 digits a printed interval shows (t at 0.975 is 1.95996 + 2.4/ν), and the
# sums would grow long for nothing.
NORMAL_ABOVE_DOF: Final = 100_000
_BISECTION_STEPS: Final = 200


def central_probability(theta: float, dof: int) -> float:
    """A(t | ν): the probability that |T| ≤ t, where θ = arctan(t / √ν)."""
    cos, sin = math.cos(theta), math.sin(theta)
    cos2 = cos * cos
    if dof % 2:
        if dof == 1:
            return 2 * theta / math.pi
        term = total = cos
        for k in range(3, dof - 1, 2):  # cos^k θ, coefficient (k-1)!! / k!!
            term *= cos2 * (k - 1) / k
            total += term
        return 2 / math.pi * (theta + sin * total)
    term = total = 1.0
    for k in range(2, dof - 1, 2):
        term *= cos2 * (k - 1) / k
        total += term
    return sin * total


def t_quantile(p: float, dof: int) -> float:
    """The p quantile of Student's t with ``dof`` degrees of freedom, for
    p in (0.5, 1): t_quantile(0.975, 6) is 2.4469..."""
    if not 0.5 < p < 1:
        raise ValueError(f"p must be between 0.5 and 1 (got {p})")
    if dof < 1:
        raise ValueError(f"degrees of freedom must be 1 or more (got {dof})")
    central = 2 * p - 1  # P(|T| <= t)
    if dof > NORMAL_ABOVE_DOF:
        from statistics import NormalDist

        return NormalDist().inv_cdf(p)
    low, high = 0.0, math.pi / 2
    for _ in range(_BISECTION_STEPS):
        mid = (low + high) / 2
        if mid in (low, high):
            break
        if central_probability(mid, dof) < central:
            low = mid
        else:
            high = mid
    return math.sqrt(dof) * math.tan((low + high) / 2)
