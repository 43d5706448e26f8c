"""How ctbench's 95% intervals and compare's verdicts behave when nothing
changed: both sides are drawn from one distribution.

1. The report's change in means (ctbench.stats.mean_change), by samples
   a side: how often its interval lies wholly on one side of zero, a false
   "clear difference"; a 95% interval should do that 5% of the time.  This
   is the measurement behind ctbench.stats.MIN_INTERVAL_SAMPLES.
2. compare's verdict (the median, a 10% threshold, compare()'s own code),
   by samples a side and by the samples' spread: the share of comparisons
   that come out unchanged, inconclusive, and slower or faster; how often
   the interval holds 1 (its coverage) and misses its own point estimate;
   and, among the comparisons whose interval is narrow enough (high / low
   at most 1 + threshold), the share unchanged: an interval that holds 1
   and is that narrow lies inside the band, so there the rule promises
   "unchanged" at the interval's coverage, 95%.

    python -m bench.experiments.interval_coverage [--trials 400] [--verdict-trials 400]
        [--resamples 2000]
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from ctbench.compare import DEFAULT_RESAMPLES, Settings, compare
from ctbench.results import BackendResult, PhaseResult, RunResult
from ctbench.stats import bootstrap

Draw = Callable[[np.random.Generator, int], npt.NDArray[np.float64]]


def false_difference_rate(n: int, dist: str, trials: int, seed: int) -> float:
    rng = np.random.default_rng([seed, n])
    misses = 0
    for trial in range(trials):
        if dist == "normal":
            a, b = rng.normal(100, 10, n), rng.normal(100, 10, n)
        else:
            a, b = rng.lognormal(3, 0.5, n), rng.lognormal(3, 0.5, n)
        boot = np.random.default_rng([seed, n, trial])
        means_b = bootstrap(b, DEFAULT_RESAMPLES, boot, ("mean",))["mean"]
        means_a = bootstrap(a, DEFAULT_RESAMPLES, boot, ("mean",))["mean"]
        ratios = means_b / means_a
        low, high = np.percentile(ratios - 1, [2.5, 97.5])
        misses += bool(low > 0 or high < 0)
    return misses / trials


def _lognormal(spread: float) -> Draw:
    return lambda rng, n: 100 * rng.lognormal(0, spread, n)


def _bimodal(rng: np.random.Generator, n: int) -> npt.NDArray[np.float64]:
    """Timings of a shared machine: 70% near 100 us, 30% near 130 us."""
    slow = rng.random(n) < 0.3
    return np.where(slow, 130.0, 100.0) * rng.lognormal(0, 0.03, n)


# Spreads from a quiet machine's (5%) to a busy one's (20%, two modes).
DISTRIBUTIONS: dict[str, Draw] = {
    "lognormal 5%": _lognormal(0.05),
    "lognormal 10%": _lognormal(0.10),
    "lognormal 20%": _lognormal(0.20),
    "bimodal 100/130": _bimodal,
}
SAMPLES_A_SIDE = (20, 30, 50, 100, 300)


def _run(samples: npt.NDArray[np.float64]) -> RunResult:
    phase = PhaseResult([float(s) for s in samples], {})
    backend = BackendResult("single", phases={"flush_full_zone": phase})
    return RunResult("benchmark-zones", {}, {}, "", complete=True, results=[backend])


def verdict_rates(
    draw: Draw, n: int, trials: int, resamples: int, seed: int
) -> dict[str, float]:
    """compare()'s verdicts on ``trials`` pairs of samples of one
    distribution, each pair with its own bootstrap seed."""
    counts: Counter[str] = Counter()
    for trial in range(trials):
        rng = np.random.default_rng([seed, n, trial])
        base, cand = _run(draw(rng, n)), _run(draw(rng, n))
        settings = Settings(resamples=resamples, seed=trial)
        (row,) = compare(base, cand, settings).rows
        r = row.ratios[settings.stat]
        counts[row.verdict] += 1
        counts["holds 1"] += r.low <= 1 <= r.high
        counts["misses point"] += not r.low <= r.ratio <= r.high
        if r.high / r.low <= settings.upper:
            counts["narrow"] += 1
            counts["narrow unchanged"] += row.verdict == "unchanged"
    rates = {key: value / trials for key, value in counts.items()}
    narrow = counts["narrow"]
    rates["narrow unchanged"] = counts["narrow unchanged"] / narrow if narrow else -1
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=400)
    parser.add_argument("--verdict-trials", type=int, default=400)
    parser.add_argument("--resamples", type=int, default=DEFAULT_RESAMPLES)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(f"false 'clear difference' rate of a 95% interval ({args.trials} trials)")
    for n in (2, 5, 10, 20, 50):
        rates = [
            f"{dist} {false_difference_rate(n, dist, args.trials, args.seed):6.1%}"
            for dist in ("normal", "lognormal")
        ]
        print(f"  {n:3d} samples a side: " + "  ".join(rates))
    print()
    print(
        "compare on two samples of one distribution: verdict on the median, "
        f"threshold 10%, {args.resamples:,} resamples ({args.verdict_trials} "
        "trials a line)"
    )
    print(
        f"  {'spread':<16}{'n':>5}{'unchanged':>11}{'inconcl.':>10}"
        f"{'slow/fast':>11}{'holds 1':>9}{'misses pt':>11}{'narrow':>8}"
        f"{'narrow unch.':>14}"
    )
    for name, draw in DISTRIBUTIONS.items():
        for n in SAMPLES_A_SIDE:
            r = verdict_rates(draw, n, args.verdict_trials, args.resamples, args.seed)
            false = r.get("slower", 0) + r.get("faster", 0)
            narrow = r["narrow unchanged"]  # -1: no interval was narrow
            among = "-" if narrow < 0 else f"{narrow:.1%}"
            print(
                f"  {name:<16}{n:>5}{r.get('unchanged', 0):>11.1%}"
                f"{r.get('inconclusive', 0):>10.1%}{false:>11.1%}"
                f"{r.get('holds 1', 0):>9.1%}{r.get('misses point', 0):>11.1%}"
                f"{r.get('narrow', 0):>8.1%}{among:>14}"
            )


if __name__ == "__main__":
    main()
