import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctbench.stats import (
    PSquare,
    mean_change,
    ovs_ewma,
    sorted_percentile,
    summarize,
)

samples = st.lists(
    st.floats(min_value=0, max_value=1e7, allow_nan=False), min_size=1, max_size=300
)


@given(samples)
def test_summary_matches_numpy(values: list[float]) -> None:
    s = summarize(values)
    assert s is not None
    data = np.array(values)
    assert s.min == data.min() and s.max == data.max()
    assert s.mean == pytest.approx(data.mean(), rel=1e-12, abs=1e-9)
    assert s.median == pytest.approx(np.median(data))
    assert s.p95 == pytest.approx(np.percentile(data, 95, method="linear"))
    assert s.p99 == pytest.approx(np.percentile(data, 99, method="linear"))
    if len(values) > 1:
        assert s.stdev == pytest.approx(data.std(ddof=1), rel=1e-9, abs=1e-9)
    else:
        assert s.stdev is None
    assert s.count == len(values)


def test_summary_known_samples() -> None:
    s = summarize([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    assert s is not None
    assert (s.min, s.max, s.mean, s.median) == (1, 10, 5.5, 5.5)
    # linear interpolation: rank 0.95 * 9 = 8.55 -> 9 + 0.55 * (10 - 9)
    assert s.p95 == pytest.approx(9.55)
    assert s.p99 == pytest.approx(9.91)
    assert s.stdev == pytest.approx(3.0276503540974917)


def test_one_sample_has_no_stdev() -> None:
    """The sample standard deviation divides by n - 1: undefined for one
    sample, so absent (the reports print "-"), never 0."""
    s = summarize([42.0])
    assert s is not None and s.stdev is None
    assert "stdev" not in s.as_dict()
    assert s.count == 1 and s.mean == 42.0


def test_summary_of_nothing_is_none() -> None:
    assert summarize([]) is None


def test_ovs_stats_are_added_only_on_request() -> None:
    plain = summarize([1.0, 2.0])
    assert plain is not None and plain.ovs_ewma is None
    assert "ovs_ewma" not in plain.as_dict()
    with_ovs = summarize([1.0, 2.0], ovs=True)
    assert with_ovs is not None and with_ovs.ovs_ewma is not None


def test_ewma_hand_computed() -> None:
    # seeded by the first sample, then avg = 0.01 * x + 0.99 * avg
    assert ovs_ewma([100.0]) == 100.0
    assert ovs_ewma([100.0, 200.0]) == pytest.approx(101.0)
    assert ovs_ewma([100.0, 200.0, 300.0]) == pytest.approx(102.99)


def test_ewma_remembers_the_first_sample() -> None:
    # lib/stopwatch.c seeds the EWMA with the first sample: after N samples
    # it still weighs 0.99^(N-1)
    values = [1000.0] + [0.0] * 100
    assert ovs_ewma(values) == pytest.approx(1000 * 0.99**100)


def test_p_square_prints_zero_up_to_five_samples() -> None:
    for n in range(1, 6):
        assert PSquare.of([float(x) for x in range(1, n + 1)]).value == 0.0


@pytest.mark.parametrize(
    ("n", "expected"), [(6, 6.0), (10, 10.0), (20, 20.0), (40, 39.0)]
)
def test_p_square_exact_rule_below_fifty(n: int, expected: float) -> None:
    # sorted sample at index int(0.95 * n); the order of arrival does not matter
    values = [float(x) for x in range(n, 0, -1)]
    assert PSquare.of(values).value == expected


def test_p_square_markers_after_six_samples_hand_computed() -> None:
    est = PSquare.of([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    # x=6 > q4: q4=6, k=3; n=[0,1,2,3,5]; n' = [0,2.375,4.75,4.875,5];
    # marker 3 moves up: parabolic candidate 4 + (1/3)(2 + 1) = 5.
    assert est.q == [1.0, 2.0, 3.0, 5.0, 6.0]
    assert est.n == [0, 1, 2, 4, 5]
    assert est.n_prime == pytest.approx([0.0, 2.375, 4.75, 4.875, 5.0])


def test_p_square_switches_to_the_middle_marker_at_fifty() -> None:
    values = [float(x) for x in range(1, 51)]
    est = PSquare.of(values)
    assert est.value == est.q[2]


def test_p_square_estimates_the_95th_percentile_of_a_large_sample() -> None:
    rng = np.random.default_rng(7)
    values = rng.uniform(0, 1000, 20_000)
    estimate = PSquare.of(list(values)).value
    assert estimate == pytest.approx(np.percentile(values, 95), rel=0.02)


@pytest.mark.parametrize("n", [1, 2, 5, 50, 201])
def test_sorted_percentile_matches_numpy(n: int) -> None:
    rows = np.sort(np.random.default_rng(n).lognormal(3, 1, (7, n)), axis=-1)
    for q in (50, 95):
        expected = np.percentile(rows, q, axis=-1, method="linear")
        assert np.allclose(sorted_percentile(rows, q), expected)


# -- within-run intervals -----------------------------------------------------


def test_mean_change_point_and_interval() -> None:
    rng = np.random.default_rng(5)
    base = rng.normal(100, 5, 200).tolist()
    slower = [x * 1.3 for x in base]
    change = mean_change(base, slower, "k")
    assert change is not None and change.method == "bootstrap"
    assert change.change == pytest.approx(30.0)
    assert change.low < 30.0 < change.high
    assert 25 < change.low and change.high < 35
    same = mean_change(base, base, "k")
    assert same is not None and same.low < 0 < same.high


def test_mean_change_needs_a_positive_baseline() -> None:
    assert mean_change([], [1.0], "k") is None
    assert mean_change([0.0, 0.0], [1.0], "k") is None


def test_mean_change_gives_no_interval_below_the_minimum_samples() -> None:
    change = mean_change([1.0] * 19, [2.0] * 30, "k")
    assert change is not None and not change.has_interval
    assert change.change == pytest.approx(100.0)


def test_mean_change_uses_every_sample_of_a_large_side() -> None:
    # 200,000 lognormal samples a side, 2% apart: the normal approximation
    # over all of them is about +-0.3% wide; a 20,000-sample bootstrap
    # subsample would be about three times wider.
    rng = np.random.default_rng(1)
    base = rng.lognormal(3, 0.5, 200_000)
    other = rng.lognormal(3, 0.5, 200_000) * 0.98
    change = mean_change(base.tolist(), other.tolist(), "k")
    assert change is not None and change.method == "normal approx."
    assert change.low < change.change < change.high
    assert change.high - change.low < 0.8
    assert change.high < 0  # the 2% is resolved
    expected = (other.mean() / base.mean() - 1) * 100
    assert change.change == pytest.approx(expected)
