"""Connections as columns: one typed array per field, indexed by a handle.

OVS allocates a ``struct conn`` per connection.  ctbench keeps each field of
every connection in its own ``array.array`` (state, expiration, expiration
list, zone, protocol, NAT flag) plus the forward keys in a list, so that an
execute of thousands of frames reads and writes them with numpy
(:meth:`Columns.views`), while the per-frame path indexes the arrays
directly.  A handle is an index into the columns; the table maps a key to
its connection's handle.  Released handles go on a free list and are reused
last-in, first-out, so the bulk and the per-frame paths hand out the same
handles for the same work.

Why ``array.array`` and not numpy arrays: an array grows in place and keeps
its identity, so a per-frame execute (or another thread) that holds it
never writes into a stale copy after the columns grow, and reading or
writing one item costs about half what a numpy item access does.  numpy
views of the arrays are taken for bulk work and dropped before the next
growth (a view pins the buffer: growing it meanwhile raises BufferError).

The keys are the exception: a numpy object array, replaced by a larger
copy when it grows (nothing holds it across a growth), because a bulk
execute scatters and a flush gathers thousands of them at once: 2-3x
faster than a list's ``map(keys.__setitem__, ...)`` and ``itemgetter``.
"""

from __future__ import annotations

from array import array
from typing import Final, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from ctbench.errors import CtbenchError

Handles = npt.NDArray[np.int64]

# lib/conntrack-private.h: N_EXP_LISTS, the expiration lists every
# connection is on one of.
N_EXP_LISTS: Final = 100
# A slot whose exp_list is FREE holds no connection.
FREE: Final = -1
# Columns grow by at least this many slots, and by a quarter of their size:
# amortised growth without doubling the peak memory of a 3 M-connection table.
MIN_GROWTH: Final = 1024
GROWTH_DIVISOR: Final = 4


class IntColumn(Protocol):
    """One column's items, indexed one at a time: an ``array.array`` when
    one thread has the model, a thread's own memoryview of it otherwise."""

    def __getitem__(self, index: int, /) -> int: ...

    def __setitem__(self, index: int, value: int, /) -> None: ...

    def __len__(self) -> int: ...


class ColumnViews(NamedTuple):
    """numpy views of the columns, for bulk reads and writes."""

    state: npt.NDArray[np.int8]
    expiration: npt.NDArray[np.int64]
    exp_list: npt.NDArray[np.int8]
    zone: npt.NDArray[np.uint16]
    proto: npt.NDArray[np.uint8]
    nat: npt.NDArray[np.uint8]


class CapacityError(CtbenchError):
    """A model of fixed capacity asked for more connections than it holds."""


class Columns:
    """Every connection's fields, one column per field.

    With a ``capacity``, the columns are allocated once, at that size, and
    never grow: threads that share a model each keep their own views of
    them (:mod:`ctbench.model.shared`), and a view pins its array (growing
    one meanwhile raises BufferError, and a copy would lose the writes made
    through the old one).  Asking for more raises :class:`CapacityError`.
    """

    def __init__(self, capacity: int = 0) -> None:
        self.state = array("b")  # the protocol's state (ctbench.model.states)
        self.expiration = array("q")  # milliseconds on the logical clock
        self.exp_list = array("b")  # expiration list, or FREE
        self.zone = array("H")
        self.proto = array("B")
        self.nat = array("B")  # 1: a reverse key node is in the table
        # The forward key; a released slot keeps its key until reused (the
        # table no longer holds it), which spares a write per release.
        self.keys: npt.NDArray[np.object_] = np.empty(0, object)
        self.rev_keys: dict[int, bytes] = {}  # NAT reverse keys by handle
        self.free = array("q")  # released handles, reused last first
        self.used = 0  # slots ever handed out: [0, used) are live or free
        self.fixed = False
        if capacity:
            self._grow(capacity)
            self.fixed = True

    @property
    def capacity(self) -> int:
        return len(self.state)

    def reserve(self, n: int) -> None:
        """Room for ``n`` more connections without growing.  Call it before
        taking views for work that allocates."""
        fresh = n - len(self.free)
        missing = self.used + fresh - self.capacity
        if missing > 0:
            if self.fixed:
                raise CapacityError(
                    f"the model holds at most {self.capacity:,} connections "
                    "(its columns are allocated once, shared by threads)"
                )
            self._grow(max(missing, MIN_GROWTH, self.capacity // GROWTH_DIVISOR))

    def _grow(self, n: int) -> None:
        zeros = bytes(n)
        self.state.frombytes(zeros)
        self.expiration.frombytes(bytes(8 * n))
        self.exp_list.frombytes(b"\xff" * n)  # FREE
        self.zone.frombytes(bytes(2 * n))
        self.proto.frombytes(zeros)
        self.nat.frombytes(zeros)
        capacity = len(self.state)
        if len(self.keys) < capacity:
            # Copying an object array costs a reference count per slot:
            # double it, so that a fill copies each slot about twice, not
            # five times as 25% steps would.
            grown = np.full(max(capacity, 2 * len(self.keys)), None, object)
            grown[: len(self.keys)] = self.keys
            self.keys = grown

    def alloc_one(self) -> int:
        if self.free:
            return self.free.pop()
        if self.used == self.capacity:
            self.reserve(1)
        handle = self.used
        self.used += 1
        return handle

    def alloc(self, k: int) -> Handles:
        """``k`` handles, in the order ``k`` calls of :meth:`alloc_one` give.
        May grow the columns: no view may be alive."""
        self.reserve(k)
        free = self.free
        reused = min(k, len(free))
        out = np.empty(k, np.int64)
        if reused:
            out[:reused] = np.frombuffer(free, np.int64)[len(free) - reused :][::-1]
            del free[len(free) - reused :]
        fresh = k - reused
        out[reused:] = np.arange(self.used, self.used + fresh)
        self.used += fresh
        return out

    def take_fresh(self, n: int) -> range:
        """Up to ``n`` never-used handles, in order (fewer when the columns
        end first; none at all for columns that grow: call reserve)."""
        start = self.used
        end = min(start + n, self.capacity)
        self.used = end
        return range(start, end)

    def release_one(self, handle: int) -> None:
        self.exp_list[handle] = FREE
        self.free.append(handle)

    def release(self, handles: Handles, views: ColumnViews) -> None:
        """Free ``handles`` in order, as that many :meth:`release_one` calls.
        ``views`` must be this object's live views."""
        views.exp_list[handles] = FREE
        self.free.frombytes(handles.astype(np.int64, copy=False).tobytes())

    def views(self) -> ColumnViews:
        return ColumnViews(
            np.frombuffer(self.state, np.int8),
            np.frombuffer(self.expiration, np.int64),
            np.frombuffer(self.exp_list, np.int8),
            np.frombuffer(self.zone, np.uint16),
            np.frombuffer(self.proto, np.uint8),
            np.frombuffer(self.nat, np.uint8),
        )

    def live(self) -> Handles:
        """Handles of every live connection, ascending."""
        return np.flatnonzero(self.views().exp_list != FREE)

    def nbytes(self) -> int:
        """Bytes the columns hold for their slots (not the key objects)."""
        arrays = (self.state, self.expiration, self.exp_list, self.zone)
        per_slot = sum(a.itemsize for a in (*arrays, self.proto, self.nat))
        return self.capacity * (per_slot + 8) + 8 * len(self.free)
