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
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from ctbench.backends import BackendSpec, create_table
from ctbench.keys import reverse_key
from ctbench.model import Conntrack, Limits, conntrack, shared
from ctbench.model.columns import FREE
from ctbench.model.states import UDP_TIMEOUTS_MS
from ctbench.packets import Endpoints, udp_frame
from tests.helpers.free_threading import often_switching

THREADS = 4
OPS = 10_000
TICK = 7  # every time is a multiple of this
ZONES = (1, 2, 3)
LIMITED_ZONE, ZONE_LIMIT = 3, 6
CONN_LIMIT = 40
PORTS = range(1000, 1024)  # few connections per zone: threads meet on them
BACKENDS = ("single", "per-zone", "sharded", "per-zone-sharded", "lazy-per-zone")
# The finer lock scopes (ctbench.backends.LOCK_SCOPES), under which writes
# of different zones, or shards, run at the same time: each scope once, on
# a plain and on a lazily made table.  sharded:lock=shard, whose shards
# every zone shares, is test_every_write_holds_its_lock's, and every
# backend at every scope is the threaded contract test's
# (tests/backends/test_contract.py).
FINER_SCOPES = (
    "per-zone:lock=zone",
    "lazy-per-zone:lock=zone",
    "per-zone-sharded:lock=shard",
)

FORWARD = [udp_frame(p, 9) for p in PORTS]
REPLY = [udp_frame(9, p, Endpoints("10.1.1.2", "10.1.1.1")) for p in PORTS]


@pytest.fixture(name="often_switching")
def often_switching_fixture() -> Iterator[None]:
    """On a GIL build, switch threads every microsecond."""
    with often_switching():
        yield


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
        create_table(BackendSpec.parse(backend)),
        limits,
        thread_safe=True,
        capacity=4096,
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
    # One connection per flow: a creation's second lookup, under its lock,
    # also finds the reply direction's connection.
    both_ways = [key for key in forward if reverse_key(key) in forward]
    assert both_ways == [], f"{len(both_ways)} flows have a connection each way"
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


@pytest.mark.parametrize("backend", BACKENDS + FINER_SCOPES)
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


class Guard:
    """The locks of one model, as OwnedLocks, and the writes made without
    the lock each needs."""

    def __init__(self, ct_lock: OwnedLock) -> None:
        self.ct_lock = ct_lock
        self.conn_locks = tuple(OwnedLock() for _ in range(shared.N_CONN_LOCKS))
        self.scope_locks: dict[int, OwnedLock] = {}
        self.unguarded: list[str] = []

    def creating(self, me: int) -> bool:
        """Does thread ``me`` hold a creation's lock: ct_lock, or a lock of
        the finer scope?"""
        return self.ct_lock.owner == me or any(
            lock.owner == me for lock in list(self.scope_locks.values())
        )


class GuardedColumn:
    """A thread's view of a column that records every write made while
    the thread held neither that connection's ``conn->lock`` nor a
    creation's lock."""

    def __init__(self, view: Any, guard: Guard) -> None:
        self.view = view
        self.guard = guard

    def __getitem__(self, index: int) -> int:
        return int(self.view[index])

    def __setitem__(self, index: int, value: int) -> None:
        me = threading.get_ident()
        guard = self.guard
        held = guard.conn_locks[index % len(guard.conn_locks)].owner == me
        if not held and not guard.creating(me):
            guard.unguarded.append(f"column write at {index}")
        self.view[index] = value

    def __len__(self) -> int:
        return len(self.view)


def guard_map_changes(ct: Conntrack, guard: Guard) -> None:
    """Make the table's inserts and removes record any change made without
    the lock of the key's map: ct_lock, or the zone's or shard's lock."""
    table = ct.table
    plain_bind = table.bind
    scope = ct.lock_scope

    def bind(zone: int) -> Any:
        get, put, remove = plain_bind(zone)
        shard = table.bind_shard(zone) if scope == "shard" else None  # type: ignore[attr-defined]

        def check(key: bytes) -> None:
            me = threading.get_ident()
            if scope == "global":
                lock = guard.ct_lock
            else:
                lock = guard.scope_locks[zone if shard is None else shard(key)]
            if lock.owner != me:
                guard.unguarded.append(f"map change in zone {zone}")

        def put_checked(key: bytes, value: int) -> None:
            check(key)
            put(key, value)

        def remove_checked(key: bytes) -> None:
            check(key)
            remove(key)

        return get, put_checked, remove_checked

    table.bind = bind  # type: ignore[method-assign]


@pytest.mark.parametrize(
    "backend", ["single", "per-zone", "per-zone:lock=zone", "sharded:lock=shard"]
)
@pytest.mark.usefixtures("often_switching")
def test_every_write_holds_its_lock(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The torn update of the first test needs two threads' stores to meet
    within two statements, which a test run seldom sees: this one checks
    the discipline itself.  Every write of a connection's state or
    expiration from a thread holds that connection's ``conn->lock`` (an
    update) or the lock of its creation, as OVS's conn_update_state and
    conn_new do; every insert or remove of a key node holds the lock of
    the table's scope for that key: ``ct_lock``, or the zone's or the
    shard's lock."""
    guard = Guard(OwnedLock())
    plain_context = shared.ThreadContext

    class GuardedContext(plain_context):  # type: ignore[misc, valid-type]
        def __init__(self, columns: Any, locks: Any, timed: bool) -> None:
            super().__init__(columns, guard.conn_locks, timed)
            # setattr: the slots are typed as the memoryviews they replace.
            for name in ("state", "expiration"):
                setattr(self, name, GuardedColumn(getattr(self, name), guard))

    def owned_lock(locks: dict[int, OwnedLock], number: int) -> OwnedLock:
        lock = locks.setdefault(number, OwnedLock())
        guard.scope_locks.setdefault(number, lock)
        return lock

    monkeypatch.setattr(conntrack, "ThreadContext", GuardedContext)
    monkeypatch.setattr(shared.LockMap, "__missing__", owned_lock)
    limits = Limits(conn_limit=CONN_LIMIT, zone_limits={LIMITED_ZONE: ZONE_LIMIT})
    ct = Conntrack(
        create_table(BackendSpec.parse(backend)),
        limits,
        thread_safe=True,
        capacity=4096,
    )
    ct.lock = guard.ct_lock  # type: ignore[assignment]
    guard_map_changes(ct, guard)
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
    assert ct.counters.created > 0 and ct.counters.removed > 0
    assert guard.unguarded == [], (
        f"{len(guard.unguarded)} writes held no lock, first: {guard.unguarded[0]}"
    )
