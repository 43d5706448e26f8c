"""The least CPython can spend on benchmark-zones' work, measured.

Each line times a stripped-down loop that does only part of what a phase
must do (parse, build the key, look it up, walk the map, ...) and sets it
beside ovstest's C mean for the whole phase (the spec's reference table,
`benchmark-zones 10000 1000 100`).  When a partial loop alone already
exceeds a goal, that goal is out of reach for any pure-Python model that
does the same work, however its loop is written.

Part 1 uses the 10,000 ovstest frames and one zone's 10,000 connections
(the per-zone build's phases).  Part 2 builds a single map of 3,000,000
keys, as the headline run holds, and times walking it (what every flush of
the single map must do) and missing in it (what every refused commit of
the fill must do).

    python bench/python_floor.py
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable, Sequence

import _repo  # noqa: F401  (the working tree's ctbench first)

from ctbench.packets import IPV4_UDP_FAST, udp4_keys
from ctbench.scenarios.zones import build_batches

# ../shared/spec/ovstest-conntrack.md, `benchmark-zones 10000 1000 100`,
# Avg column, microseconds.
C_PER_ZONE_COMMIT_US = 4874
C_PER_ZONE_NO_COMMIT_US = 966
C_PER_ZONE_FLUSH_US = 2212
C_SINGLE_FLUSH_EMPTY_US = 120627
# Issue 7: the headline run's budget, 1.5 x (99.7 s + 17.9 s).
HEADLINE_BUDGET_S = 176
HEADLINE_ITERATIONS = 1000
# The default connection limit (lib/conntrack.c) and the fill's attempts.
STORED = 3_000_000
FILL_ATTEMPTS = 10_000_000
FILL_GOAL_PER_S = 1_000_000


class Conn:
    __slots__ = ("key", "rev_key", "state", "expiration", "exp_list")
    key: tuple[int, ...]


def best_of(fn: Callable[[], object], rounds: int = 30) -> float:
    """Minimum wall time in microseconds: the least the work can cost here."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter_ns()
        fn()
        best = min(best, (time.perf_counter_ns() - start) / 1e3)
    return best


def report(label: str, us: float, c_us: float, c_name: str) -> None:
    print(f"  {label:<34} {us:9.0f} us = {us / c_us:5.2f}x {c_name} ({c_us:.0f} us)")


def add_conns(table: dict[object, Conn], keys: Sequence[object]) -> None:
    """One connection per key, inserted in order, as a fill does."""
    new = object.__new__
    for k in keys:
        c = new(Conn)
        c.key = k  # type: ignore[assignment]
        table[k] = c


def per_zone_part() -> None:
    frames = [b[0] for b in build_batches(10_000, 1)]
    unpack = IPV4_UDP_FAST.unpack_from
    keys = udp4_keys(frames, 1)
    table: dict[object, Conn] = {}
    add_conns(table, keys)
    get = table.get

    def loop_only() -> None:
        for _ in frames:
            pass

    def struct_parse_key() -> None:
        for f in frames:
            _, _, _, _, _, s, d, sp, dp, _, _ = unpack(f)
            key = (s, d, sp, dp, 0x0800, 1, 17)
        del key

    def numpy_keys() -> None:
        for _ in udp4_keys(frames, 1):
            pass

    def numpy_keys_get() -> None:
        for key in udp4_keys(frames, 1):
            get(key)

    def insert_only() -> None:
        fresh: dict[object, Conn] = {}
        new = object.__new__
        for k in keys:
            c = new(Conn)
            c.key = k  # type: ignore[assignment]
            fresh[k] = c

    print("Part 1: loops over the 10,000 frames (best of 30), vs ovstest per-zone")
    no_commit = "the C no-commit phase"
    for label, fn, c_us, c_name in (
        ("loop only", loop_only, C_PER_ZONE_NO_COMMIT_US, no_commit),
        (
            "struct parse + key, per frame",
            struct_parse_key,
            C_PER_ZONE_NO_COMMIT_US,
            no_commit,
        ),
        (
            "numpy parse + key (udp4_keys)",
            numpy_keys,
            C_PER_ZONE_NO_COMMIT_US,
            no_commit,
        ),
        ("udp4_keys + lookup", numpy_keys_get, C_PER_ZONE_NO_COMMIT_US, no_commit),
        (
            "create + insert (no parse)",
            insert_only,
            C_PER_ZONE_COMMIT_US,
            "the C commit phase",
        ),
    ):
        report(label, best_of(fn), c_us, c_name)
    report(
        "delete every key (a zone flush)",
        flush_floor(keys),
        C_PER_ZONE_FLUSH_US,
        "the C flush of a full zone",
    )


def flush_floor(keys: Sequence[object], rounds: int = 30) -> float:
    """Deleting a zone's keys from its map and from one expiration dict, as
    a flush must (and nothing else): best of ``rounds``, microseconds."""
    best = float("inf")
    new = object.__new__
    for _ in range(rounds):
        table: dict[object, Conn] = {}
        expiring: dict[Conn, None] = {}
        for k in keys:
            c = new(Conn)
            table[k] = c
            expiring[c] = None
        items = list(table.items())
        delete, unlist = table.__delitem__, expiring.__delitem__
        start = time.perf_counter_ns()
        for k, c in items:
            delete(k)
            unlist(c)
        best = min(best, (time.perf_counter_ns() - start) / 1e3)
    return best


def single_part(stored: int) -> None:
    frames = [b[0] for b in build_batches(10_000, 1)]
    table: dict[object, Conn] = {}
    for zone in range(max(1, stored // len(frames))):
        add_conns(table, udp4_keys(frames, zone))
    get = table.get

    def walk() -> None:
        for _ in table:
            pass

    def walk_filter() -> None:
        [k for k in table if k[5] == 65535]  # type: ignore[index]

    def miss_forward() -> None:
        for key in udp4_keys(frames, 65535):
            get(key)

    def miss_both() -> None:
        for key in udp4_keys(frames, 65535):
            if get(key) is None:
                s, d, sp, dp, dl, z, p = key  # type: ignore[misc]
                get((d, s, dp, sp, dl, z, p))

    print(f"Part 2: a single map of {len(table):,} keys (best of 7)")
    c_name = "the C single flush"
    walk_us = best_of(walk, 7)
    report("walk the keys, nothing else", walk_us, C_SINGLE_FLUSH_EMPTY_US, c_name)
    filter_us = best_of(walk_filter, 7)
    report(
        "walk + zone filter (as a flush)", filter_us, C_SINGLE_FLUSH_EMPTY_US, c_name
    )
    scans = 2 * HEADLINE_ITERATIONS
    print(
        f"  the headline's {scans:,} single-map flushes: at least "
        f"{scans * walk_us / 1e6:.0f} s walking, {scans * filter_us / 1e6:.0f} s "
        f"filtering, of the {HEADLINE_BUDGET_S} s budget for the whole run"
    )
    per_attempt = {
        "forward": best_of(miss_forward, 7) / len(frames),
        "forward + reply": best_of(miss_both, 7) / len(frames),
    }
    allowed_s = FILL_ATTEMPTS / FILL_GOAL_PER_S
    print(
        f"  fill: {FILL_ATTEMPTS:,} attempts; the goal of {FILL_GOAL_PER_S:,}/s "
        f"allows {allowed_s:.0f} s"
    )
    for probes, us in per_attempt.items():
        fill_s = FILL_ATTEMPTS * us / 1e6
        print(
            f"  parse + miss, {probes} probe: {us * 1e3:.0f} ns per attempt, "
            f"{fill_s:.1f} s for the fill"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--stored",
        type=int,
        default=STORED,
        help="keys in part 2's single map (default: the headline's 3,000,000)",
    )
    args = parser.parse_args()
    gc.disable()
    per_zone_part()
    single_part(args.stored)
    gc.enable()


if __name__ == "__main__":
    main()
