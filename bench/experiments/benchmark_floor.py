"""The least CPython can spend on a packet of ``benchmark``, step by step.

Every packet of ``ctbench benchmark 1 N 32`` after the first batch is a
hit on its thread's one connection: the shared per-frame path parses and
checks the frame, builds its key, looks it up without a lock, holds the
connection's ``conn->lock`` (OVS's conn_update()) while it reads and writes
its expiration and state, and answers its ct_state.  Each line below adds
one of those steps to a loop written out inline (no call per frame), in
the idioms the model uses, so the last of them is the whole of a hit's
work with nothing of the model's around it: the floor.  The line after it
is the model's own ``execute``, as ``benchmark``'s threads call it; the
gap between the two is what the model adds per batch.

Everything runs in a worker thread on a model its main thread built, as
``benchmark`` runs, and the cases take turns, best of ``--rounds``.  The
C figure is ovstest's ``benchmark 1 1000000 32`` on the same machine
(``--ovstest-ms``), scaled to ``--packets``.

    python -m bench.experiments.benchmark_floor --ovstest-ms 58
"""

from __future__ import annotations

import argparse
import gc
import sys
import threading
import time
from collections.abc import Callable
from itertools import repeat

from ctbench.backends import BackendSpec, create_table, reader_of
from ctbench.keys import zone_suffix
from ctbench.model import Conntrack, Limits, shared_slots
from ctbench.packets import IPPROTO_UDP, ovstest_frame
from ctbench.parse import UDP4_FAST

# ovstest's `benchmark 1 1000000 32` on the Intel Xeon VM of 2026-11-26
# (docs/ovs-reference.md, "Reference figures"): about 61 ms.
XEON_THREADS_MS = 61
THREAD_PACKETS = 1_000_000
THREAD_BATCH = 32
ROUNDS = 5

Loop = Callable[[int], object]


def _loops(model: Conntrack) -> list[tuple[str, Loop]]:
    """The cumulative steps, bound in the calling (worker) thread."""
    batch = [ovstest_frame(1, 2)] * THREAD_BATCH
    model.execute(batch, 0, True, 0)  # the thread's connection, as benchmark
    ctx = model.context()
    read = reader_of(model.table, 0)
    state = ctx.state
    expiration = ctx.expiration
    acquire = ctx.acquire
    release = ctx.release
    suffix = zone_suffix(0, IPPROTO_UDP)
    unpack = UDP4_FAST.unpack_from
    now = 0
    execute = model.execute

    # The literals are the model's (Conntrack._execute_shared): 1023 is
    # CONN_LOCK_MASK, 30000 and 60000 the UDP timeouts, 0x22 and 0x21 EST
    # and NEW.
    def loop(batches: int) -> None:
        for _ in repeat(None, batches):
            out: list[int] = []
            append = out.append
            for _frame in batch:
                append(0x22)

    def checks(batches: int) -> None:
        for _ in repeat(None, batches):
            out: list[int] = []
            append = out.append
            for frame in batch:
                flen = len(frame)
                if flen >= 42:
                    dl, vihl, total, frag, proto, sport, dport, ulen, ucsum = unpack(
                        frame
                    )
                    if (
                        dl == 0x0800
                        and vihl == 0x45
                        and proto == 17
                        and not frag & 0x3FFF
                        and total <= flen - 14
                        and not ucsum
                        and 8 <= ulen <= total - 20
                        and sport
                        and dport
                    ):
                        append(0x22)

    def key(batches: int) -> None:
        for _ in repeat(None, batches):
            out: list[int] = []
            append = out.append
            for frame in batch:
                flen = len(frame)
                if flen >= 42:
                    dl, vihl, total, frag, proto, sport, dport, ulen, ucsum = unpack(
                        frame
                    )
                    if (
                        dl == 0x0800
                        and vihl == 0x45
                        and proto == 17
                        and not frag & 0x3FFF
                        and total <= flen - 14
                        and not ucsum
                        and 8 <= ulen <= total - 20
                        and sport
                        and dport
                    ):
                        _key = frame[26:38] + suffix
                        append(0x22)

    def lookup(batches: int) -> None:
        for _ in repeat(None, batches):
            out: list[int] = []
            append = out.append
            for frame in batch:
                flen = len(frame)
                if flen >= 42:
                    dl, vihl, total, frag, proto, sport, dport, ulen, ucsum = unpack(
                        frame
                    )
                    if (
                        dl == 0x0800
                        and vihl == 0x45
                        and proto == 17
                        and not frag & 0x3FFF
                        and total <= flen - 14
                        and not ucsum
                        and 8 <= ulen <= total - 20
                        and sport
                        and dport
                    ):
                        value = read(frame[26:38] + suffix)
                        if value >= 0:
                            append(0x22)

    def locked(batches: int) -> None:
        for _ in repeat(None, batches):
            out: list[int] = []
            append = out.append
            for frame in batch:
                flen = len(frame)
                if flen >= 42:
                    dl, vihl, total, frag, proto, sport, dport, ulen, ucsum = unpack(
                        frame
                    )
                    if (
                        dl == 0x0800
                        and vihl == 0x45
                        and proto == 17
                        and not frag & 0x3FFF
                        and total <= flen - 14
                        and not ucsum
                        and 8 <= ulen <= total - 20
                        and sport
                        and dport
                    ):
                        value = read(frame[26:38] + suffix)
                        if value >= 0:
                            lock = value & 1023
                            acquire[lock]()
                            release[lock]()
                            append(0x22)

    def hit(batches: int) -> None:
        for _ in repeat(None, batches):
            out: list[int] = []
            append = out.append
            for frame in batch:
                flen = len(frame)
                if flen >= 42:
                    dl, vihl, total, frag, proto, sport, dport, ulen, ucsum = unpack(
                        frame
                    )
                    if (
                        dl == 0x0800
                        and vihl == 0x45
                        and proto == 17
                        and not frag & 0x3FFF
                        and total <= flen - 14
                        and not ucsum
                        and 8 <= ulen <= total - 20
                        and sport
                        and dport
                    ):
                        value = read(frame[26:38] + suffix)
                        if value >= 0:
                            lock = value & 1023
                            acquire[lock]()
                            if now < expiration[value]:
                                if state[value] == 2:
                                    expiration[value] = now + 30000
                                    release[lock]()
                                    append(0x22)
                                else:
                                    state[value] = 1
                                    expiration[value] = now + 60000
                                    release[lock]()
                                    append(0x21)
                                continue
                            release[lock]()

    def model_execute(batches: int) -> None:
        for _ in repeat(None, batches):
            execute(batch, 0, True, now)

    return [
        ("a ct_state per frame, nothing else", loop),
        ("+ unpack and the nine checks", checks),
        ("+ the key", key),
        ("+ its lookup (no lock)", lookup),
        ("+ conn->lock taken and released", locked),
        ("+ expiration and state read, written", hit),
        ("the model's execute, per batch", model_execute),
    ]


def measure(packets: int, rounds: int) -> list[tuple[str, float]]:
    """Each step's least nanoseconds a packet, measured in a worker thread."""
    batches = packets // THREAD_BATCH
    model = Conntrack(
        create_table(BackendSpec("per-zone")),
        Limits(),
        thread_safe=True,
        capacity=shared_slots(THREAD_BATCH, 1),
    )
    found: list[tuple[str, float]] = []

    def worker() -> None:
        steps = _loops(model)
        best = [float("inf")] * len(steps)
        for _ in range(rounds):
            for i, (_label, run) in enumerate(steps):
                start = time.perf_counter_ns()
                run(batches)
                best[i] = min(best[i], (time.perf_counter_ns() - start) / packets)
        found.extend(zip((label for label, _ in steps), best, strict=True))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    return found


def print_steps(c_ms: float, packets: int, rounds: int) -> None:
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    build = f"{sys.version.split()[0]}, GIL {'enabled' if gil else 'disabled'}"
    c_ns = c_ms * 1e6 / THREAD_PACKETS
    print(
        f"{packets:,} frames in batches of {THREAD_BATCH}, one at a time, in a "
        f"worker thread ({build}; best of {rounds})"
    )
    steps = measure(packets, rounds)
    for label, ns in steps:
        print(f"  {label:<40} {ns:7.0f} ns a packet = {ns / c_ns:6.2f}x ovstest")
    floor, model = steps[-2][1], steps[-1][1]
    print(
        f"  ovstest: {c_ns:.0f} ns a packet; the model spends {model / floor:.2f}x"
        " the floor (its per-batch work)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--ovstest-ms",
        type=float,
        default=XEON_THREADS_MS,
        help="ovstest's `benchmark 1 1000000 32` time on this machine",
    )
    parser.add_argument("--packets", type=int, default=THREAD_PACKETS)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    gc.disable()
    print_steps(args.ovstest_ms, args.packets, args.rounds)


if __name__ == "__main__":
    main()
