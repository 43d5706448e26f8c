"""How often the percentile bootstrap's 95% interval of a change in means
misses a true change of zero, by samples per side.

Both sides are drawn from one distribution, so an interval wholly on one side
of zero is a false "clear difference"; a 95% interval should do that 5% of
the time.  This is the measurement behind ctbench.compare.MIN_INTERVAL_SAMPLES.

    python bench/interval_coverage.py [--trials 400]
"""

from __future__ import annotations

import argparse

import _repo  # noqa: F401  (the working tree's ctbench first)
import numpy as np

from ctbench.compare import DEFAULT_RESAMPLES
from ctbench.stats import bootstrap


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(f"false 'clear difference' rate of a 95% interval ({args.trials} trials)")
    for n in (2, 5, 10, 20, 50):
        rates = [
            f"{dist} {false_difference_rate(n, dist, args.trials, args.seed):6.1%}"
            for dist in ("normal", "lognormal")
        ]
        print(f"  {n:3d} samples a side: " + "  ".join(rates))


if __name__ == "__main__":
    main()
