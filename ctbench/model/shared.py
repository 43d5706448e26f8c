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
line (a prototype once measured two threads incrementing adjacent 8-byte
slots at 0.82x one thread's throughput and 64 bytes apart at 1.86x; its
successor, ``python -m bench.experiments.free_threading_idioms`` on
3.13.15t, measured 0.81-1.00x and 0.93-1.20x on 5 December 2026: the
block's gain is unconfirmed, its cost is nil).  OVS allocates each
``struct conn`` on its own.

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

from ctbench.backends import Insert, Lookup, Reader, Remove
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
        self.slots: list[int] = []  # this thread's slots, taken last first
        self.passes = 0  # executes (and walks) finished: quiescent points
        self.active = False  # inside an execute, a flush or a sweep walk
        # Nanoseconds spent waiting for ct_lock (or a map's lock), counted
        # only when ``timed``: two clock reads a lock.
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
