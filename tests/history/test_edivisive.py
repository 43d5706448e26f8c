"""E-divisive means on seeded synthetic series (ctbench.history.edivisive)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ctbench.history.edivisive import (
    MIN_SEGMENT,
    PERMUTATIONS,
    change_points,
    segment,
    split_statistics,
)


def _q_by_the_paper(x: np.ndarray, tau: int) -> float:
    """Matteson and James's q-hat, eq. 5, written out pair by pair."""
    a, b = x[:tau], x[tau:]
    m, n = len(a), len(b)
    across = sum(abs(u - v) for u in a for v in b)
    within_a = sum(abs(u - v) for u, v in itertools.combinations(a, 2))
    within_b = sum(abs(u - v) for u, v in itertools.combinations(b, 2))
    energy = (
        2 * across / (m * n)
        - within_a / (m * (m - 1) / 2)
        - within_b / (n * (n - 1) / 2)
    )
    return float(m * n / (m + n) * energy)


def test_split_statistics_match_the_paper_pair_by_pair() -> None:
    x = np.random.default_rng(1).lognormal(0, 0.3, 17)
    stats = split_statistics(x)
    for tau in range(len(x) + 1):
        if MIN_SEGMENT <= tau <= len(x) - MIN_SEGMENT:
            assert stats[tau] == pytest.approx(_q_by_the_paper(x, tau))
        else:
            assert np.isnan(stats[tau])


@pytest.mark.parametrize("seed", range(5))
def test_a_step_of_five_noise_widths_is_found_where_it_is(seed: int) -> None:
    rng = np.random.default_rng(seed)
    series = np.concatenate([rng.normal(100, 2, 15), rng.normal(110, 2, 15)])
    found = change_points(series, np.random.default_rng(seed))
    assert [c.index for c in found] == [15]
    assert found[0].p_value == 1 / (PERMUTATIONS + 1)


def test_the_05_level_finds_false_changes_beside_a_real_step() -> None:
    """Why SIGNIFICANCE is 0.01, not ecp's 0.05: the segment left after a
    real step is tested again, and at 0.05 gets a false change."""
    rng = np.random.default_rng(2)
    series = np.concatenate([rng.normal(100, 2, 15), rng.normal(110, 2, 15)])
    loose = change_points(series, np.random.default_rng(2), significance=0.05)
    assert [c.index for c in loose] == [15, 27]


def test_two_steps_are_found_each_in_place() -> None:
    rng = np.random.default_rng(7)
    series = np.concatenate(
        [rng.normal(100, 1, 12), rng.normal(108, 1, 12), rng.normal(96, 1, 12)]
    )
    found = change_points(series, np.random.default_rng(0))
    assert [c.index for c in found] == [12, 24]


def test_skewed_noise_without_a_step_gives_no_change_mostly() -> None:
    """At the 1% level about one series in a hundred of pure noise gets a
    false change: of 40 seeded log-normal series, at most 2."""
    false = 0
    for seed in range(40):
        rng = np.random.default_rng(100 + seed)
        series = 100 * rng.lognormal(0, 0.2, 24)
        false += bool(change_points(series, np.random.default_rng(seed)))
    assert false <= 2


def test_a_constant_series_has_no_change() -> None:
    found = segment([5.0] * 12, np.random.default_rng(0))
    assert found.changes == ()
    assert found.rejected is not None and found.rejected.p_value == 1.0


def test_too_short_a_series_has_no_change() -> None:
    assert change_points([1.0, 2.0, 3.0, 50.0, 51.0], np.random.default_rng(0)) == []


def test_a_value_that_is_not_finite_is_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        change_points([1.0, float("nan")] * 5, np.random.default_rng(0))
