"""compare.py: ratios, bootstrap intervals, verdicts, warnings, exit status."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from ctbench import compare as comparing
from ctbench import stats
from ctbench.compare import (
    CompareError,
    Comparison,
    Settings,
    compare,
    parse_threshold,
    verdict,
)
from ctbench.results import BackendResult, PhaseResult, RunResult
from tests.helpers.run_factory import make_run

# -- thresholds ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("10%", 0.1),
        ("0.1", 0.1),
        (" 5 % ", 0.05),
        ("2.5%", 0.025),
        (".2", 0.2),
        ("150%", 1.5),
        ("1e-2", 0.01),
        ("1000%", 10.0),  # the most: 11x slower would pass as unchanged
    ],
)
def test_parse_threshold(text: str, value: float) -> None:
    assert parse_threshold(text) == pytest.approx(value)


@pytest.mark.parametrize(
    "text", ["", "ten", "10", "1", "-5%", "0", "0%", "10%%", "nan", "1001%"]
)
def test_parse_threshold_refuses(text: str) -> None:
    with pytest.raises(CompareError):
        parse_threshold(text)


def test_settings_validate() -> None:
    with pytest.raises(CompareError):
        Settings(stat="p99")
    with pytest.raises(CompareError):
        Settings(threshold=0)
    with pytest.raises(CompareError):
        Settings(resamples=0)


@pytest.mark.parametrize("resamples", [1, 10, 999])
def test_too_few_resamples_for_a_percentile_interval_are_refused(
    resamples: int,
) -> None:
    """One resample made a self-comparison "slower", with an "interval"
    that missed its own point estimate; a 95% percentile interval needs
    about 1,000 (Efron & Tibshirani 1993; Davison & Hinkley 1997)."""
    with pytest.raises(CompareError, match="from 1,000 to 100,000"):
        Settings(resamples=resamples)
    assert Settings(resamples=comparing.MIN_RESAMPLES).resamples == 1000


# -- verdicts from intervals --------------------------------------------------

BAND = Settings(threshold=0.10)  # slower above 1.1, faster below 1/1.1


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (1.11, 1.30, "slower"),
        (0.70, 0.90, "faster"),
        (0.95, 1.05, "unchanged"),
        (1 / 1.1, 1.1, "unchanged"),  # the band's edges belong to it
        (1.05, 1.20, "inconclusive"),
        (0.85, 0.95, "inconclusive"),
        (0.50, 2.00, "inconclusive"),
        (0.905, 0.908, "faster"),  # below 1/1.1 = 0.9091, though above 0.9
        (math.nan, math.nan, "inconclusive"),
    ],
)
def test_verdict(low: float, high: float, expected: str) -> None:
    assert verdict(low, high, BAND) == expected


# -- whole comparisons --------------------------------------------------------


def _verdicts(scale: float, **kwargs: object) -> set[str]:
    result = compare(make_run(), make_run(scale=scale), Settings(**kwargs))  # type: ignore[arg-type]
    return {row.verdict for row in result.rows}


def test_same_file_is_unchanged_with_ratio_one() -> None:
    run = make_run()
    result = compare(run, run)
    assert {row.verdict for row in result.rows} == {"unchanged"}
    assert len(result.rows) == 4
    for row in result.rows:
        for ratio in row.ratios.values():
            assert ratio.ratio == 1.0
            assert ratio.low <= 1.0 <= ratio.high
    assert result.exit_status() == comparing.EXIT_OK
    assert not result.warnings and not result.counter_diffs and not result.notes


def test_thirty_percent_slower_is_slower_and_exits_1() -> None:
    result = compare(make_run(), make_run(scale=1.3))
    assert {row.verdict for row in result.rows} == {"slower"}
    for row in result.rows:
        assert row.ratios["median"].ratio == pytest.approx(1.3)
        assert 1.1 < row.ratios["median"].low < 1.3 < row.ratios["median"].high
    assert result.exit_status() == comparing.EXIT_REGRESSION


def test_thirty_percent_faster_is_faster() -> None:
    assert _verdicts(0.7) == {"faster"}


def test_noise_is_unchanged() -> None:
    result = compare(make_run(seed=0), make_run(seed=1))  # same shape, other noise
    assert {row.verdict for row in result.rows} == {"unchanged"}
    assert result.exit_status() == comparing.EXIT_OK


def test_change_at_the_threshold_is_inconclusive() -> None:
    result = compare(make_run(), make_run(scale=1.1))
    assert {row.verdict for row in result.rows} == {"inconclusive"}
    assert result.exit_status() == comparing.EXIT_OK
    strict = compare(make_run(), make_run(scale=1.1), Settings(strict=True))
    assert strict.exit_status() == comparing.EXIT_INCONCLUSIVE


def test_regression_beats_inconclusive_under_strict() -> None:
    candidate = make_run(scale=1.1)
    # One backend clearly slower, the other at the threshold.
    candidate.results[0] = make_run(scale=1.5).results[0]
    result = compare(make_run(), candidate, Settings(strict=True))
    assert {row.verdict for row in result.rows} == {"slower", "inconclusive"}
    assert result.exit_status() == comparing.EXIT_REGRESSION


def test_threshold_and_stat_choose_the_verdict() -> None:
    assert _verdicts(1.3, threshold=0.5) == {"unchanged"}
    assert _verdicts(1.05, threshold=0.01) == {"slower"}
    assert _verdicts(1.3, stat="p95") == {"slower"}
    assert _verdicts(1.3, stat="mean") == {"slower"}


def test_p95_only_regression_is_seen_by_p95() -> None:
    base, cand = make_run(n=400), make_run(n=400)
    for result in cand.results:
        for phase in result.phases.values():
            ordered = sorted(phase.samples)
            cut = ordered[int(0.85 * len(ordered))]  # slow down the top 15%
            phase.samples = [s * 2 if s >= cut else s for s in phase.samples]
    assert {r.verdict for r in compare(base, cand).rows} == {"unchanged"}
    p95 = compare(base, cand, Settings(stat="p95"))
    assert {r.verdict for r in p95.rows} == {"slower"}


# -- two samples of one distribution -----------------------------------------


def _one_phase_run(samples: np.ndarray) -> RunResult:
    phase = PhaseResult([float(s) for s in samples], {})
    backend = BackendResult("single", phases={"flush_full_zone": phase})
    return RunResult("benchmark-zones", {}, {}, "", complete=True, results=[backend])


def _no_change(spread: float, trials: int = 100, n: int = 30) -> list[Comparison]:
    """Comparisons of two samples of one lognormal distribution, each pair
    with its own bootstrap seed (bench/experiments/interval_coverage.py, in small)."""
    out = []
    for trial in range(trials):
        rng = np.random.default_rng([11, trial])
        a, b = (100 * rng.lognormal(0, spread, n) for _ in range(2))
        result = compare(_one_phase_run(a), _one_phase_run(b), Settings(seed=trial))
        out.append(result)
    return out


def test_no_change_on_a_quiet_machine_comes_out_unchanged() -> None:
    """A 5% spread at 30 samples a side: the intervals are narrow (high/low
    below 1.1), where the rule promises "unchanged" 95% of the time."""
    verdicts = [c.rows[0].verdict for c in _no_change(0.05)]
    assert verdicts.count("unchanged") >= 95
    assert "slower" not in verdicts and "faster" not in verdicts


def test_no_change_on_a_noisy_machine_is_never_a_difference() -> None:
    """A 20% spread at 30 samples a side is too noisy to call unchanged at
    10% (a file against itself gave 4 inconclusive rows of 8): inconclusive, not slower
    or faster, each narrow interval unchanged, and a note says why and how
    many samples would settle it."""
    results = _no_change(0.20)
    verdicts = [c.rows[0].verdict for c in results]
    assert "slower" not in verdicts and "faster" not in verdicts
    assert verdicts.count("inconclusive") > 50
    for c in results:
        ratio = c.rows[0].ratios["median"]
        if ratio.high / ratio.low <= c.settings.upper:
            assert c.rows[0].verdict == "unchanged"
        wide = [n for n in c.notes if "too wide to call unchanged" in n]
        if c.rows[0].verdict == "inconclusive" and ratio.low <= 1 <= ratio.high:
            (note,) = wide
            assert note.startswith("1 inconclusive row shows no change")
            factor = math.ceil((math.log(ratio.high / ratio.low) / math.log(1.1)) ** 2)
            assert f"about {factor}x the samples a side" in note
        else:
            assert not wide


# -- the bootstrap ------------------------------------------------------------


def test_bootstrap_is_seeded() -> None:
    base, cand = make_run(), make_run(seed=1)
    first = compare(base, cand, Settings(seed=7))
    again = compare(base, cand, Settings(seed=7))
    other = compare(base, cand, Settings(seed=8))
    assert first.rows == again.rows
    assert first.rows != other.rows


def test_a_rows_interval_does_not_depend_on_other_backends() -> None:
    """Each row has its own generator: dropping single leaves per-zone's
    intervals exactly as they were."""
    both = compare(make_run(), make_run(seed=1))
    base, cand = make_run(), make_run(seed=1)
    base.results = base.results[1:]
    cand.results = cand.results[1:]
    assert compare(base, cand).rows == [r for r in both.rows if r.backend == "per-zone"]


def test_interval_matches_a_plain_bootstrap() -> None:
    """The vectorised percentile interval agrees with a loop-by-loop one
    drawn from a separate generator, to Monte Carlo precision."""
    rng = np.random.default_rng(42)
    a = rng.lognormal(5, 0.2, 300)
    b = rng.lognormal(5.1, 0.2, 300)
    base, cand = make_run(backends=["single"]), make_run(backends=["single"])
    for run, samples in ((base, a), (cand, b)):
        run.results[0].phases = {"flush_full_zone": PhaseResult(list(samples), {})}
    ratio = compare(base, cand).rows[0].ratios["mean"]
    check = np.random.default_rng(99)
    ratios = [
        check.choice(b, len(b)).mean() / check.choice(a, len(a)).mean()
        for _ in range(4000)
    ]
    low, high = np.percentile(ratios, [2.5, 97.5])
    assert ratio.ratio == pytest.approx(b.mean() / a.mean())
    assert ratio.low == pytest.approx(low, abs=0.01)
    assert ratio.high == pytest.approx(high, abs=0.01)


def test_blocks_bound_memory_without_changing_the_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, cand = make_run(), make_run(seed=1)
    whole = compare(base, cand)
    monkeypatch.setattr(stats, "MAX_BLOCK_VALUES", 1000)
    blocked = compare(base, cand)
    for a, b in zip(whole.rows, blocked.rows, strict=True):
        assert a.verdict == b.verdict
        assert a.ratios["median"].low == pytest.approx(b.ratios["median"].low, abs=0.01)


def test_zero_baseline_is_inconclusive_not_an_error() -> None:
    base, cand = make_run(backends=["single"]), make_run(backends=["single"])
    base.results[0].phases["flush_full_zone"].samples = [0.0] * 10
    result = compare(base, cand)
    row = next(r for r in result.rows if r.phase == "flush_full_zone")
    assert row.verdict == "inconclusive"
    assert math.isnan(row.ratios["median"].ratio)


def test_too_few_samples_give_no_verdict_with_the_reason() -> None:
    # Three rounds of identical code once gave exit 1, "3 slower"; below 20
    # samples a side no interval is trusted (bench/experiments/interval_coverage.py).
    base, cand = make_run(n=3), make_run(n=3, seed=1, scale=1.5)
    result = compare(base, cand)
    assert {r.verdict for r in result.rows} == {"inconclusive"}
    assert all(math.isnan(r.ratios["median"].low) for r in result.rows)
    assert result.rows[0].ratios["median"].ratio == pytest.approx(1.5, rel=0.2)
    assert any("fewer than 20 samples a side" in n for n in result.notes)
    assert result.exit_status() == 0
    assert compare(base, cand, Settings(strict=True)).exit_status() == 3
    assert "4 rows have fewer than 20 samples a side" in " ".join(result.notes)
    base, cand = make_run(n=3, backends=["single"]), make_run(n=30, backends=["single"])
    base.results[0].phases["flush_full_zone"].samples *= 10
    one = compare(base, cand)
    assert "1 row has fewer than 20 samples a side" in " ".join(one.notes)
    enough = compare(make_run(n=20), make_run(n=20, seed=1, scale=1.5))
    assert {r.verdict for r in enough.rows} == {"slower"}


# -- counters -----------------------------------------------------------------


def test_counter_differences_are_reported_and_fail_only_when_asked() -> None:
    cand = make_run(counters={"lookups": 200_000, "created": 199_999, "removed": 0})
    cand.results[1].fill = replace(cand.results[1].fill, refused=5)
    result = compare(make_run(), cand)
    diffs = {(d.backend, d.phase, d.counter) for d in result.counter_diffs}
    assert ("single", "ct_execute_commit", "created") in diffs
    assert ("per-zone", "fill", "refused") in diffs
    assert len(diffs) == 5
    assert result.exit_status() == comparing.EXIT_OK
    strict = compare(make_run(), cand, Settings(counters_must_match=True))
    assert strict.exit_status() == comparing.EXIT_REGRESSION
    assert "work counters differ" in strict.outcome()


def test_a_counter_missing_on_one_side_differs() -> None:
    cand = make_run(counters={"lookups": 200_000, "created": 200_000})
    diff = compare(make_run(), cand).counter_diffs[0]
    assert (diff.counter, diff.baseline, diff.candidate) == ("removed", 0, None)


# -- what may and may not be compared -----------------------------------------


def test_different_commands_are_refused() -> None:
    with pytest.raises(CompareError, match="different commands"):
        compare(make_run(), make_run(command="benchmark"), names=("a", "b"))


def test_nothing_in_common_is_refused() -> None:
    with pytest.raises(CompareError, match="nothing|no backend"):
        compare(make_run(backends=["single"]), make_run(backends=["per-zone"]))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cpu_model", "Other CPU"),
        ("python_version", "3.13.1"),
        ("ctbench_version", "0.2.0"),
        ("gil_enabled", False),
    ],
)
def test_environment_differences_warn(field: str, value: object) -> None:
    result = compare(make_run(), make_run(environment={field: value}), names=("a", "b"))
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith(f"different environment: {field}")
    assert "in a but" in result.warnings[0]


def test_hostname_does_not_warn() -> None:
    assert not compare(make_run(), make_run(environment={"hostname": "ci-7"})).warnings


def test_parameter_differences_warn_except_backends() -> None:
    cand = make_run(params={"entries": 2000, "gc": "enabled"}, backends=["single"])
    result = compare(make_run(), cand)
    assert [w.split(":")[1].split()[0] for w in result.warnings] == ["entries", "gc"]
    assert result.notes == ["backend per-zone: only in baseline, not compared"]


def test_incomplete_runs_warn() -> None:
    result = compare(make_run(), make_run(complete=False))
    assert result.warnings == ["candidate is an incomplete (interrupted) run"]


def test_phase_without_samples_is_skipped_with_a_note() -> None:
    cand = make_run()
    cand.results[0].phases["flush_full_zone"].samples = []
    result = compare(make_run(), cand)
    assert len(result.rows) == 3
    assert result.notes == [
        "flush_full_zone on single: no samples in one file, skipped"
    ]


def _typed(run: RunResult, *labels: str, shards: tuple[int, ...]) -> RunResult:
    """``run``'s backends as sharded tables given these labels and shard
    counts (their effective options)."""
    for result, label, n in zip(run.results, labels, shards, strict=True):
        result.backend, result.label, result.options = "sharded", label, {"shards": n}
    return run


def test_backends_pair_by_the_table_they_ran_not_the_label_typed() -> None:
    # -b sharded (64 shards by default) against -b sharded:shards=64.
    base = _typed(make_run(backends=["a"]), "sharded", shards=(64,))
    cand = _typed(make_run(backends=["a"]), "sharded:shards=64", shards=(64,))
    result = compare(base, cand)
    assert {r.backend for r in result.rows} == {"sharded -> sharded:shards=64"}
    assert result.notes == []


def test_a_label_that_names_another_table_is_not_compared() -> None:
    base = _typed(make_run(), "sharded", "per-zone-x", shards=(64, 1))
    cand = _typed(make_run(), "sharded", "per-zone-x", shards=(16, 1))
    result = compare(base, cand, names=("a", "b"))
    assert {r.backend for r in result.rows} == {"per-zone-x"}
    assert result.notes == [
        "backend sharded: another table in each file (sharded:shards=64 in a, "
        "sharded:shards=16 in b): not compared; --pair sharded sharded compares "
        "them"
    ]
    paired = compare(base, cand, Settings(pairs=(("sharded", "sharded"),)))
    assert {r.backend for r in paired.rows} == {"sharded", "per-zone-x"}


def test_pairs_asked_for_compare_two_tables() -> None:
    base = _typed(make_run(), "sharded:shards=8", "sharded:shards=16", shards=(8, 16))
    cand = _typed(make_run(), "sharded:shards=64", "sharded", shards=(64, 16))
    pairs = (("sharded:shards=8", "sharded:shards=64"),)
    result = compare(base, cand, Settings(pairs=pairs))
    # The pair asked for, then the other table with its own.
    assert list(dict.fromkeys(r.backend for r in result.rows)) == [
        "sharded:shards=8 -> sharded:shards=64",
        "sharded:shards=16 -> sharded",
    ]
    assert result.notes == []
    # Without it, the tables that differ are each only in one file.
    assert compare(base, cand, names=("a", "b")).notes == [
        "backend sharded:shards=64: only in b, not compared",
        "backend sharded:shards=8: only in a, not compared",
    ]
    with pytest.raises(CompareError, match="--pair: b has no backend x"):
        compare(base, cand, Settings(pairs=(("sharded:shards=8", "x"),)), ("a", "b"))


def test_repeated_backend_labels_are_numbered() -> None:
    run = make_run(backends=["single", "single"])
    assert {r.backend for r in compare(run, run).rows} == {"single#1", "single#2"}
