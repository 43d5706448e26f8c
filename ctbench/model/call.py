"""One execute's context, shared by the per-frame and the bulk paths.

A :class:`Call` is made once per execute (:meth:`Conntrack.begin`): the
zone's bound table operations, the limits that apply to it, the columns the
per-frame code indexes, and the work counts, folded into the model's
counters when the call ends.  A thread that shares a model keeps one Call
per zone instead (:meth:`Call.for_thread`), made of its own views, its own
counts and the striped ``conn->lock`` (:mod:`ctbench.model.shared`).  It
is its own module so that the bulk path (:mod:`ctbench.model.bulk`) can
name it without importing the model that drives it.
"""

from __future__ import annotations

from collections.abc import Callable

from ctbench.backends import ConnTable, Reader
from ctbench.model.columns import Columns, IntColumn
from ctbench.model.records import Counters, Limits, NatAction
from ctbench.model.shared import Scope, ThreadContext, ZoneOps


class Call:
    """One execute's context: its zone's operations and its work counts,
    folded into the model's counters when the call ends."""

    __slots__ = (
        "zone",
        "commit",
        "now",
        "nat",
        "get",
        "put",
        "remove",
        "take_lock",
        "counts",
        "zone_limit",
        "state",
        "expiration",
        "nat_flags",
        "acquire",
        "release",
        "ctx",
        "read",
        "scope",
    )

    def __init__(
        self,
        table: ConnTable,
        limits: Limits,
        zone: int,
        commit: bool,
        now: int,
        nat: NatAction | None,
        take_lock: bool,
        columns: Columns,
    ) -> None:
        self.zone = zone
        self.commit = commit
        self.now = now
        self.nat = nat
        self.get, self.put, self.remove = table.bind(zone)
        self.take_lock = take_lock
        self.counts = Counters()
        self.zone_limit = limits.for_zone(zone)
        self.state: IntColumn = columns.state
        self.expiration: IntColumn = columns.expiration
        self.nat_flags: IntColumn = columns.nat
        # conn->lock, striped (ctbench.model.shared): None when one thread
        # has the model to itself.
        self.acquire: tuple[Callable[[], bool], ...] | None = None
        self.release: tuple[Callable[[], None], ...] = ()
        self.ctx: ThreadContext | None = None
        self.read: Reader | None = None  # a shared model's lock-free lookup
        # A shared model's finer lock scope; None: ct_lock guards the maps.
        self.scope: Scope | None = None

    @classmethod
    def for_thread(
        cls,
        ops: ZoneOps,
        limits: Limits,
        zone: int,
        ctx: ThreadContext,
        scope: Scope | None,
    ) -> Call:
        """A thread's Call for ``zone`` on a shared model, kept and reused for
        each of its executes there: its lookup is the table's lock-free
        reader, its columns and counts are the thread's own, and ``scope``
        the locks of a finer scope than ct_lock (None for ct_lock)."""
        call = cls.__new__(cls)
        call.zone = zone
        call.commit = False
        call.now = 0
        call.nat = None
        read = ops.read

        def get(key: bytes, default: int) -> int:
            # The model's lookups always pass MISS, the reader's answer for
            # an absent key.
            return read(key)

        call.get = get
        call.put = ops.put
        call.remove = ops.remove
        call.take_lock = True
        call.counts = ctx.counts
        call.zone_limit = limits.for_zone(zone)
        call.state = ctx.state
        call.expiration = ctx.expiration
        call.nat_flags = ctx.nat
        call.acquire = ctx.acquire
        call.release = ctx.release
        call.ctx = ctx
        call.read = read
        call.scope = scope
        return call
