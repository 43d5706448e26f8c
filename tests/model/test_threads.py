"""Threads sharing one model: random mixes of every operation, then the
model's invariants.

The threads run in parallel on a free-threaded build; on a GIL build the
switch interval is cut to a microsecond so that they interleave often.
Times are multiples of 7 and the UDP timeouts (60 s and 30 s) are 3 and 5
modulo 7, so a connection whose state and expiration come from two
different updates (a torn update, which ``conn->lock`` prevents) shows:
its expiration minus its state's timeout is not a multiple of 7.
"""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from ctbench.backends import BackendSpec, create_table
from ctbench.model import Conntrack, Limits, conntrack, shared
from ctbench.model.columns import FREE
from ctbench.model.states import UDP_TIMEOUTS_MS
from ctbench.packets import Endpoints, udp_frame

THREADS = 4
OPS = 10_000
TICK = 7  # every time is a multiple of this
ZONES = (1, 2, 3)
LIMITED_ZONE, ZONE_LIMIT = 3, 6
CONN_LIMIT = 40
PORTS = range(1000, 1024)  # few connections per zone: threads meet on them
BACKENDS = ("single", "per-zone", "sharded", "per-zone-sharded", "lazy-per-zone")

FORWARD = [udp_frame(p, 9) for p in PORTS]
REPLY = [udp_frame(9, p, Endpoints("10.1.1.2", "10.1.1.1")) for p in PORTS]


@pytest.fixture
def often_switching() -> Iterator[None]:
    """On a GIL build, switch threads every microsecond."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


@dataclass
class Clock:
    """A time all threads read; advanced by whole ticks."""

    now: int = TICK
    lock: threading.Lock = field(default_factory=threading.Lock)

    def advance(self, ms: int) -> None:
        with self.lock:
            self.now += ms - ms % TICK


def worker(
    ct: Conntrack,
    clock: Clock,
    seed: int,
    packets: list[int],
    start: threading.Barrier,
    errors: list[BaseException],
) -> None:
    try:
        operations(ct, clock, seed, packets, start)
    except BaseException as exc:  # noqa: BLE001 - handed to the main thread
        errors.append(exc)


def operations(
    ct: Conntrack, clock: Clock, seed: int, packets: list[int], start: threading.Barrier
) -> None:
    rng = random.Random(seed)
    start.wait()
    for _ in range(OPS):
        roll = rng.random()
        now = clock.now
        if roll < 0.002:
            ct.flush(rng.choice(ZONES))
        elif roll < 0.004:
            ct.sweep(now, rng.choice((None, 20)))
        elif roll < 0.01:
            clock.advance(rng.choice((TICK, 31_000, 61_000)))
        else:
            zone = rng.choice(ZONES)
            frames = REPLY if roll < 0.3 else FORWARD
            batch = [
                frames[rng.randrange(len(PORTS))] for _ in range(rng.randint(1, 8))
            ]
            packets[0] += len(ct.execute(batch, zone, rng.random() < 0.9, now))


def run_mix(backend: str, seed: int) -> tuple[Conntrack, int]:
    limits = Limits(conn_limit=CONN_LIMIT, zone_limits={LIMITED_ZONE: ZONE_LIMIT})
    ct = Conntrack(
        create_table(BackendSpec(backend)), limits, thread_safe=True, capacity=4096
    )
    clock = Clock()
    start = threading.Barrier(THREADS)
    counts = [[0] for _ in range(THREADS)]
    errors: list[BaseException] = []
    threads = [
        threading.Thread(
            target=worker, args=(ct, clock, seed + i, counts[i], start, errors)
        )
        for i in range(THREADS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return ct, sum(c[0] for c in counts)


def check_invariants(ct: Conntrack, packets: int) -> None:
    cols = ct.columns
    items = list(ct.table.items())
    forward = {key: value for key, value in items if value >= 0}
    # Table nodes against the connection count (no NAT: forward nodes only).
    assert len(items) == len(forward) == ct.n_conns
    # Columns against the table: every node's slot holds its connection,
    # and every live slot has its node.
    for key, handle in forward.items():
        assert cols.keys[handle] == key
        assert cols.exp_list[handle] != FREE
    live = [h for h in range(cols.used) if cols.exp_list[h] != FREE]
    assert sorted(live) == sorted(forward.values())
    # conn->lock: state and expiration come from the same update.
    for handle in live:
        timeout = UDP_TIMEOUTS_MS[cols.state[handle]]
        assert (cols.expiration[handle] - timeout) % TICK == 0, (
            f"torn update: state {cols.state[handle]}, "
            f"expiration {cols.expiration[handle]}"
        )
    # Limits and the counts they read.
    for zone in ZONES:
        in_zone = sum(1 for h in live if cols.zone[h] == zone)
        if zone == LIMITED_ZONE:
            assert ct.zone_count(zone) == in_zone <= ZONE_LIMIT
    assert ct.n_conns <= CONN_LIMIT
    # Counters that add up, across every thread's own.
    counts = ct.counters
    assert counts.packets == packets
    assert counts.created - counts.removed == ct.n_conns
    assert counts.created > 0 and counts.removed > 0
    assert counts.refused_zone > 0 and counts.refused_full > 0


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.usefixtures("often_switching")
def test_threads_keep_the_model_whole(backend: str) -> None:
    ct, packets = run_mix(backend, seed=2026)
    check_invariants(ct, packets)


class OwnedLock:
    """A lock that knows which thread holds it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.owner: int | None = None

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        taken = self._lock.acquire(blocking, timeout)
        if taken:
            self.owner = threading.get_ident()
        return taken

    def release(self) -> None:
        self.owner = None
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


class GuardedColumn:
    """A thread's view of a column that records every write made while
    the thread held neither that connection's ``conn->lock`` nor
    ``ct_lock``."""

    def __init__(
        self,
        view: Any,
        conn_locks: tuple[OwnedLock, ...],
        ct_lock: OwnedLock,
        unguarded: list[int],
    ) -> None:
        self.view = view
        self.conn_locks = conn_locks
        self.ct_lock = ct_lock
        self.unguarded = unguarded

    def __getitem__(self, index: int) -> int:
        return int(self.view[index])

    def __setitem__(self, index: int, value: int) -> None:
        me = threading.get_ident()
        held = self.conn_locks[index % len(self.conn_locks)].owner == me
        if not held and self.ct_lock.owner != me:
            self.unguarded.append(index)
        self.view[index] = value

    def __len__(self) -> int:
        return len(self.view)


@pytest.mark.parametrize("backend", ["single", "per-zone"])
@pytest.mark.usefixtures("often_switching")
def test_every_update_holds_its_connections_lock(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The torn update of the first test needs two threads' stores to meet
    within two statements, which a test run seldom sees: this one checks
    the discipline itself.  Every write of a connection's state or
    expiration from a thread holds that connection's ``conn->lock`` (an
    update) or ``ct_lock`` (its creation), as OVS's conn_update_state and
    conn_new do."""
    unguarded: list[int] = []
    ct_lock = OwnedLock()
    conn_locks = tuple(OwnedLock() for _ in range(shared.N_CONN_LOCKS))
    plain_context = shared.ThreadContext

    class GuardedContext(plain_context):  # type: ignore[misc, valid-type]
        def __init__(self, columns: Any, locks: Any, timed: bool) -> None:
            super().__init__(columns, conn_locks, timed)
            # setattr: the slots are typed as the memoryviews they replace.
            for name in ("state", "expiration"):
                view = getattr(self, name)
                guarded = GuardedColumn(view, conn_locks, ct_lock, unguarded)
                setattr(self, name, guarded)

    monkeypatch.setattr(conntrack, "ThreadContext", GuardedContext)
    limits = Limits(conn_limit=CONN_LIMIT, zone_limits={LIMITED_ZONE: ZONE_LIMIT})
    ct = Conntrack(
        create_table(BackendSpec(backend)), limits, thread_safe=True, capacity=4096
    )
    ct.lock = ct_lock  # type: ignore[assignment]
    clock = Clock()
    start = threading.Barrier(THREADS)
    counts = [[0] for _ in range(THREADS)]
    errors: list[BaseException] = []
    threads = [
        threading.Thread(
            target=worker, args=(ct, clock, 7 + i, counts[i], start, errors)
        )
        for i in range(THREADS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    assert sum(c[0] for c in counts) > 0
    assert ct.counters.created > 0
    assert unguarded == [], f"{len(unguarded)} writes held no lock"
