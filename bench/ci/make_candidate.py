"""Make a synthetic candidate from a results file, to check `ctbench compare`.

Multiplies every timing sample by SCALE and then by (1 + e), where e is drawn
from a normal distribution with standard deviation NOISE (seeded), so
``--scale 1.3`` is a candidate 30% slower and ``--noise 0.02`` adds about 2%
random noise.  Counters, parameters and environment are copied unchanged, so
the comparison sees the same workload on the same machine.

    python -m bench.ci.make_candidate results/baseline-zones-small.json \\
        --scale 1.3 -o /tmp/slower.json
    python -m bench.ci.make_candidate results/baseline-zones-small.json \\
        --noise 0.02 --seed 1 -o /tmp/noisy.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ctbench import registry, results


def make_candidate(
    run: results.RunResult, scale: float, noise: float, seed: int
) -> results.RunResult:
    """The same run with every sample scaled and jittered (in place)."""
    rng = np.random.default_rng(seed)
    for backend in run.results:
        for phase in backend.phases.values():
            samples = np.asarray(phase.samples, dtype=np.float64) * scale
            if noise:
                # Clipped so a sample never turns negative, however large NOISE.
                samples *= np.clip(1 + rng.normal(0, noise, len(samples)), 0.01, None)
            phase.samples = [float(s) for s in samples]
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="results file to start from")
    parser.add_argument("--scale", type=float, default=1.0, help="default 1.0")
    parser.add_argument(
        "--noise", type=float, default=0.0, help="relative std dev, e.g. 0.02"
    )
    parser.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    if not args.scale > 0 or args.noise < 0:
        parser.error("--scale must be > 0 and --noise >= 0")
    try:
        run = registry.load(args.source)
    except results.ResultsError as exc:
        print(f"make_candidate: error: {exc}", file=sys.stderr)
        return 2
    results.save(make_candidate(run, args.scale, args.noise, args.seed), args.output)
    print(
        f"{args.output}: samples of {args.source} x {args.scale} "
        f"with {args.noise:.1%} noise (seed {args.seed})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
