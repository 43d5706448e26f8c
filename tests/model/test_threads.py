"""Threads sharing one model: random mixes of every operation, then the
model's invariants.

The threads run in parallel on a free-threaded build; on a GIL build the
switch interval is cut to a microsecond so that they interleave often.
Times are multiples of 7 and the UDP timeouts (60 s and 30 s) are 3 and 5
modulo 7, so a connection whose state and expiration come from two
different updates (a torn update, which ``conn->lock`` prevents) shows:
its expiration minus its state's timeout is not a multiple of 7.

Such a torn update needs two threads' stores to meet within a few
bytecodes, which a random mix seldom sees: the last two tests check the
lock discipline itself, and one connection's updates with a yield
injected inside ``conn_update()``'s window.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from ctbench.backends import BackendSpec, create_table
from ctbench.keys import reverse_key
from ctbench.model import Conntrack, Limits, conntrack, shared, states
from ctbench.model.columns import FREE
from ctbench.model.states import EST, UDP_BIDIR, UDP_TIMEOUTS_MS
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
        # The guard's first: once the lock is in the model's map another
        # thread may take it and check it in the guard's.
        lock = guard.scope_locks.setdefault(number, OwnedLock())
        return locks.setdefault(number, lock)

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


# -- conn->lock's window ------------------------------------------------------

FLOWS = 40
SENDERS = 3
FLOW_BATCH = 8  # a sender's packets of one flow, one of them its reply
NOW = TICK
V6 = Endpoints("2001:db8::1", "2001:db8::2")


def flow_frames(k: int) -> tuple[bytes, bytes]:
    """Flow ``k``'s forward and reply frames: IPv6 for even ``k`` (its UDP
    checksum sends every update through conn_update()'s general path),
    ovstest's IPv4 frame for odd ``k`` (a forward hit is updated inline)."""
    ends = V6 if k % 2 == 0 else Endpoints()
    back = Endpoints(ends.dst, ends.src)
    return udp_frame(1000 + k, 9, ends), udp_frame(9, 1000 + k, back)


def yielding(fn: Any) -> Any:
    def call(*args: Any) -> Any:
        time.sleep(0)  # lets another thread run here, on either build
        return fn(*args)

    return call


class YieldingTimeouts(dict[int, tuple[int, ...]]):
    """TIMEOUTS_MS, read between the store of a state and the store of its
    expiration: a thread may be switched out there."""

    __getitem__ = yielding(dict.__getitem__)


def send_flows(
    ct: Conntrack, tid: int, start: threading.Barrier, late: list[str]
) -> None:
    """Every flow in turn, with the other senders: a batch of forwards with
    one reply among them, at a seeded place.  The reply makes the
    connection BIDIR, which no forward undoes (other_conn_update()), so
    each forward this thread sends after its own reply must be +est."""
    rng = random.Random(2026 + tid)
    for k in range(FLOWS):
        forward, reply = flow_frames(k)
        at = rng.randrange(FLOW_BATCH)
        batch = [forward] * FLOW_BATCH
        batch[at] = reply
        start.wait()
        answers = ct.execute(batch, 1, True, NOW)
        if any(s != EST for s in answers[at + 1 :]):
            late.append(f"flow {k}: {answers[at + 1 :]} after the reply")


def watch_pairs(
    ct: Conntrack,
    handles: list[int],
    done: threading.Event,
    torn: list[str],
    undone: list[str],
) -> None:
    """Each connection's state and expiration, read under its conn->lock
    over and over until the senders are done: a pair from one update each
    time, and no connection back from BIDIR once seen there."""
    ctx = ct.context()
    bidir: set[int] = set()
    while not done.is_set():
        time.sleep(0)  # between passes: leave the senders the CPUs
        for h in handles:
            lock = h & shared.CONN_LOCK_MASK
            ctx.acquire[lock]()
            state, expiration = ctx.state[h], ctx.expiration[h]
            ctx.release[lock]()
            if expiration != NOW + UDP_TIMEOUTS_MS[state]:
                torn.append(f"handle {h}: state {state}, expiration {expiration}")
            if h in bidir and state != UDP_BIDIR:
                undone.append(f"handle {h}: state {state} after BIDIR")
            if state == UDP_BIDIR:
                bidir.add(h)


@pytest.mark.usefixtures("often_switching")
def test_updates_of_one_connection_meet_on_its_lock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Three threads send forwards and replies of the same flow at once, flow
    after flow, while a fourth reads each connection under its lock.
    conn_update() reads a state, computes the next and stores it with its
    expiration, all under conn->lock: without it a forward that read FIRST
    stores MULTIPLE over a reply's BIDIR (a later forward is then +new),
    or a state and an expiration come from two updates.

    That window is a few bytecodes wide.  A GIL build switches threads
    only at calls and loops, and seldom (355 times a second here at a
    switch interval of 1 us, on a busy 2-vCPU machine), so a plain stress
    almost never lands in it: with conn->lock a no-op, neither the random
    mix above nor this test without its yields failed, on 3.11 or on
    3.13t.  So the test widens the window as a delay injection does: a
    thread yields (time.sleep(0)) inside it, in the protocol's update and
    between the two stores, where a thread holding conn->lock keeps the
    others waiting and one without it lets them in.  With conn->lock a
    no-op it failed 10 runs of 10 on each build.  The inline IPv4 update
    has no call to yield in: its window is left to a free-threaded
    build's parallel threads."""
    monkeypatch.setattr(conntrack, "update", yielding(states.update))
    monkeypatch.setattr(conntrack, "TIMEOUTS_MS", YieldingTimeouts(states.TIMEOUTS_MS))
    ct = Conntrack(
        create_table(BackendSpec.parse("single")),
        thread_safe=True,
        capacity=4096,
    )
    ct.execute([flow_frames(k)[0] for k in range(FLOWS)], 1, True, NOW)
    handles = [handle for _, handle in ct.table.items()]
    assert len(handles) == FLOWS
    start = threading.Barrier(SENDERS)
    done = threading.Event()
    late: list[str] = []
    torn: list[str] = []
    undone: list[str] = []
    errors: list[BaseException] = []

    def guarded(fn: Any, *args: Any) -> None:
        try:
            fn(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            errors.append(exc)
            start.abort()

    senders = [
        threading.Thread(target=guarded, args=(send_flows, ct, tid, start, late))
        for tid in range(SENDERS)
    ]
    reader = threading.Thread(
        target=guarded, args=(watch_pairs, ct, handles, done, torn, undone)
    )
    reader.start()
    for t in senders:
        t.start()
    for t in senders:
        t.join()
    done.set()
    reader.join()
    if errors:
        raise errors[0]
    cols = ct.columns
    bidir = (UDP_BIDIR, NOW + UDP_TIMEOUTS_MS[UDP_BIDIR])
    wrong = [
        f"handle {h}: state {cols.state[h]}, expiration {cols.expiration[h]}"
        for h in handles
        if (cols.state[h], cols.expiration[h]) != bidir
    ]
    found = late + torn + undone + wrong
    assert found == [], (
        f"{len(late)} forwards +new after their thread's reply; read "
        f"{len(torn)} times a torn pair and {len(undone)} times a state back "
        f"from BIDIR; {len(wrong)} of {FLOWS} connections left other than "
        f"BIDIR; first: {found[0]}"
    )
    counts = ct.counters
    assert counts.packets == FLOWS * (1 + SENDERS * FLOW_BATCH)
    assert (counts.created, counts.removed, ct.n_conns) == (FLOWS, 0, FLOWS)
