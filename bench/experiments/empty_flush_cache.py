"""What an empty zone's flush costs, by what ran just before it.

``benchmark-zones`` flushes the empty zone 65535 right after executing
ENTRIES frames without commit.  On per-zone maps that flush does no work
(it visits no node at any size), yet a sweep fits its time growing with
ENTRIES: the execute before it pushes the interpreter's own code and data
out of the CPU caches, and the bigger the execute the colder they are.
This prints the empty flush's time, per ENTRIES, right after such an
execute (as in a round), right after another empty flush (warm caches),
and right after a pass over a 64 MiB array (caches as cold as they get).

    python -m bench.experiments.empty_flush_cache [--entries 1000,3000,10000,30000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from ctbench.backends import BackendSpec, create_table
from ctbench.model import Conntrack, Limits
from ctbench.scenarios.benchmark_zones import EMPTY_ZONE, FULL_ZONE, NOW, build_frames

# Bigger than the last-level cache of any machine this runs on.
EVICT_BYTES = 64 * 2**20


def _flush_us(model: Conntrack) -> float:
    start = time.perf_counter_ns()
    model.flush(EMPTY_ZONE)
    return (time.perf_counter_ns() - start) / 1e3


def measure(backend: str, entries: int, zones: int, rounds: int) -> list[float]:
    frames = build_frames(entries)
    model = Conntrack(create_table(BackendSpec(backend)), Limits(conn_limit=0))
    for zone in range(zones):
        model.execute(frames, zone, True, NOW)
    evict = np.ones(EVICT_BYTES // 8)
    after_execute, warm, cold = [], [], []
    for _ in range(rounds):
        states = model.execute(frames, FULL_ZONE, False, NOW)
        del states  # freed outside the timing, as benchmark-zones does
        after_execute.append(_flush_us(model))
        warm.append(_flush_us(model))
        evict += 1.0
        cold.append(_flush_us(model))
    return [float(np.min(s)) for s in (after_execute, warm, cold)] + [
        float(np.median(s)) for s in (after_execute, warm, cold)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", default="1000,3000,10000,30000")
    parser.add_argument("--zones", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--backend", default="per-zone")
    args = parser.parse_args()
    print(
        f"{args.backend}: flush of the empty zone, us, over {args.rounds} rounds "
        f"({args.zones} zones filled)"
    )
    print(f"{'ENTRIES':>8}  {'after execute':>19}  {'warm':>15}  {'after 64 MiB':>15}")
    pair = f"{'min':>7} {'median':>7}"
    print(f"{'':>8}  {'min':>9} {'median':>9}  {pair}  {pair}")
    for entries in map(int, args.entries.split(",")):
        m = measure(args.backend, entries, args.zones, args.rounds)
        print(
            f"{entries:>8,}  {m[0]:>9.2f} {m[3]:>9.2f}  {m[1]:>7.2f} {m[4]:>7.2f}  "
            f"{m[2]:>7.2f} {m[5]:>7.2f}"
        )


if __name__ == "__main__":
    main()
