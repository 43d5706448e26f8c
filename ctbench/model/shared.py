"""What threads that share one model keep apart, and how they wait.

OVS runs conntrack in every datapath thread at once, with these locks
(lib/conntrack.c at 139b564db; docs/ovs-reference.md, "Threads and locks"):

- a lookup takes no lock: the maps are cmaps, read under RCU;
- ``conn_update()`` holds the connection's own ``conn->lock`` around the
  protocol's update;
- creating a connection takes ``ct_lock`` and looks the key up again
  under it;
- ``conn_clean()`` takes ``ct_lock`` once per connection, so a flush or a
  sweep takes and releases it per connection;
- ``n_conn`` and the zone counts are atomic, and a removed connection's
  memory is freed only after an RCU grace period, once every thread that
  might still hold it has moved on.

On free-threaded CPython an object that every thread writes serializes
them, through its reference count and its own lock.  So what one thread
writes stays with it, as a datapath thread keeps its batch and counters:
its :class:`ThreadContext` holds its work counts, its own views of the
connection columns, its bound table operations and a block of connection
slots of its own.  What threads share is what OVS shares: the table, the
connection a packet hits, and the locks.

``conn->lock`` is modelled by :data:`N_CONN_LOCKS` striped locks: the
connection with handle ``h`` uses lock ``h % N_CONN_LOCKS``.  A lock per
connection would cost a lock object per connection; with striping two
connections share a lock only when their handles are a multiple of
:data:`N_CONN_LOCKS` apart, and each thread takes its slots in blocks of
:data:`SLOT_BLOCK`, so threads working on their own connections meet on a
lock only by chance.

Slots are handed out in blocks per thread for a second reason: the columns
are arrays, and two threads writing neighbouring slots write one cache
line.  ``python -m bench.experiments.free_threading_idioms`` on 3.13.15t
(the three cases taking turns, a quiet 2-vCPU AMD EPYC VM, 6 December
2026) measured two threads incrementing slots 8 bytes apart at 1.82x one
thread's throughput and 64 bytes apart at 1.91x: in CPython the
interpreter's own work hides most of the line's ping-pong, so the block's
gain is about 5% on such writes, and its cost is nil.  OVS allocates each
``struct conn`` on its own.

Lock scope.  A table may declare a finer lock than ``ct_lock``
(:class:`ctbench.backends.ConnTable`, the option ``lock``): a lock per zone
(:class:`ZoneScope`) or per map of a sharded table (:class:`ShardScope`),
numbered and made on first use (:class:`LockMap`).  The model then takes
the key's lock wherever OVS takes ``ct_lock`` to change a map: to create
(with the second lookup under it) and in ``conn_clean()``.  A shard's
creation holds the locks of its key's map and its reverse key's (and the
NAT reverse key's), taken in ascending order so that two threads never
wait for each other's.  What is not a map stays global, under ``ct_lock``
itself, held only for a few statements inside the map's lock (the maps'
locks are always taken first):

- slot allocation: a thread's next block of slots, and the grace period's
  list of removed ones;
- the 100 expiration lists: ``next_list``, which hands them out
  round-robin (OVS pushes on a list under ``ct_lock``);
- the connection count with the table limit, the zone counts with the
  zone limits, and the NAT count: checked and counted in one step, so no
  two threads both take the last place (OVS's counts are atomics and its
  check is under ``ct_lock``);
- ``bind()`` of a table that creates maps there (under the zone's lock
  too, with the zone scope).

TCP peers need no lock: each connection's entry in the peers dict is
written once, by the thread that creates it, before its key node is
inserted, and a dict's item assignment is atomic.  The columns need none
either: a slot is its creator's until its node is in the table, and they
are allocated once.  A model that one thread has to itself takes none of
these locks, whatever the table's scope.

A removed connection's slot is reused only after a grace period
(:class:`Grace`): every thread that was inside an execute (or a flush or
sweep walk) when it was removed has finished it.  A thread that found the
connection just before its removal may still update it, as an OVS thread
may update a connection another thread is cleaning; it never updates the
slot's next connection.
"""

from __future__ import annotations

import threading
from array import array
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from ctbench.backends import Insert, Lookup, Reader, Remove, Shard
from ctbench.keys import ConnKey, reverse_key
from ctbench.model.records import Counters

# conn->lock, striped: handle % N_CONN_LOCKS picks the lock (a power of
# two, so that a mask picks it).
N_CONN_LOCKS: Final = 1024
CONN_LOCK_MASK: Final = N_CONN_LOCKS - 1
# Slots a thread takes at once: 64 slots of the 1-byte columns fill one
# 64-byte cache line, so no two threads' slots share a line there.
SLOT_BLOCK: Final = 64


@dataclass(frozen=True)
class ZoneOps:
    """One zone's table operations, bound once per thread."""

    get: Lookup
    put: Insert
    remove: Remove
    read: Reader


class LockMap(dict[int, threading.Lock]):
    """The locks of a finer lock scope, by number (a zone, or a map's
    number from ``ConnTable.bind_shard``), each made when first asked for.
    A subscript, not ``get``: it takes no lock on the free-threaded build
    (:class:`ctbench.backends.NodeMap`)."""

    __slots__ = ()

    def __missing__(self, number: int) -> threading.Lock:
        # setdefault is atomic: two threads asking at once get one lock.
        return self.setdefault(number, threading.Lock())


class ZoneScope:
    """A lock per zone: one Call's zone's lock for everything it changes."""

    __slots__ = ("_locks",)

    def __init__(self, lock: threading.Lock) -> None:
        self._locks = [lock]

    def for_create(self, key: ConnKey, nat_key: ConnKey | None) -> list[threading.Lock]:
        return self._locks

    def for_clean(self, key: ConnKey, nat_key: ConnKey | None) -> list[threading.Lock]:
        return self._locks


class ShardScope:
    """A lock per map: the locks of the maps a creation or a removal reads
    or changes, in ascending order."""

    __slots__ = ("_shard", "_locks")

    def __init__(self, shard: Shard, locks: LockMap) -> None:
        self._shard = shard
        self._locks = locks

    def for_create(self, key: ConnKey, nat_key: ConnKey | None) -> list[threading.Lock]:
        """The second lookup reads the key and its reverse (a reply's
        node); a NAT connection's reverse key is checked both ways too."""
        shard = self._shard
        numbers = {shard(key), shard(reverse_key(key))}
        if nat_key is not None:
            numbers |= {shard(nat_key), shard(reverse_key(nat_key))}
        locks = self._locks
        return [locks[n] for n in sorted(numbers)]

    def for_clean(self, key: ConnKey, nat_key: ConnKey | None) -> list[threading.Lock]:
        shard = self._shard
        numbers = {shard(key)} if nat_key is None else {shard(key), shard(nat_key)}
        locks = self._locks
        return [locks[n] for n in sorted(numbers)]


# A Call's finer lock scope; None for ct_lock.
Scope = ZoneScope | ShardScope


class ThreadContext:
    """One thread's part of a shared model: written only by that thread
    (but for :attr:`active` and :attr:`passes`, which :class:`Grace` reads)."""

    __slots__ = (
        "counts",
        "state",
        "expiration",
        "nat",
        "acquire",
        "release",
        "ops",
        "calls",
        "fast",
        "slots",
        "passes",
        "active",
        "lock_wait_ns",
        "timed",
    )

    def __init__(
        self,
        columns: tuple[array[int], array[int], array[int]],
        conn_locks: Iterable[threading.Lock],
        timed: bool,
    ) -> None:
        self.counts = Counters()
        # This thread's own views of the shared columns: indexing one
        # touches no object another thread writes.
        self.state, self.expiration, self.nat = (memoryview(c) for c in columns)
        locks = tuple(conn_locks)
        self.acquire: tuple[Callable[[], bool], ...] = tuple(
            lock.acquire for lock in locks
        )
        self.release: tuple[Callable[[], None], ...] = tuple(
            lock.release for lock in locks
        )
        self.ops: dict[int, ZoneOps] = {}
        self.calls: dict[int, object] = {}  # the model's Call per zone
        # The per-frame path's bound objects, per zone (conntrack.FastPath).
        self.fast: dict[int, tuple[object, ...]] = {}
        self.slots: list[int] = []  # this thread's slots, taken last first
        self.passes = 0  # executes (and walks) finished: quiescent points
        self.active = False  # inside an execute, a flush or a sweep walk
        # Nanoseconds spent waiting for ct_lock and the maps' locks of a
        # finer scope, counted only when ``timed``: two clock reads a lock.
        self.lock_wait_ns = 0
        self.timed = timed


class Grace:
    """RCU's grace period for connection slots.

    :meth:`retire` keeps removed slots aside with a note of the threads
    that were active then and how many passes each had made;
    :meth:`reclaim` hands back those every such thread has since passed.
    The caller holds the lock that guards slot allocation.
    """

    def __init__(self) -> None:
        self.contexts: list[ThreadContext] = []
        self._retired: deque[tuple[list[int], tuple[tuple[ThreadContext, int], ...]]]
        self._retired = deque()

    def retire(self, handles: list[int]) -> None:
        if handles:
            readers = tuple((c, c.passes) for c in self.contexts if c.active)
            self._retired.append((handles, readers))

    def reclaim(self) -> list[int]:
        """Slots whose grace period has ended, oldest first."""
        out: list[int] = []
        retired = self._retired
        while retired:
            handles, readers = retired[0]
            if any(c.passes == seen for c, seen in readers):
                break
            out += handles
            retired.popleft()
        return out

    @property
    def pending(self) -> int:
        return sum(len(handles) for handles, _ in self._retired)
