"""The per-frame and the bulk execute, timed by frames per call.

Conntrack.execute() takes the bulk path from BULK_MIN_FRAMES frames on; this
times both paths on ovstest's frames at several call sizes, interleaved, the
measurement behind that constant.  Two workloads: lookups that hit (an
execute without commit of frames whose connections exist) and commits that
create (every frame a new connection; the zone is flushed, untimed, between
calls).

    python -m bench.experiments.execute_crossover [--rounds 200]
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable
from functools import partial

from ctbench.backends import BackendSpec, create_table
from ctbench.model import BULK_MIN_FRAMES, Conntrack, Limits
from ctbench.scenarios.benchmark_zones import build_frames

SIZES = (8, 16, 32, 48, 64, 96, 128, 256, 1024)


def best_pair(
    paths: dict[str, Callable[[], object]], reset: Callable[[], object], rounds: int
) -> dict[str, float]:
    """Each path's best time in microseconds, the paths alternating."""
    best = dict.fromkeys(paths, float("inf"))
    for _ in range(rounds):
        for name, fn in paths.items():
            reset()
            start = time.perf_counter_ns()
            fn()
            best[name] = min(best[name], (time.perf_counter_ns() - start) / 1e3)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    all_frames = build_frames(max(SIZES))
    model = Conntrack(create_table(BackendSpec("per-zone")), Limits(0))
    model.execute(all_frames, 1, True, 0)  # the lookups' connections
    gc.collect()
    gc.disable()
    print(f"BULK_MIN_FRAMES is {BULK_MIN_FRAMES}; best of {args.rounds}, us per call")
    print(
        "frames  lookup: per-frame  bulk  bulk/per-frame"
        "   commit: per-frame  bulk  bulk/per-frame"
    )
    for n in SIZES:
        frames = all_frames[:n]
        row = [f"{n:6d}"]
        for zone, commit in ((1, False), (2, True)):
            paths: dict[str, Callable[[], object]] = {
                "each": partial(model.execute_each, frames, zone, commit, 0),
                "bulk": partial(model.execute_bulk, frames, zone, commit, 0),
            }
            reset: Callable[[], object] = partial(model.flush, 2) if commit else int
            best = best_pair(paths, reset, args.rounds)
            ratio = best["bulk"] / best["each"]
            row.append(f"{best['each']:16.1f} {best['bulk']:6.1f} {ratio:15.2f}")
        print("  ".join(row))
    gc.enable()


if __name__ == "__main__":
    main()
