"""The least CPython can spend on benchmark-zones' work, measured.

Each line times a stripped-down piece of what a phase must do, in the bulk
design ctbench's model uses (numpy parse, keys as bytes, C-level ``map``
over the table's own operations), and sets it beside ovstest's minimum for
the whole phase.  When a piece alone already exceeds a goal, that goal is
out of reach for any model that does the same work with these tools.

Part 1 uses ovstest's 10,000 frames and one zone's 10,000 connections (the
per-zone build's phases).  Part 2 builds a single map of 3,000,000 keys, as
the headline run holds, and times walking it (what every flush of the single
map must do).  Part 3 is :mod:`bench.experiments.benchmark_floor`: the per-frame floor
of ``benchmark 1 1000000 32``, a hit's work step by step (parse and
checks, key, lookup, the ``conn->lock`` that OVS's conn_update() holds,
the state and expiration), inline in a worker thread, beside the model's
own execute.

The C figures are ovstest's Min rows: from the files given with
``--ovstest-after`` / ``--ovstest-before`` (ovstest's output for
``benchmark-zones 10000 ...`` on this machine, the honest comparison), else
the Intel Xeon reference run in docs/ovs-reference.md ("Intel Xeon VM").

    python -m bench.experiments.python_floor
    python -m bench.experiments.python_floor --ovstest-after after.txt \\
        --ovstest-before before.txt
"""

from __future__ import annotations

import argparse
import gc
import time
from collections import deque
from collections.abc import Callable
from itertools import repeat
from pathlib import Path

import numpy as np

from bench.experiments.benchmark_floor import (
    THREAD_PACKETS,
    XEON_THREADS_MS,
    print_steps,
)
from ctbench.backends import MISS, BackendSpec, create_table
from ctbench.model import Conntrack, Limits
from ctbench.model.bulk import REVERSE_COLUMNS, key_list
from ctbench.parse import udp4_bulk
from ctbench.scenarios.benchmark_zones import build_frames

PHASES = ("commit", "no commit", "flush full", "flush empty")
# ovstest's Min row, microseconds, `benchmark-zones 10000 1000 100` on the
# Intel Xeon VM of 2026-11-26 (docs/ovs-reference.md, "Reference figures").
XEON_PER_ZONE: dict[str, float] = dict(zip(PHASES, (3258, 937, 1351, 1), strict=True))
XEON_SINGLE: dict[str, float] = dict(
    zip(PHASES, (6155, 2892, 124049, 119185), strict=True)
)
STORED = 3_000_000
# Part 3's rounds: each is a million packets per step.
THREAD_ROUNDS = 3


def ovstest_min_row(path: Path) -> dict[str, float]:
    """The Min row of an ovstest benchmark-zones table, by phase."""
    for line in path.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == "Min":
            return dict(
                zip(PHASES, (float(c.split()[0]) for c in cells[1:]), strict=True)
            )
    raise SystemExit(f"{path}: no Min row of an ovstest benchmark-zones table")


def best_of(fn: Callable[[], object], rounds: int = 30) -> float:
    """Minimum wall time in microseconds: the least the work can cost here."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter_ns()
        fn()
        best = min(best, (time.perf_counter_ns() - start) / 1e3)
    return best


def report(label: str, us: float, c_us: float, c_name: str) -> None:
    print(f"  {label:<40} {us:9.0f} us = {us / c_us:6.2f}x {c_name} ({c_us:.0f} us)")


def per_zone_part(c: dict[str, float]) -> None:
    frames = build_frames(10_000)
    _, rows = udp4_bulk(frames, 1)
    table = {k: i + 1000 for i, k in enumerate(key_list(rows))}
    get = table.get

    def parse() -> None:
        udp4_bulk(frames, 1)

    def parse_keys() -> None:
        key_list(udp4_bulk(frames, 1)[1])

    def parse_keys_lookup() -> None:
        deque(map(get, key_list(udp4_bulk(frames, 1)[1]), repeat(MISS)), 0)

    def parse_keys_two_probes_insert() -> None:
        fresh: dict[bytes, int] = {}
        rows = udp4_bulk(frames, 1)[1]
        keys = key_list(rows)
        deque(map(fresh.get, keys, repeat(MISS)), 0)
        deque(map(fresh.get, key_list(rows[:, REVERSE_COLUMNS]), repeat(MISS)), 0)
        deque(map(fresh.__setitem__, keys, range(len(keys))), 0)

    print("Part 1: the 10,000 frames (best of 30), against ovstest per-zone's Min")
    for label, fn, phase in (
        ("join + numpy parse and checks", parse, "no commit"),
        ("... + keys as bytes", parse_keys, "no commit"),
        ("... + one lookup each", parse_keys_lookup, "no commit"),
        ("parse, keys, two probes, insert", parse_keys_two_probes_insert, "commit"),
    ):
        report(label, best_of(fn), c[phase], f"C {phase}")
    report(
        "delete every key (a zone flush)",
        delete_floor(table),
        c["flush full"],
        "C flush full",
    )
    noop_us, flush_us = cold_floor(frames)
    report("a no-op call, right after an execute", noop_us, c["flush empty"], "C")
    report("ctbench's empty flush, there", flush_us, c["flush empty"], "C")


def cold_floor(frames: list[bytes], rounds: int = 30) -> tuple[float, float]:
    """The least a call costs right after a 10,000-frame execute has pushed
    the interpreter's and the table's data out of the caches, as the empty
    zone's flush follows the no-commit phase: a no-op, and per-zone's
    flush of the empty zone."""
    model = Conntrack(create_table(BackendSpec("per-zone")), Limits(0))
    model.execute(frames, 1, True, 0)
    clock = time.perf_counter_ns

    def noop() -> None:
        pass

    def flush_empty() -> None:
        model.flush(65535)

    best = {"noop": float("inf"), "flush": float("inf")}
    for _ in range(rounds):
        for name, fn in (("noop", noop), ("flush", flush_empty)):
            model.execute(frames, 1, False, 0)
            start = clock()
            fn()
            best[name] = min(best[name], (clock() - start) / 1e3)
    return best["noop"], best["flush"]


def delete_floor(table: dict[bytes, int], rounds: int = 30) -> float:
    """Deleting a zone's keys from its map one by one, and nothing else."""
    best = float("inf")
    keys = list(table)
    for _ in range(rounds):
        copy = dict(table)
        start = time.perf_counter_ns()
        deque(map(copy.__delitem__, keys), 0)
        best = min(best, (time.perf_counter_ns() - start) / 1e3)
    return best


def single_part(stored: int, c: dict[str, float]) -> None:
    frames = build_frames(10_000)
    table: dict[bytes, int] = {}
    zones = np.empty(max(1, stored // len(frames)) * len(frames), np.uint16)
    for zone in range(max(1, stored // len(frames))):
        for key in key_list(udp4_bulk(frames, zone)[1]):
            zones[len(table)] = zone
            table[key] = len(table)

    def walk() -> None:
        np.fromiter(table.values(), np.int64, len(table))

    def walk_filter() -> None:
        values = np.fromiter(table.values(), np.int64, len(table))
        values[zones[values] == 65535]

    print(f"Part 2: a single map of {len(table):,} keys (best of 7)")
    c_name = "C flush empty"
    report("walk the values", best_of(walk, 7), c["flush empty"], c_name)
    report(
        "walk + zone filter (an empty flush)",
        best_of(walk_filter, 7),
        c["flush empty"],
        c_name,
    )

    zone_of_round = iter(range(60_000, 65_000))

    def refused_attempts() -> None:
        # A zone of its own each round: fresh keys probe slots no earlier
        # round warmed, as each zone of a fill does.
        rows = udp4_bulk(frames, next(zone_of_round))[1]
        deque(map(table.get, key_list(rows), repeat(MISS)), 0)
        deque(map(table.get, key_list(rows[:, REVERSE_COLUMNS]), repeat(MISS)), 0)

    ns = best_of(refused_attempts, 7) * 1e3 / len(frames)
    print(
        f"  a refused fill attempt (parse, key, two missing probes): {ns:.0f} ns,"
        f" at most {1e3 / ns:.2f} M attempts/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--stored", type=int, default=STORED, help="keys in part 2's single map"
    )
    parser.add_argument(
        "--ovstest-after", type=Path, help="ovstest's output, per-zone build"
    )
    parser.add_argument(
        "--ovstest-before", type=Path, help="ovstest's output, single-map build"
    )
    parser.add_argument(
        "--ovstest-threads-ms",
        type=float,
        default=XEON_THREADS_MS,
        help="ovstest's `benchmark 1 1000000 32` time on this machine",
    )
    parser.add_argument(
        "--thread-packets",
        type=int,
        default=THREAD_PACKETS,
        help="part 3's packets (the C time is scaled to them)",
    )
    args = parser.parse_args()
    after = ovstest_min_row(args.ovstest_after) if args.ovstest_after else XEON_PER_ZONE
    before = (
        ovstest_min_row(args.ovstest_before) if args.ovstest_before else XEON_SINGLE
    )
    where = "this machine" if args.ovstest_after else "the Xeon reference"
    print(f"C figures: ovstest's Min rows from {where}")
    gc.disable()
    per_zone_part(after)
    single_part(args.stored, before)
    print("Part 3: ", end="")
    print_steps(args.ovstest_threads_ms, args.thread_packets, THREAD_ROUNDS)
    gc.enable()


if __name__ == "__main__":
    main()
