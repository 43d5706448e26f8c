"""Per-operation cost of the model on each backend, with a full table.

Fills ZONES x ENTRIES connections (default 100 x 10,000 = 1,000,000), then
times, for zone 1: a flush of the full zone, the commit of its ENTRIES
packets, the same packets again without commit (lookups), and a flush of the
empty zone 65535.  Prints the median of ROUNDS rounds, per operation.  Use
``--profile`` to print the top of a cProfile of the timed rounds.

    python -m bench.experiments.model_costs --zones 100 --entries 10000 --rounds 20
    python -m bench.experiments.model_costs --backend sharded:shards=8 \\
        --backend per-zone
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import statistics
import time
from collections.abc import Callable
from functools import partial

from ctbench.backends import BackendSpec, backend_kwargs, backend_names, create_table
from ctbench.model import Conntrack, Limits
from ctbench.packets import ovstest_frame, zone_benchmark_ports


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter_ns()
    fn()
    return (time.perf_counter_ns() - start) / 1e3


def measure(
    spec: BackendSpec, zones: int, entries: int, rounds: int, profile: bool
) -> None:
    frames = [ovstest_frame(*zone_benchmark_ports(i)) for i in range(entries)]
    gc.collect()
    gc.freeze()
    gc.disable()
    ct = Conntrack(create_table(spec), Limits(conn_limit=0))
    start = time.perf_counter()
    for zone in range(zones):
        ct.execute(frames, zone, True, 0)
    fill_s = time.perf_counter() - start
    names = ("flush", "commit", "lookup", "empty")
    samples: dict[str, list[float]] = {k: [] for k in names}
    run = ct.execute
    prof = cProfile.Profile() if profile else None
    if prof:
        prof.enable()
    for _ in range(rounds):
        samples["flush"].append(_timed(partial(ct.flush, 1)))
        samples["commit"].append(_timed(partial(run, frames, 1, True, 0)))
        samples["lookup"].append(_timed(partial(run, frames, 1, False, 0)))
        samples["empty"].append(_timed(partial(ct.flush, 65535)))
    if prof:
        prof.disable()
    med = {k: statistics.median(v) for k, v in samples.items()}
    n = ct.n_conns
    print(
        f"{spec.label:<18} {n:>9,} conns  "
        f"fill {zones * entries / fill_s:>10,.0f} commits/s  "
        f"commit {med['commit'] * 1e3 / entries:7.0f} ns  "
        f"lookup {med['lookup'] * 1e3 / entries:7.0f} ns  "
        f"flush zone {med['flush']:9.0f} us "
        f"({med['flush'] * 1e3 / entries:6.0f} ns/conn)  "
        f"flush empty {med['empty']:9.1f} us"
    )
    if prof:
        pstats.Stats(prof).sort_stats("tottime").print_stats(8)
    gc.enable()
    gc.unfreeze()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zones", type=int, default=100)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument(
        "--backend", action="append", default=None, metavar="NAME[:KEY=VALUE,...]"
    )
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    specs = [BackendSpec.parse(b) for b in args.backend or backend_names()]
    for spec in specs:
        backend_kwargs(spec)  # refuse a bad spec before the first long fill
    for spec in specs:
        measure(spec, args.zones, args.entries, args.rounds, args.profile)


if __name__ == "__main__":
    main()
