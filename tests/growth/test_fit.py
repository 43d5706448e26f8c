"""The joint power-law fit: known exponents come back, intervals cover."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from ctbench.growth.fit import POOR_FIT_FACTOR, FitError, fit_power_law

ENTRIES = np.repeat([1000.0, 3000.0, 10000.0], 3)
ZONES = np.tile([10.0, 30.0, 100.0], 3)
STORED = ENTRIES * ZONES


def _costs(b: float, c: float, noise: float, seed: int) -> npt.NDArray[np.float64]:
    rng = np.random.default_rng(seed)
    noise_factor = np.exp(rng.normal(0, noise, len(STORED)))
    costs: npt.NDArray[np.float64] = 0.02 * STORED**b * ENTRIES**c * noise_factor
    return costs


@pytest.mark.parametrize(("b", "c"), [(1.0, 0.0), (0.0, 1.0), (0.0, 0.0), (0.5, 0.7)])
def test_known_exponents_come_back_within_their_intervals(b: float, c: float) -> None:
    fit = fit_power_law(STORED, ENTRIES, _costs(b, c, 0.03, seed=1))
    stored, zone = fit.exponents
    assert (stored.variable, zone.variable) == ("stored", "zone")
    assert stored.value == pytest.approx(b, abs=0.1)
    assert zone.value == pytest.approx(c, abs=0.1)
    assert stored.low < b < stored.high and zone.low < c < zone.high
    assert (fit.n, fit.dof) == (9, 6)
    assert not fit.poor


def test_exact_data_gives_exact_exponents_and_no_scatter() -> None:
    fit = fit_power_law(STORED, ENTRIES, 3.0 * STORED**0.8 * ENTRIES**0.3)
    assert fit.exponent("stored").value == pytest.approx(0.8)
    assert fit.exponent("zone").value == pytest.approx(0.3)
    assert fit.residual_se == pytest.approx(0.0, abs=1e-9)
    assert fit.predict(2e5, 2000) == pytest.approx(3.0 * 2e5**0.8 * 2000**0.3)


def test_the_95_percent_intervals_cover_about_95_percent_of_the_time() -> None:
    trials, covered = 400, 0
    for seed in range(trials):
        fit = fit_power_law(STORED, ENTRIES, _costs(1.0, 0.0, 0.2, seed))
        e = fit.exponent("stored")
        covered += e.low <= 1.0 <= e.high
    # Binomial(400, 0.95): 3 standard errors is about 0.033.
    assert abs(covered / trials - 0.95) < 0.035


def test_scattered_points_are_flagged_poor() -> None:
    fit = fit_power_law(STORED, ENTRIES, _costs(1.0, 0.0, 0.6, seed=3))
    assert fit.scatter_factor > POOR_FIT_FACTOR and fit.poor


@pytest.mark.parametrize(
    ("stored", "zone", "cost", "why"),
    [
        ([1, 2, 3], [1, 2, 3], [1, 2, 3], "at least 4"),
        ([10, 20, 30, 40], [1, 2, 3, 4], [1, 2, 0, 4], "above 0"),
        # zone size never varies apart from stored: the variables are one.
        ([10, 100, 1000, 10**4], [10, 100, 1000, 10**4], [1, 2, 3, 4], "independ"),
    ],
)
def test_what_cannot_be_fitted_says_why(
    stored: list[float], zone: list[float], cost: list[float], why: str
) -> None:
    with pytest.raises(FitError, match=why):
        fit_power_law(stored, zone, cost)
