"""What two idioms of the threaded model cost on a free-threaded CPython.

1. A lookup in a dict that another thread built (keys and dict), as the
   threads of ``ctbench benchmark`` look up the table the fill made:
   ``dict.get`` against the subscript of a dict subclass whose
   ``__missing__`` answers MISS (ctbench.backends.NodeMap), hits and
   misses, from the thread that built the dict and from another one.  On
   3.13t ``dict.get`` holds the dict's lock (Objects/clinic/dictobject.c.h)
   and the subscript does not.
2. Two threads incrementing counters in one ``array('q')``, each through
   its own memoryview, at slots 8 bytes apart (one cache line) and 64
   bytes apart, as a ratio to one thread's throughput: why the model hands
   out slots in blocks per thread (ctbench.model.shared.SLOT_BLOCK).

Standard library only, so that a bare free-threaded build runs it.  Under
the GIL the threads take turns: the figures that matter come from a
free-threaded build (python3.13t) with the GIL disabled.

    python -m bench.experiments.free_threading_idioms --keys 100000 --repeat 5
    python3.13t -m bench.experiments.free_threading_idioms
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from array import array
from collections.abc import Callable

MISS = -(1 << 62)  # ctbench.backends.MISS: an int no handle can be


class MissingMap(dict[bytes, int]):
    """A dict whose subscript answers MISS for an absent key."""

    __slots__ = ()

    def __missing__(self, key: bytes) -> int:
        return MISS


def _key(i: int) -> bytes:
    return i.to_bytes(8, "little") + b"k" * 40  # a 48-byte ConnKey's size


def _per_call_ns(fn: Callable[[], None], calls: int, repeat: int) -> float:
    best = min(_timed(fn) for _ in range(repeat))
    return best / calls


def _timed(fn: Callable[[], None]) -> int:
    start = time.perf_counter_ns()
    fn()
    return time.perf_counter_ns() - start


def lookups(keys: int, repeat: int) -> dict[str, float]:
    """Nanoseconds a lookup, each idiom, from this thread and another."""
    table = MissingMap({_key(i): i for i in range(keys)})
    out: dict[str, float] = {}

    def measure(where: str) -> None:
        # Equal keys, but distinct objects from the stored ones, as a parsed
        # packet's key is.
        hits = [bytes(bytearray(_key(i))) for i in range(min(keys, 20_000))]
        misses = [_key(i + keys) for i in range(len(hits))]
        get = table.get
        sub = table.__getitem__
        for name, probe in (("hit", hits), ("miss", misses)):

            def by_get(probe: list[bytes] = probe) -> None:
                for k in probe:
                    get(k, MISS)

            def by_subscript(probe: list[bytes] = probe) -> None:
                for k in probe:
                    sub(k)

            n = len(probe)
            out[f"dict.get, {name}, {where}"] = _per_call_ns(by_get, n, repeat)
            out[f"subscript, {name}, {where}"] = _per_call_ns(by_subscript, n, repeat)

    measure("building thread")
    other = threading.Thread(target=measure, args=("other thread",))
    other.start()
    other.join()
    return out


def increments(count: int, repeat: int) -> dict[str, float]:
    """Increments a second: one thread, then two threads at slots 8 bytes
    and 64 bytes apart, each through its own view of one array.

    The three cases take turns within each repeat, so that a neighbour's
    load or a frequency change meets them alike (run one case after
    another, a noisy machine made the ratios unreadable), and slot 0
    starts a 64-byte cache line, so that "8 bytes apart" is one line and
    "64 bytes apart" two."""
    cells = array("q", bytes(8 * 64 * 3))
    address = cells.buffer_info()[0]
    first = (-address % 64) // 8  # the first slot on a line's boundary

    def work(slot: int, barrier: threading.Barrier) -> None:
        view = memoryview(cells)
        barrier.wait()
        for _ in range(count):
            view[slot] += 1

    def run(slots: tuple[int, ...]) -> int:
        barrier = threading.Barrier(len(slots) + 1)
        threads = [threading.Thread(target=work, args=(s, barrier)) for s in slots]
        for t in threads:
            t.start()
        start = time.perf_counter_ns()
        barrier.wait()
        for t in threads:
            t.join()
        return time.perf_counter_ns() - start

    cases = {
        "1 thread": (first,),
        "2 threads, 8 bytes apart": (first, first + 1),
        "2 threads, 64 bytes apart": (first, first + 8),
    }
    best = dict.fromkeys(cases, float("inf"))
    for _ in range(repeat):
        for name, slots in cases.items():
            best[name] = min(best[name], run(slots))
    return {name: len(cases[name]) * count / (best[name] / 1e9) for name in cases}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--increments", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    print(f"Python {sys.version}, GIL {'enabled' if gil else 'disabled'}")
    if gil:
        print("(threads take turns here: run it on python3.13t for the figures)")
    print(f"\nlookups in a dict of {args.keys:,} keys; min of {args.repeat}, ns a call")
    for name, ns in lookups(args.keys, args.repeat).items():
        print(f"  {name:<34} {ns:10.0f}")
    counts = increments(args.increments, args.repeat)
    one = counts["1 thread"]
    print(
        f"\n{args.increments:,} increments a thread; min of {args.repeat}, "
        "the three cases taking turns"
    )
    for name, rate in counts.items():
        print(f"  {name:<34} {rate / 1e6:8.1f} M/s  {rate / one:5.2f}x one thread")


if __name__ == "__main__":
    main()
