"""How often ctbench's stability checks (ctbench.stability) fire on samples
that are steady, and how often they catch samples that are not.

False alarms: seeded draws from one unimodal distribution (normal, lognormal
and a shifted gamma, the skewed shape of timing samples), with no order and
a 3% spread; every finding on them is a false alarm.  Catches: two normal
modes 50% apart holding 70% and 30% of the samples, and a 20% step half-way
through the run (a drift).  The per-count rows are the measurement behind
ctbench.stability.MIXTURE_MIN_SAMPLES.

    python -m bench.experiments.stability_alarms [--trials 200]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from ctbench import stability

Draw = Callable[[np.random.Generator, int], npt.NDArray[np.float64]]

STEADY: dict[str, Draw] = {
    "normal": lambda rng, n: rng.normal(100, 3, n),
    "lognormal": lambda rng, n: rng.lognormal(np.log(100), 0.03, n),
    "gamma": lambda rng, n: 100 + rng.gamma(2, 1.5, n),
}
UNSTEADY: dict[str, Draw] = {
    "two modes": lambda rng, n: np.asarray(
        rng.permutation(
            np.r_[rng.normal(100, 3, n - 3 * n // 10), rng.normal(150, 4, 3 * n // 10)]
        ),
        dtype=np.float64,
    ),
    "20% step": lambda rng, n: np.r_[
        rng.normal(100, 3, n // 2), rng.normal(120, 3, n - n // 2)
    ],
}


def firing(draw: Draw, n: int, trials: int, mixture_min: int) -> dict[str, float]:
    """The share of trials in which each check fires."""
    counts: dict[str, int] = {}
    for trial in range(trials):
        rng = np.random.default_rng([trial, n])
        for finding in stability.stability_findings(
            draw(rng, n).tolist(), mixture_min=mixture_min
        ):
            kind = finding.split(":")[0]
            counts[kind] = counts.get(kind, 0) + 1
    return {kind: count / trials for kind, count in sorted(counts.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    args = parser.parse_args()
    kept = stability.MIXTURE_MIN_SAMPLES
    print("samples  distribution  checks firing (share of trials)")
    for n in (20, 50, 100, 1000):
        for name, draw in {**STEADY, **UNSTEADY}.items():
            # The mixture checked from 5 samples up, to show where it
            # starts to be trusted.
            shares = firing(draw, n, args.trials, mixture_min=5)
            text = ", ".join(f"{k} {v:.1%}" for k, v in shares.items()) or "none"
            print(f"{n:7}  {name:12}  {text}")
    print(f"(ctbench fits the mixture from {kept} samples up)")


if __name__ == "__main__":
    main()
