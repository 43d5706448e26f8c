"""Student t quantiles against the printed table, and the CDF's sums."""

from __future__ import annotations

import math
from statistics import NormalDist

import pytest

from ctbench.growth.student_t import central_probability, t_quantile

# NIST/SEMATECH e-Handbook of Statistical Methods, 1.3.6.7.2, "Critical
# values of the Student's t distribution", column 0.975 (3 decimals).
TABLE_0975 = {
    1: 12.706,
    2: 4.303,
    3: 3.182,
    4: 2.776,
    5: 2.571,
    6: 2.447,
    7: 2.365,
    8: 2.306,
    9: 2.262,
    10: 2.228,
    15: 2.131,
    20: 2.086,
    30: 2.042,
    60: 2.000,
    100: 1.984,
}


@pytest.mark.parametrize(("dof", "value"), sorted(TABLE_0975.items()))
def test_0975_quantiles_match_the_table(dof: int, value: float) -> None:
    assert t_quantile(0.975, dof) == pytest.approx(value, abs=5e-4)


def test_closed_forms_for_one_and_two_degrees() -> None:
    # nu = 1 is Cauchy: tan(pi (p - 1/2)); nu = 2: (2p - 1) / sqrt(2 p (1 - p)).
    for p in (0.6, 0.9, 0.975, 0.995):
        assert t_quantile(p, 1) == pytest.approx(math.tan(math.pi * (p - 0.5)))
        two = (2 * p - 1) / math.sqrt(2 * p * (1 - p))
        assert t_quantile(p, 2) == pytest.approx(two, rel=1e-12)


def test_large_dof_tends_to_the_normal_and_quantiles_fall_with_dof() -> None:
    z = NormalDist().inv_cdf(0.975)
    values = [t_quantile(0.975, d) for d in (1, 2, 5, 50, 5000, 10**6)]
    assert values == sorted(values, reverse=True)
    assert values[-2] == pytest.approx(z, abs=1e-3)
    assert values[-1] == pytest.approx(z, abs=1e-6)


@pytest.mark.parametrize("dof", [1, 2, 3, 4, 7, 12])
def test_the_cdf_sums_are_a_distribution(dof: int) -> None:
    assert central_probability(0.0, dof) == pytest.approx(0.0, abs=1e-15)
    assert central_probability(math.pi / 2, dof) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(("p", "dof"), [(0.5, 3), (1.0, 3), (0.975, 0)])
def test_out_of_range_arguments_are_refused(p: float, dof: int) -> None:
    with pytest.raises(ValueError):
        t_quantile(p, dof)
