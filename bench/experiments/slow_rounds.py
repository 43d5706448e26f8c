"""Which rounds of benchmark-zones are slow, and whether the model or the
machine made them so.

Runs a backend's rounds as ``benchmark-zones`` does (the same bound calls,
GC frozen), and per round also times a fixed interpreter loop that touches
no table, an empty clock pair and a Python call that returns at once, and
notes the model's state (the full zone's dict, the free list, the
columns) and any GC collection.  It prints:

- whether the model's state differs between rounds;
- the rounds whose full-zone flush is slow (above 1.25x its median), how
  many of them come in runs of consecutive rounds, and each phase's and
  the fixed loop's median in the fast and in the slow rounds: a slowdown
  every phase and the loop share is the machine's;
- the relative MAD and the first tenth against the rest for the empty
  flush beside the clock pair and the bare call: the noise of a
  clock-bound phase.

    python -m bench.experiments.slow_rounds [--entries 1000 --zones 20 --rounds 1000]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from typing import Any

import numpy as np
import numpy.typing as npt

from ctbench.backends import BackendSpec, create_table
from ctbench.model import Conntrack, Limits
from ctbench.scenarios.benchmark_zones import FULL_ZONE, NOW, PHASES, build_frames
from ctbench.scenarios.harness import gc_frozen
from ctbench.stability import MAD_TO_SIGMA

# A slow round: its flush well above the median, far outside the fast
# mode's spread (1-3% on a quiet machine).
SLOW: float = 1.25
# The fixed loop: about 80 us of bytecode on a 2-vCPU VM, no table.
LOOP_ITERATIONS = 2000


def _loop() -> int:
    total = 0
    for i in range(LOOP_ITERATIONS):
        total += i * i
    return total


def _nothing() -> None:
    return None


def _timed_us(call: Any) -> float:
    t0 = time.perf_counter_ns()
    call()
    return (time.perf_counter_ns() - t0) / 1e3


def _state(model: Conntrack) -> tuple[int, int, int]:
    zone_map = getattr(model.table.bind(FULL_ZONE)[0], "__self__", None)
    size = sys.getsizeof(zone_map) if zone_map is not None else 0
    return size, len(model.columns.free), model.columns.capacity


def run(backend: str, entries: int, zones: int, rounds: int) -> dict[str, Any]:
    frames = build_frames(entries)
    model = Conntrack(create_table(BackendSpec(backend)), Limits())
    for zone in range(zones):
        model.execute(frames, zone, True, NOW)
    bound = [(p.label, p.bind(model, frames)) for p in PHASES]
    extra = (("fixed loop (no table)", _loop), ("Python call, no work", _nothing))
    times: dict[str, list[float]] = {name: [] for name, _ in [*bound, *extra]}
    times["empty clock pair"] = []
    states = set()
    collections = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    with gc_frozen():
        gc.callbacks.append(seen)
        try:
            for _ in range(rounds):
                for label, call in bound:
                    t0 = time.perf_counter_ns()
                    value = call()
                    t1 = time.perf_counter_ns()
                    del value  # freed untimed, as benchmark-zones does
                    times[label].append((t1 - t0) / 1e3)
                states.add(_state(model))
                for label, call in extra:
                    times[label].append(_timed_us(call))
                t0 = time.perf_counter_ns()
                t1 = time.perf_counter_ns()
                times["empty clock pair"].append((t1 - t0) / 1e3)
        finally:
            gc.callbacks.remove(seen)
    return {"times": times, "states": states, "collections": collections}


def _relative_mad(x: npt.NDArray[np.float64]) -> float:
    median = float(np.median(x))
    return MAD_TO_SIGMA * float(np.median(np.abs(x - median))) / median


def _in_runs(slow: npt.NDArray[np.bool_], length: int = 3) -> int:
    """Slow rounds that are part of a run of ``length`` or more."""
    count = streak = 0
    for is_slow in [*slow.tolist(), False]:
        if is_slow:
            streak += 1
            continue
        count += streak if streak >= length else 0
        streak = 0
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="per-zone")
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--zones", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1000)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    found = run(args.backend, args.entries, args.zones, args.rounds)
    times = {k: np.asarray(v) for k, v in found["times"].items()}
    print(
        f"{args.backend}: ENTRIES {args.entries}, {args.zones} zones, "
        f"{args.rounds} rounds (load average {load:.2f} before)"
    )
    states = sorted(found["states"])
    what = "the same in every round" if len(states) == 1 else "DIFFERS between rounds"
    size, free, capacity = states[0]
    print(
        f"model state after each round: zone dict {size:,} bytes, free list "
        f"{free:,}, columns {capacity:,} slots: {what} ({len(states)} distinct)"
    )
    print(f"GC collections during the rounds: {len(found['collections'])}")
    flush = times["flush full zone"]
    slow = flush > SLOW * np.median(flush)
    print(
        f"slow rounds (flush full zone above {SLOW}x its median): {int(slow.sum())} "
        f"of {len(flush)}, {_in_runs(slow)} of them in runs of 3 or more"
    )
    print("median, us: fast rounds -> slow rounds")
    for name in [p.label for p in PHASES] + ["fixed loop (no table)"]:
        t = times[name]
        if slow.any() and (~slow).any():
            fast_m, slow_m = float(np.median(t[~slow])), float(np.median(t[slow]))
            print(
                f"  {name:<24} {fast_m:>9.2f} -> {slow_m:>9.2f}  {slow_m / fast_m:.2f}x"
            )
    print("clock-bound sections: median, relative MAD, first tenth against the rest")
    for name in ("flush empty zone", "empty clock pair", "Python call, no work"):
        t = times[name]
        tenth = max(len(t) // 10, 1)
        warm = float(np.median(t[:tenth]) / np.median(t[tenth:])) - 1
        print(
            f"  {name:<24} {float(np.median(t)):>7.3f} us  "
            f"{_relative_mad(t):>4.0%}  {warm:>+5.0%}"
        )


if __name__ == "__main__":
    main()
