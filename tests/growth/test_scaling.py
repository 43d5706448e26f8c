"""The Universal Scalability Law fit recovers known laws."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest

from ctbench.growth.fit import FitError
from ctbench.growth.scaling import AMDAHL, USL, fit_scaling


def _usl(
    n: npt.NDArray[np.float64], lam: float, sigma: float, kappa: float
) -> npt.NDArray[np.float64]:
    denominator = 1 + sigma * (n - 1) + kappa * n * (n - 1)
    return np.asarray(lam * n / denominator, dtype=np.float64)


def test_exact_points_give_the_law_back() -> None:
    threads = np.array([1, 2, 4, 8, 16], dtype=float)
    fit = fit_scaling(threads, _usl(threads, 1e6, 0.05, 0.002))
    assert fit.model == USL
    assert fit.lam.value == pytest.approx(1e6)
    assert fit.sigma.value == pytest.approx(0.05)
    assert fit.kappa.value == pytest.approx(0.002)
    assert fit.dof == 2
    assert fit.predict(4) == pytest.approx(_usl(np.array([4.0]), 1e6, 0.05, 0.002)[0])
    assert fit.peak_threads == pytest.approx(math.sqrt(0.95 / 0.002))


def test_noisy_repeats_cover_the_true_parameters() -> None:
    rng = np.random.default_rng(22)
    threads = np.repeat([1, 2, 3, 4, 6, 8], 5).astype(float)
    true = _usl(threads, 5e5, 0.1, 0.01)
    fit = fit_scaling(threads, true * rng.normal(1, 0.01, threads.size))
    assert fit.model == USL and fit.n == 30 and fit.dof == 27
    for interval, value in ((fit.sigma, 0.1), (fit.kappa, 0.01), (fit.lam, 5e5)):
        assert interval.low < value < interval.high
        assert interval.high - interval.low < value  # informative, not vacuous
    assert abs(fit.sigma.value - 0.1) < 0.02
    assert abs(fit.kappa.value - 0.01) < 0.003


def test_two_thread_counts_fit_amdahl_only() -> None:
    rng = np.random.default_rng(7)
    threads = np.repeat([1, 2], 4).astype(float)
    speed = _usl(threads, 1e6, 0.25, 0.0) * rng.normal(1, 0.005, threads.size)
    fit = fit_scaling(threads, speed)
    assert fit.model == AMDAHL
    assert fit.kappa.value == 0.0
    assert fit.sigma.low < 0.25 < fit.sigma.high
    assert fit.dof == 6
    assert fit.peak_threads is None


def test_one_run_per_count_has_no_interval() -> None:
    threads = np.array([1.0, 2.0, 4.0])
    fit = fit_scaling(threads, _usl(threads, 1e6, 0.2, 0.01))
    assert fit.dof == 0
    assert fit.sigma.value == pytest.approx(0.2)
    assert math.isnan(fit.sigma.low) and math.isnan(fit.kappa.high)


@pytest.mark.parametrize(
    ("threads", "speed", "message"),
    [
        ([2, 2], [1.0, 1.1], "at least 2"),
        ([0, 1], [1.0, 2.0], "1 or more"),
        ([1, 2], [1.0, 0.0], "above 0"),
        ([1, 2], [1.0], "one value per run"),
    ],
)
def test_unfittable_runs_are_refused(
    threads: list[int], speed: list[float], message: str
) -> None:
    with pytest.raises(FitError, match=message):
        fit_scaling(threads, speed)
