"""The least CPython can spend on a phase of benchmark-zones, measured.

Each line times a stripped-down loop over the 10,000 ovstest frames that does
only part of what a conntrack execute must do (parse, build the key, look it
up, ...), and sets it beside ovstest's C mean for the whole phase (the spec's
reference table, `benchmark-zones 10000 1000 100`, per-zone build). When a
partial loop alone already exceeds 1.5x the C phase, that goal is out of
reach for any pure-Python model that parses every packet.

    python bench/python_floor.py
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

from ctbench.packets import IPV4_UDP_FAST
from ctbench.scenarios.zones import build_batches

# ../shared/spec/ovstest-conntrack.md, per-zone Avg, microseconds.
C_COMMIT_US = 4874
C_NO_COMMIT_US = 966


class Conn:
    __slots__ = ("key", "rev_key", "state", "expiration", "exp_list")
    key: tuple[int, ...]


def best_of(fn: Callable[[], object], rounds: int = 30) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter_ns()
        fn()
        best = min(best, (time.perf_counter_ns() - start) / 1e3)
    return best


def main() -> None:
    frames = [b[0] for b in build_batches(10_000, 1)]
    unpack = IPV4_UDP_FAST.unpack_from
    keys = [
        (s, d, sp, dp, 0x0800, 1, 17)
        for _, _, _, _, _, s, d, sp, dp in map(unpack, frames)
    ]
    table: dict[tuple[int, ...], Conn] = {}
    for k in keys:
        c = object.__new__(Conn)
        c.key = k
        table[k] = c
    get = table.get

    def loop_only() -> None:
        for _ in frames:
            pass

    def parse() -> None:
        for f in frames:
            unpack(f)

    def parse_key() -> None:
        for f in frames:
            _, _, _, _, _, s, d, sp, dp = unpack(f)
            key = (s, d, sp, dp, 0x0800, 1, 17)
        del key

    def parse_key_get() -> None:
        for f in frames:
            _, _, _, _, _, s, d, sp, dp = unpack(f)
            get((s, d, sp, dp, 0x0800, 1, 17))

    def insert_only() -> None:
        fresh: dict[tuple[int, ...], Conn] = {}
        new = object.__new__
        for k in keys:
            c = new(Conn)
            c.key = k
            fresh[k] = c

    gc.disable()
    print("partial loops over 10,000 frames (best of 30), vs ovstest per-zone")
    for label, fn, c_us in (
        ("loop only", loop_only, C_NO_COMMIT_US),
        ("parse", parse, C_NO_COMMIT_US),
        ("parse + key", parse_key, C_NO_COMMIT_US),
        ("parse + key + lookup", parse_key_get, C_NO_COMMIT_US),
        ("create + insert (no parse)", insert_only, C_COMMIT_US),
    ):
        us = best_of(fn)
        print(
            f"  {label:<28} {us:8.0f} us  = {us / c_us:5.2f}x the C phase ({c_us} us)"
        )
    gc.enable()


if __name__ == "__main__":
    main()
