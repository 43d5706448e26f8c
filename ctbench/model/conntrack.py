"""Conntrack semantics over a pluggable table, shaped like OVS's lib/conntrack.c.

The model owns what OVS's ``struct conntrack`` owns: connections with a forward
and a reverse key, per-protocol state and expiration, the 100 expiration
lists, the table-wide and per-zone limits, flush, dump and sweep.  The table
(a backend) only stores key nodes: a key maps to its connection's handle, or
to ``~handle`` for a NAT connection's reverse key node (OVS's
``conn_key_node.dir``).  Time is a logical clock in milliseconds passed in by
the caller; nothing here reads the wall clock.

An execute takes one of two paths, with the same semantics frame by frame
(``tests/model/test_bulk.py`` runs random batches through both):

- the per-frame path (:meth:`Conntrack.execute_each`), for short executes
  and NAT: one loop iteration per frame;
- the bulk path (:meth:`Conntrack.execute_bulk`, :mod:`ctbench.model.bulk`),
  from :data:`BULK_MIN_FRAMES` frames: numpy parses the frames, each frame is
  looked up through the table's own lookup in one C-level ``map``, and the
  connections' columns are updated column-wise.

Per packet the model follows OVS (checked against ovstest's pcap command,
tests/capture/test_track.py): key extraction as conn_key_extract(), TCP
with pf's sequence windows (:mod:`ctbench.model.tcp`), ICMP queries and
ICMP errors as related traffic, every other protocol as conntrack-other.
Deliberate simplifications, each visible in behaviour the tests pin:

- A NAT action only decides the reverse key; frames are never rewritten.
- No ALGs (FTP, TFTP) and no IP fragment reassembly (ipf is off in
  ovstest too): every fragment is invalid.
- An expired connection that a new commit collides with is cleaned at that
  moment.  OVS leaves it in the cmap until the sweeper comes, which a dict
  cannot do; the only visible difference is that ``n_conns`` drops by one a
  little earlier.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from itertools import chain
from time import perf_counter_ns
from typing import Final, TypeAlias

import numpy as np

from ctbench.backends import (
    MISS,
    SHARD_LOCK,
    ZONE_LOCK,
    BackendError,
    ConnTable,
    Reader,
    Remove,
    Values,
    lock_scope_of,
    reader_of,
)
from ctbench.keys import ConnKey, key_proto, reverse_key, zone_suffix
from ctbench.model import bulk, tcp
from ctbench.model.call import Call
from ctbench.model.columns import FREE, N_EXP_LISTS, Columns, ColumnViews, Handles
from ctbench.model.records import (
    ConnEntry,
    Counters,
    FlushResult,
    Limits,
    NatAction,
    SweepResult,
)
from ctbench.model.shared import (
    CONN_LOCK_MASK,
    N_CONN_LOCKS,
    SLOT_BLOCK,
    Grace,
    LockMap,
    Scope,
    ShardScope,
    ThreadContext,
    ZoneOps,
    ZoneScope,
)
from ctbench.model.states import (
    EST,
    EST_REPLY,
    INVALID,
    NEW,
    RELATED,
    RELATED_REPLY,
    STATE_NAMES,
    TIMEOUTS_MS,
    UDP_BIDIR,
    UDP_FIRST,
    UDP_MULTIPLE,
    UDP_TIMEOUTS_MS,
    UPDATE_NEW,
    update,
    valid_new,
)
from ctbench.packets import IPPROTO_TCP, IPPROTO_UDP, TCP_SYN
from ctbench.parse import UDP4_FAST, Parsed, Segment, extract_key

# lib/conntrack.c conntrack_clean(): a pass stops once it has visited more
# than n_conn_limit / 64 connections (checked before each list).
SWEEP_BATCH_DIVISOR: Final = 64
# An execute of at least this many frames takes the bulk path (measured:
# see ctbench.model.bulk.BULK_MIN_FRAMES).
BULK_MIN_FRAMES: Final = bulk.BULK_MIN_FRAMES

_NOTHING_FLUSHED: Final = FlushResult(0, 0)
# _update_found()'s answer for a connection whose expiration has passed
# (ct_state values are positive, UPDATE_NEW is -1).
_EXPIRED: Final = -2
_TCP_TIMEOUTS_MS: Final = TIMEOUTS_MS[IPPROTO_TCP]


def _flags_only(flags: int) -> Segment:
    """A TCP segment known only by its flags (a caller without the frame)."""
    return Segment(flags, 0, 0, 0, 0, 0)


_UDP_TO_MULTIPLE: Final = UDP_TIMEOUTS_MS[UDP_MULTIPLE]
_UDP_TO_BIDIR: Final = UDP_TIMEOUTS_MS[UDP_BIDIR]
# A shared model's slots when the caller names none: a thread-safe model
# allocates its columns once (ctbench.model.columns).
DEFAULT_SHARED_SLOTS: Final = 1 << 16

# What one thread's per-frame path needs for one zone, bound once
# (Conntrack._bind_fast): its Call, the table's reader, its views of the
# state and expiration columns, conn->lock's acquires and releases, the
# zone's UDP key suffix, the fast path's unpack and the model's track().
FastPath: TypeAlias = tuple[
    Call,
    Reader,
    memoryview,
    memoryview,
    tuple[Callable[[], bool], ...],
    tuple[Callable[[], None], ...],
    bytes,
    Callable[[bytes], tuple[int, ...]],
    Callable[[Call, bytes, int, int, int], int],
]


# The shared per-frame loop writes these as literals.
assert CONN_LOCK_MASK == 1023
assert (_UDP_TO_BIDIR, _UDP_TO_MULTIPLE) == (30000, 60000)


def shared_slots(connections: int, threads: int) -> int:
    """Slots a shared model needs for ``connections`` live at once among
    ``threads``: each thread's partly used block, and as many again for the
    removed connections waiting out their grace period."""
    return 2 * connections + threads * SLOT_BLOCK


class _Shared:
    """What a thread-safe model adds: the striped conn->lock, the threads'
    contexts, the grace period, whether lock waits are timed, and the
    table's lock scope with its locks (ctbench.model.shared)."""

    def __init__(self, scope: str) -> None:
        self.conn_locks = tuple(threading.Lock() for _ in range(N_CONN_LOCKS))
        self.grace = Grace()
        self.local = threading.local()
        self.timed = False
        self.scope = scope
        self.scope_locks = LockMap()


class Conntrack:
    """The conntrack model.

    With ``thread_safe=True`` it may be shared between threads, with OVS's
    locks (:mod:`ctbench.model.shared`): lookups take none; a found
    connection's update holds its ``conn->lock``; creating a connection
    takes :attr:`lock` (``ct_lock``) and looks the key up again under it;
    removing one, from an execute, a flush or a sweep, takes it once per
    connection.  A table built with a finer lock scope (its
    ``lock_scope``, the backend option ``lock``) has the zone's or the
    map's lock taken there instead, and ``ct_lock`` only briefly, for what
    stays global (:attr:`lock_scope`).  Every frame goes through the
    per-frame path, each thread with its own views, counts and slots; the
    columns are allocated once, ``capacity`` slots (:func:`shared_slots`).
    Single-threaded scenarios
    leave it off: no other thread can contend, and an uncontended lock
    costs about 130 ns in CPython against about 20 ns in C, which would
    distort the per-connection cost.
    """

    def __init__(
        self,
        table: ConnTable,
        limits: Limits | None = None,
        *,
        thread_safe: bool = False,
        verify_l4: bool = True,
        capacity: int | None = None,
    ) -> None:
        self.table = table
        self.thread_safe = thread_safe
        # The lock that guards changes to a map when threads share the
        # model: the table's (ctbench.backends.LOCK_SCOPES).
        self.lock_scope = lock_scope_of(table)
        # False: trust every L4 checksum, as OVS does for a packet whose NIC
        # has verified it (ovstest sets no such flag: True).
        self.verify_l4 = verify_l4
        self.lock = threading.Lock()
        self.limits = limits or Limits()
        self._counters = Counters()
        self._shared: _Shared | None = None
        if thread_safe:
            share = getattr(table, "share", None)
            if share is not None:
                share()
            self.columns = Columns(capacity or DEFAULT_SHARED_SLOTS)
            if self.lock_scope == SHARD_LOCK and not callable(
                getattr(table, "bind_shard", None)
            ):
                raise BackendError(
                    f"backend {getattr(table, 'name', '?')!r} has lock=shard "
                    "but no bind_shard() method"
                )
            self._shared = _Shared(self.lock_scope)
            self._local = self._shared.local
        else:
            self.columns = Columns()
        self.n_conns = 0
        self.n_nat = 0  # connections with a reverse key node
        self._next_list = 0
        self._next_sweep = 0
        self._zone_counts: dict[int, int] = {}
        self._bulk = bulk.BulkExecutor(self)
        # TCP connections' peers (ctbench.model.tcp), by handle; a freed
        # handle's entry is replaced when a TCP connection reuses it.
        self._tcp: dict[int, list[int]] = {}

    # -- execute -------------------------------------------------------------

    def execute(
        self,
        batch: Sequence[bytes],
        zone: int,
        commit: bool,
        now: int,
        nat: NatAction | None = None,
    ) -> list[int]:
        """Track one batch; returns each packet's ct_state bits."""
        if self._shared is not None:
            return self._execute_shared(batch, zone, commit, now, nat)
        if nat is None and len(batch) >= BULK_MIN_FRAMES:
            return self.execute_bulk(batch, zone, commit, now)
        return self.execute_each(batch, zone, commit, now, nat)

    def execute_bulk(
        self, batch: Sequence[bytes], zone: int, commit: bool, now: int
    ) -> list[int]:
        """The bulk path of :meth:`execute`, at any size and without NAT.

        Public, like :meth:`execute_each`, so that the measurement behind
        BULK_MIN_FRAMES (bench/experiments/execute_crossover.py) and the test
        that holds the two paths to one answer can each drive one path.
        It takes none of a shared model's locks: threads call :meth:`execute`."""
        assert self._shared is None, "a shared model executes through execute()"
        frames = batch if isinstance(batch, list | tuple) else list(batch)
        return self._bulk.execute(frames, zone, commit, now)

    def execute_batches(
        self,
        batches: Iterable[Sequence[bytes]],
        zone: int,
        commit: bool,
        now: int,
        nat: NatAction | None = None,
    ) -> list[int]:
        """Track several batches in order, as that many ``execute`` calls.

        Batch boundaries change nothing in the model (every frame is tracked
        in order), so the batches are executed as one: one call keeps the
        per-call set-up out of the per-packet cost, which is what ovstest's
        loop of ``conntrack_execute()`` calls costs in C.
        """
        return self.execute(list(chain.from_iterable(batches)), zone, commit, now, nat)

    def begin(
        self, zone: int, commit: bool, now: int, nat: NatAction | None, take_lock: bool
    ) -> Call:
        """A single-threaded execute's Call (a shared model's threads keep
        theirs: :meth:`_thread_call`)."""
        return Call(
            self.table, self.limits, zone, commit, now, nat, take_lock, self.columns
        )

    def end(self, call: Call, packets: int) -> None:
        counts = call.counts
        counts.packets += packets  # one state per packet, no per-packet count
        self._counters.add(counts)

    # -- threads sharing the model -------------------------------------------

    def context(self) -> ThreadContext:
        """The calling thread's part of a shared model, made on its first
        call (ctbench.model.shared)."""
        shared = self._shared
        assert shared is not None, "only a thread-safe model has thread contexts"
        ctx: ThreadContext | None = getattr(shared.local, "ctx", None)
        if ctx is None:
            cols = self.columns
            ctx = ThreadContext(
                (cols.state, cols.expiration, cols.nat), shared.conn_locks, shared.timed
            )
            with self.lock:
                shared.grace.contexts.append(ctx)
            shared.local.ctx = ctx
        return ctx

    def time_lock_waits(self, on: bool = True) -> None:
        """Count the time threads wait for the locks a creation or a removal
        takes: ``ct_lock``, and under a finer scope the zone's or the maps'
        locks (two clock reads each time one is taken; off by default).
        Set it before the threads start."""
        assert self._shared is not None, "only a thread-safe model is shared"
        self._shared.timed = on

    @property
    def lock_wait_ns(self) -> int:
        """Nanoseconds every thread waited for those locks, when timed."""
        if self._shared is None:
            return 0
        return sum(c.lock_wait_ns for c in self._shared.grace.contexts)

    def _thread_call(
        self,
        ctx: ThreadContext,
        zone: int,
        commit: bool,
        now: int,
        nat: NatAction | None,
    ) -> Call:
        """The thread's Call for ``zone``, bound once and kept."""
        call = ctx.calls.get(zone)
        if not isinstance(call, Call):
            table = self.table
            shared = self._shared
            assert shared is not None
            scope: Scope | None = None
            if shared.scope == ZONE_LOCK:
                scope = ZoneScope(shared.scope_locks[zone])
            elif shared.scope == SHARD_LOCK:
                scope = ShardScope(table.bind_shard(zone), shared.scope_locks)  # type: ignore[attr-defined]
            if getattr(table, "bind_creates", True):
                # A table may create a zone's maps in bind(): two threads
                # must not each make their own, nor one while a removal
                # under the zone's lock drops them.
                zone_lock = (
                    shared.scope_locks[zone]
                    if shared.scope == ZONE_LOCK
                    else nullcontext()
                )
                with zone_lock, self.lock:
                    ops = ZoneOps(*table.bind(zone), reader_of(table, zone))
            else:
                ops = ZoneOps(*table.bind(zone), reader_of(table, zone))
            call = Call.for_thread(ops, self.limits, zone, ctx, scope)
            ctx.calls[zone] = call
        call.commit = commit
        call.now = now
        call.nat = nat
        return call

    def _bind_fast(self, ctx: ThreadContext, zone: int) -> FastPath:
        """What the thread's per-frame path needs for ``zone``, bound once:
        unpacking one tuple costs an execute far less than a dozen
        attribute loads and a zone_suffix() call (on 3.13t an empty
        execute took 1.7 us that way)."""
        call = self._thread_call(ctx, zone, False, 0, None)
        read = call.read
        assert read is not None
        fast: FastPath = (
            call,
            read,
            ctx.state,
            ctx.expiration,
            ctx.acquire,
            ctx.release,
            zone_suffix(zone, IPPROTO_UDP),
            UDP4_FAST.unpack_from,
            self.track,
        )
        ctx.fast[zone] = fast
        return fast

    @staticmethod
    def _acquire(lock: threading.Lock, ctx: ThreadContext | None) -> None:
        """Take ``lock`` (``ct_lock`` or a map's), timing the wait when
        asked to."""
        if ctx is not None and ctx.timed:
            start = perf_counter_ns()
            lock.acquire()
            ctx.lock_wait_ns += perf_counter_ns() - start
        else:
            lock.acquire()

    def _execute_shared(
        self,
        frames: Iterable[bytes],
        zone: int,
        commit: bool,
        now: int,
        nat: NatAction | None,
    ) -> list[int]:
        """The per-frame path of a thread sharing the model: as
        :meth:`execute_each`, with its own views and counts, the table's
        lock-free reader, and each found connection's ``conn->lock`` held
        while it is updated (conn_update())."""
        try:
            ctx: ThreadContext = self._local.ctx
        except AttributeError:
            ctx = self.context()
        fast: FastPath | None = ctx.fast.get(zone)  # type: ignore[assignment]
        if fast is None:
            fast = self._bind_fast(ctx, zone)
        call, read, state, expiration, acquire, release, suffix, unpack, track = fast
        call.commit = commit
        call.now = now
        call.nat = nat
        out: list[int] = []
        append = out.append
        ctx.active = True
        # As in execute_each, literals stand for the named constants; also
        # 1023 is CONN_LOCK_MASK, and 30000 and 60000 the UDP timeouts of the
        # states BIDIR and MULTIPLE.  On the free-threaded build a code object's
        # constants are immortal, where a module global's reference count
        # is written by every thread that loads it.  The inline check is
        # written out again rather than shared: a call per frame is what it
        # saves.
        try:
            for frame in frames:
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
                        key = frame[26:38] + suffix
                        value = read(key)
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
                        append(track(call, key, 17, 0, value))
                        continue
                parsed = extract_key(frame, zone, self.verify_l4)
                if isinstance(parsed, str):
                    call.counts.invalid += 1
                    append(INVALID)
                    continue
                append(self.track_parsed(call, parsed))
        finally:
            ctx.counts.packets += len(out)
            ctx.passes += 1  # a quiescent point: see Grace
            ctx.active = False
        return out

    def execute_each(
        self,
        frames: Iterable[bytes],
        zone: int,
        commit: bool,
        now: int,
        nat: NatAction | None = None,
    ) -> list[int]:
        """The per-frame path of :meth:`execute`, at any size: every frame in
        order, one loop iteration each.

        The common frame (ovstest's: IPv4 + UDP without checksum) is parsed
        inline with ``struct``, and a forward hit on a live UDP connection is
        updated inline; everything else goes through :meth:`track`.  It takes
        none of a shared model's locks: threads call :meth:`execute`.
        """
        assert self._shared is None, "a shared model executes through execute()"
        call = self.begin(zone, commit, now, nat, False)
        get = call.get
        track = self.track
        track_parsed = self.track_parsed
        verify_l4 = self.verify_l4
        state = self.columns.state
        expiration = self.columns.expiration
        suffix = zone_suffix(zone, IPPROTO_UDP)
        unpack = UDP4_FAST.unpack_from
        miss = MISS
        out: list[int] = []
        append = out.append
        # The loop uses literals, not the named constants, so that CPython
        # loads them without a global lookup: 0x0800 is ETH_TYPE_IP, 17
        # IPPROTO_UDP, 26:38 the key's bytes (UDP4_KEY_START:UDP4_KEY_END),
        # state 1 UDP_MULTIPLE and 2 UDP_BIDIR, ct_state 0x21 NEW and 0x22
        # EST (tests/model/test_bulk.py holds this path to the general one).
        try:
            for frame in frames:
                flen = len(frame)
                if flen >= 42:
                    dl, vihl, total, frag, proto, sport, dport, ulen, ucsum = unpack(
                        frame
                    )
                    # ctbench.parse.udp4_fast_key(), inline.
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
                        key = frame[26:38] + suffix
                        value = get(key, miss)
                        if value >= 0 and now < expiration[value]:
                            # A forward hit on a live connection:
                            # other_conn_update().
                            if state[value] == 2:
                                expiration[value] = now + _UDP_TO_BIDIR
                                append(0x22)
                            else:
                                # No reply yet: CT_UPDATE_VALID_NEW.
                                state[value] = 1
                                expiration[value] = now + _UDP_TO_MULTIPLE
                                append(0x21)
                            continue
                        append(track(call, key, 17, 0, value))
                        continue
                parsed = extract_key(frame, zone, verify_l4)
                if isinstance(parsed, str):
                    call.counts.invalid += 1
                    append(INVALID)
                    continue
                append(track_parsed(call, parsed))
        finally:
            self.end(call, len(out))
        return out

    def track_parsed(self, call: Call, parsed: Parsed) -> int:
        """One valid frame that took no fast path."""
        if parsed.related:
            return self._related(call, parsed.key)
        return self.track(
            call, parsed.key, parsed.proto, parsed.tcp_flags, None, parsed.tcp
        )

    def _related(self, call: Call, key: ConnKey) -> int:
        """An ICMP error: conn_update_state() marks it related to the live
        connection its embedded packet belongs to, and leaves that
        connection's state and expiration alone; with no such connection,
        process_one() calls it invalid.  It never creates one."""
        get = call.get
        value = get(key, MISS)
        reply = False
        if value >= 0:
            handle = value
        elif value != MISS:
            handle = ~value
            reply = True
        else:
            other = get(reverse_key(key), MISS)
            handle = other if other >= 0 and not call.nat_flags[other] else -1
            reply = True
        if handle >= 0 and call.now < call.expiration[handle]:
            return RELATED_REPLY if reply else RELATED
        call.counts.invalid += 1
        return INVALID

    def track(
        self,
        call: Call,
        key: ConnKey,
        proto: int,
        flags: int,
        value: int | None,
        segment: Segment | None = None,
    ) -> int:
        """One valid frame, in full: look up (``value`` is the forward
        probe's result when the caller made it), update or create; returns
        the packet's ct_state.  A TCP frame comes with its ``segment``."""
        get = call.get
        if value is None:
            value = get(key, MISS)
        reply = False
        if value >= 0:
            handle = value
        elif value != MISS:
            handle = ~value  # a NAT connection's reverse key node
            reply = True
        else:
            # Without NAT only the forward node is in the table, so a hit on
            # the swapped key is this connection's reply.
            other = get(reverse_key(key), MISS)
            if other >= 0 and not call.nat_flags[other]:
                handle = other
                reply = True
            else:
                handle = -1
        if handle >= 0:
            result = self._update_found(call, handle, reply, proto, segment, flags)
            if result >= 0:
                return result
            # Expired (lookups skip it, as conn_key_lookup() does), or
            # CT_UPDATE_NEW: with commit a new connection replaces it, and a
            # dict holds one node per key, so the old one leaves first.
            if call.commit:
                self._clean_one(call, handle)
            elif result == UPDATE_NEW:
                self._force_expire(call, handle)
        # Not found: conn_not_found().
        if proto != IPPROTO_UDP and not valid_new(proto, key, flags):
            call.counts.invalid += 1
            return INVALID
        if call.commit:
            if call.take_lock:
                if call.scope is not None:
                    self._create_scoped(call, call.scope, key, proto, segment)
                    return NEW
                # OVS takes ct_lock here, only to create: look again under it,
                # since another thread may have created the connection.
                self._acquire(self.lock, call.ctx)
                try:
                    if not self._exists(call, key):
                        self._create(call, key, proto, segment)
                finally:
                    self.lock.release()
            else:
                self._create(call, key, proto, segment)
        return NEW

    def _update_found(
        self,
        call: Call,
        handle: int,
        reply: bool,
        proto: int,
        segment: Segment | None,
        flags: int,
    ) -> int:
        """conn_update() of a connection a lookup found: its ct_state, or
        UPDATE_NEW, or _EXPIRED.  On a shared model the connection's
        conn->lock is held meanwhile (striped, ctbench.model.shared)."""
        acquire = call.acquire
        if acquire is not None:
            lock = handle & CONN_LOCK_MASK
            acquire[lock]()
        try:
            now = call.now
            if now >= call.expiration[handle]:
                return _EXPIRED
            if proto == IPPROTO_TCP:
                return self._tcp_update(call, handle, reply, segment, flags)
            result, state = update(proto, call.state[handle], reply)
            if result != UPDATE_NEW:
                call.state[handle] = state
                call.expiration[handle] = now + TIMEOUTS_MS[proto][state]
            return result
        finally:
            if acquire is not None:
                call.release[lock]()

    def _force_expire(self, call: Call, handle: int) -> None:
        """conn_force_expire(), under the connection's lock when shared."""
        acquire = call.acquire
        if acquire is None:
            call.expiration[handle] = 0
            return
        lock = handle & CONN_LOCK_MASK
        acquire[lock]()
        call.expiration[handle] = 0
        call.release[lock]()

    def _tcp_update(
        self,
        call: Call,
        handle: int,
        reply: bool,
        segment: Segment | None,
        flags: int,
    ) -> int:
        """tcp_conn_update() on the connection's peers; returns the ct_state,
        or UPDATE_NEW.  The connection's state is the timeout OVS last set
        (ctbench.model.tcp.TM_*); an update that sets none keeps it, and
        the expiration."""
        result, timeout = tcp.update(
            self._tcp[handle], reply, segment or _flags_only(flags)
        )
        if result == tcp.INVALID:
            return INVALID
        if result == tcp.NEW:
            return UPDATE_NEW
        if timeout is not None:
            call.state[handle] = timeout
            call.expiration[handle] = call.now + _TCP_TIMEOUTS_MS[timeout]
        if result == tcp.VALID_NEW:
            return NEW
        return EST_REPLY if reply else EST

    def _create(
        self, call: Call, key: ConnKey, proto: int, segment: Segment | None = None
    ) -> None:
        counts = call.counts
        zone_limit = call.zone_limit
        if zone_limit is not None and self._zone_counts.get(call.zone, 0) >= zone_limit:
            counts.refused_zone += 1
            return
        conn_limit = self.limits.conn_limit
        if conn_limit and self.n_conns >= conn_limit:
            counts.refused_full += 1
            return
        rev_key = None
        if call.nat is not None:
            rev_key = call.nat.reverse_key(key)
            if rev_key == key or self._nat_taken(call, rev_key):
                counts.refused_nat += 1
                return
        cols = self.columns
        ctx = call.ctx
        handle = cols.alloc_one() if ctx is None else self._take_slot(ctx)
        call.state[handle] = UDP_FIRST  # every protocol's first state is 0
        if proto == IPPROTO_TCP:
            self._tcp[handle] = tcp.new_peers(segment or _flags_only(TCP_SYN))
        call.expiration[handle] = call.now + TIMEOUTS_MS[proto][0]
        cols.exp_list[handle] = self._next_list
        cols.zone[handle] = call.zone
        cols.proto[handle] = proto
        cols.keys[handle] = key
        call.put(key, handle)
        if rev_key is not None:
            call.nat_flags[handle] = 1
            cols.rev_keys[handle] = rev_key
            self.n_nat += 1
            call.put(rev_key, ~handle)
        else:
            call.nat_flags[handle] = 0
        # conn_expire_push_front(): lists are filled round-robin.
        self._next_list = (self._next_list + 1) % N_EXP_LISTS
        self.n_conns += 1
        if zone_limit is not None:
            self._zone_counts[call.zone] = self._zone_counts.get(call.zone, 0) + 1
        counts.created += 1

    def _create_scoped(
        self,
        call: Call,
        scope: Scope,
        key: ConnKey,
        proto: int,
        segment: Segment | None,
    ) -> None:
        """process_one()'s creation under a finer lock scope: the locks of
        the maps it reads and changes instead of ``ct_lock``, the second
        lookup under them, then :meth:`_create_beside`."""
        nat = call.nat
        nat_key = None if nat is None else nat.reverse_key(key)
        locks = scope.for_create(key, nat_key)
        ctx = call.ctx
        for lock in locks:
            self._acquire(lock, ctx)
        try:
            if not self._exists(call, key):
                self._create_beside(call, key, proto, segment, nat_key)
        finally:
            for lock in locks:
                lock.release()

    def _create_beside(
        self,
        call: Call,
        key: ConnKey,
        proto: int,
        segment: Segment | None,
        rev_key: ConnKey | None,
    ) -> None:
        """:meth:`_create` with the maps' locks held and ``ct_lock`` taken
        only for what stays global: the limits checked and counted, a slot,
        an expiration list (ctbench.model.shared).  The same refusals in
        the same order.  Written out again, not shared with _create: a call
        per creation is what the single-threaded path saves."""
        counts = call.counts
        nat_refused = rev_key is not None and (
            rev_key == key or self._nat_taken(call, rev_key)
        )
        zone = call.zone
        zone_limit = call.zone_limit
        ctx = call.ctx
        assert ctx is not None
        self._acquire(self.lock, ctx)
        try:
            if zone_limit is not None and self._zone_counts.get(zone, 0) >= zone_limit:
                counts.refused_zone += 1
                return
            conn_limit = self.limits.conn_limit
            if conn_limit and self.n_conns >= conn_limit:
                counts.refused_full += 1
                return
            if nat_refused:
                counts.refused_nat += 1
                return
            handle = self._take_slot(ctx)
            exp_list = self._next_list
            self._next_list = (exp_list + 1) % N_EXP_LISTS
            self.n_conns += 1
            if zone_limit is not None:
                self._zone_counts[zone] = self._zone_counts.get(zone, 0) + 1
            if rev_key is not None:
                self.n_nat += 1
        finally:
            self.lock.release()
        # The slot is this thread's until its key node is in the table.
        cols = self.columns
        call.state[handle] = UDP_FIRST  # every protocol's first state is 0
        if proto == IPPROTO_TCP:
            self._tcp[handle] = tcp.new_peers(segment or _flags_only(TCP_SYN))
        call.expiration[handle] = call.now + TIMEOUTS_MS[proto][0]
        cols.zone[handle] = zone
        cols.proto[handle] = proto
        cols.keys[handle] = key
        if rev_key is not None:
            call.nat_flags[handle] = 1
            cols.rev_keys[handle] = rev_key
        else:
            call.nat_flags[handle] = 0
        cols.exp_list[handle] = exp_list
        call.put(key, handle)
        if rev_key is not None:
            call.put(rev_key, ~handle)
        counts.created += 1

    def commit_created(self, call: Call, handles: Handles, views: ColumnViews) -> None:
        """Count ``handles`` as connections ``call`` created, in this order:
        the bulk path's new connections, their columns set and their nodes
        inserted.  Each joins an expiration list round-robin and the counts
        the limits read, as :meth:`_create` does for one."""
        k = len(handles)
        views.exp_list[handles] = (self._next_list + np.arange(k)) % N_EXP_LISTS
        self._next_list = (self._next_list + k) % N_EXP_LISTS
        self.n_conns += k
        if call.zone_limit is not None:
            self._zone_counts[call.zone] = self._zone_counts.get(call.zone, 0) + k
        call.counts.created += k

    def _exists(self, call: Call, key: ConnKey) -> bool:
        """conn_lookup() again, under the lock: forward or reply match."""
        get = call.get
        if get(key, MISS) != MISS:
            return True
        other = get(reverse_key(key), MISS)
        return other >= 0 and not call.nat_flags[other]

    def _nat_taken(self, call: Call, rev_key: ConnKey) -> bool:
        """May a new NAT connection not use ``rev_key``?

        OVS's nat_get_unique_tuple() refuses a reverse key that conn_lookup()
        finds: a live connection's forward or reverse key.  A dict also holds
        one node per key, so a node of an expired connection, which the
        sweeper has not removed yet, blocks the key too.
        """
        get = call.get
        if get(rev_key, MISS) != MISS:
            return True
        other = get(reverse_key(rev_key), MISS)
        return (
            other >= 0
            and not call.nat_flags[other]
            and call.now < call.expiration[other]
        )

    def _clean_one(self, call: Call, handle: int) -> None:
        """conn_clean() from an execute.  Shared: under ``ct_lock`` (or the
        maps' locks of a finer scope), and only if the handle still holds
        the connection that was found (OVS's ``reclaimed`` flag), however
        many threads saw it expire."""
        if call.ctx is None:
            self._remove_one(handle, call.remove, call.counts)
            return
        self._clean_shared(call, handle, self.columns.keys[handle])

    def _clean_shared(self, call: Call, handle: int, key: object) -> bool:
        """conn_clean() on a shared model: ``ct_lock`` taken and released for
        this one connection, unless another thread cleaned it first (OVS's
        ``reclaimed`` flag).  Its slot then waits out the grace period."""
        if call.scope is not None:
            return self._clean_scoped(call, call.scope, handle, key)
        ctx = call.ctx
        assert ctx is not None
        self._acquire(self.lock, ctx)
        try:
            cols = self.columns
            if cols.exp_list[handle] == FREE or cols.keys[handle] is not key:
                return False
            self._unlink_one(handle, call.remove, ctx.counts)
            cols.exp_list[handle] = FREE
            assert self._shared is not None
            self._shared.grace.retire([handle])
            return True
        finally:
            self.lock.release()

    def _clean_scoped(self, call: Call, scope: Scope, handle: int, key: object) -> bool:
        """:meth:`_clean_shared` under a finer lock scope: the maps' locks
        for the nodes, ``ct_lock`` only for the counts and the slot's grace
        period (ctbench.model.shared)."""
        ctx = call.ctx
        assert ctx is not None and isinstance(key, bytes)
        cols = self.columns
        # Read before the locks, to know which to take: the slot cannot be
        # reused while this thread is active (Grace), and a connection
        # cleaned meanwhile is found FREE under them.
        nat_key = cols.rev_keys.get(handle) if cols.nat[handle] else None
        locks = scope.for_clean(key, nat_key)
        for lock in locks:
            self._acquire(lock, ctx)
        try:
            if cols.exp_list[handle] == FREE or cols.keys[handle] is not key:
                return False
            remove = call.remove
            remove(key)
            nat = cols.nat[handle]
            if nat:
                remove(cols.rev_keys.pop(handle))
            cols.exp_list[handle] = FREE
            zone = cols.zone[handle]
            self._acquire(self.lock, ctx)
            try:
                if nat:
                    self.n_nat -= 1
                self.n_conns -= 1
                if self.limits.for_zone(zone) is not None:
                    self._zone_counts[zone] -= 1
                assert self._shared is not None
                self._shared.grace.retire([handle])
            finally:
                self.lock.release()
            ctx.counts.removed += 1
            return True
        finally:
            for lock in locks:
                lock.release()

    def _remove_one(self, handle: int, remove: Remove, counts: Counters) -> None:
        self._unlink_one(handle, remove, counts)
        self.columns.release_one(handle)

    def _unlink_one(self, handle: int, remove: Remove, counts: Counters) -> None:
        """A connection's nodes out of the table and out of the counts."""
        cols = self.columns
        key = cols.keys[handle]
        assert key is not None
        remove(key)
        if cols.nat[handle]:
            remove(cols.rev_keys.pop(handle))
            self.n_nat -= 1
        self.n_conns -= 1
        counts.removed += 1
        zone = cols.zone[handle]
        if self.limits.for_zone(zone) is not None:
            self._zone_counts[zone] -= 1

    def _take_slot(self, ctx: ThreadContext) -> int:
        """A slot for a new connection from the thread's own block (the
        caller holds ``ct_lock``); a new block of SLOT_BLOCK fresh slots, or
        of slots whose grace period has ended, when it runs out."""
        slots = ctx.slots
        if not slots:
            cols = self.columns
            assert self._shared is not None
            cols.free.extend(self._shared.grace.reclaim())
            fresh = cols.take_fresh(SLOT_BLOCK)
            if fresh:
                slots.extend(reversed(fresh))
            else:
                free = cols.free
                take = min(len(free), SLOT_BLOCK)
                if not take:
                    cols.reserve(1)  # raises CapacityError: the columns are full
                slots.extend(free[len(free) - take :])
                del free[len(free) - take :]
        return slots.pop()

    @property
    def counters(self) -> Counters:
        """Cumulative work counters: the same object each time on a model
        one thread has; on a shared model, the sum of every thread's, made
        anew at each read."""
        if self._shared is None:
            return self._counters
        total = self._counters.snapshot()
        for ctx in list(self._shared.grace.contexts):
            total.add(ctx.counts)
        return total

    # -- removal -------------------------------------------------------------

    def remove_handles(
        self, handles: Handles, views: ColumnViews, counts: Counters
    ) -> None:
        """conn_clean() of many connections: each node removed from its
        zone's map on its own, in order; then the slots are released.
        ``counts`` gets the removals."""
        self.unlink_handles(handles, views, counts)
        self.columns.release(handles, views)

    def unlink_handles(
        self, handles: Handles, views: ColumnViews, counts: Counters
    ) -> None:
        """Remove the connections' nodes from the table and from the counts,
        keeping their slots (a caller that reuses a slot at once saves the
        release and the allocation, which would hand the same slot back)."""
        if not len(handles):
            return
        cols = self.columns
        zones = views.zone[handles]
        first = int(zones[0])
        if (zones == first).all():
            groups = [(first, handles)]
        else:
            groups = [(int(z), handles[zones == z]) for z in np.unique(zones)]
        for zone, members in groups:
            remove = self.table.bind(zone)[2]
            deque(map(remove, cols.keys[members].tolist()), 0)
            if self.n_nat:
                nat = members[views.nat[members] != 0].tolist()
                deque(map(remove, map(cols.rev_keys.pop, nat)), 0)
                self.n_nat -= len(nat)
            if self.limits.for_zone(zone) is not None:
                self._zone_counts[zone] -= len(members)
        self.n_conns -= len(handles)
        counts.removed += len(handles)

    def flush(self, zone: int | None = None) -> FlushResult:
        """conntrack_flush(): every connection of ``zone``, or all of them.

        The table decides what is visited: a zone of the single map is a scan
        of every node, a zone of the per-zone maps only that zone's nodes.
        """
        if self._shared is not None:
            return self._flush_shared(zone)
        # _flush() inline: flushing an empty zone is little more than this
        # call, so each call level shows in its time.
        values = self.table.values() if zone is None else self.table.zone_values(zone)
        if len(values):
            return self._remove_flushed(zone, values)
        return _NOTHING_FLUSHED

    def _flush_shared(self, zone: int | None) -> FlushResult:
        """conntrack_flush_zone() beside other threads: the walk takes no
        lock, each connection found is cleaned under ``ct_lock`` on its own
        (conn_clean()); one another thread cleaned first is skipped."""
        ctx = self.context()
        ctx.active = True  # a reader of the table until the walk ends
        try:
            values = (
                self.table.values() if zone is None else self.table.zone_values(zone)
            )
            if not len(values):
                return _NOTHING_FLUSHED
            forward = values[values >= 0]
            if zone is not None:
                forward = forward[self.columns.views().zone[forward] == zone]
            return FlushResult(len(values), self._clean_all(forward, ctx))
        finally:
            ctx.passes += 1
            ctx.active = False

    def _clean_all(self, handles: Handles, ctx: ThreadContext) -> int:
        """conn_clean() of each of ``handles`` in turn, ``ct_lock`` taken
        for each; how many this thread removed."""
        cols = self.columns
        keys = cols.keys
        zones = cols.zone
        removed = 0
        for handle in handles.tolist():
            call = self._thread_call(ctx, zones[handle], False, 0, None)
            removed += self._clean_shared(call, handle, keys[handle])
        return removed

    def _remove_flushed(self, zone: int | None, values: Values) -> FlushResult:
        visited = len(values)
        views = self.columns.views()
        # Reverse nodes (negative values) are skipped: cleaned with their
        # forward node.  Without NAT connections every node is a forward one.
        forward = values[values >= 0] if self.n_nat else values
        if zone is not None:
            forward = forward[views.zone[forward] == zone]
        self.remove_handles(forward, views, self._counters)
        return FlushResult(visited, len(forward))

    def sweep(self, now: int, max_visited: int | None = None) -> SweepResult:
        """Remove expired connections, walking the expiration lists.

        With ``max_visited`` it is one pass of OVS's clean thread
        (conntrack_clean()): from the list where the last pass stopped,
        before each list it checks whether more than ``max_visited``
        connections were visited (expired or not), and stops there.  Without,
        it sweeps every list.
        """
        if self._shared is None:
            return self._sweep(now, max_visited)
        # The clean thread beside the others: the walk takes no lock, each
        # expired connection is cleaned under ct_lock on its own (ct_sweep()).
        ctx = self.context()
        ctx.active = True
        try:
            return self._sweep(now, max_visited, ctx)
        finally:
            ctx.passes += 1
            ctx.active = False

    def _sweep(
        self, now: int, max_visited: int | None, ctx: ThreadContext | None = None
    ) -> SweepResult:
        views = self.columns.views()
        used = self.columns.used
        lists = views.exp_list[:used]
        expirations = views.expiration[:used]
        if ctx is not None:
            # Other threads write the columns meanwhile: walk a snapshot,
            # as OVS's walk sees each node once; conn_clean() checks again
            # under ct_lock (_clean_shared).
            lists = lists.copy()
            expirations = expirations.copy()
        live = lists != FREE
        sizes = np.bincount(lists[live], minlength=N_EXP_LISTS).tolist()
        start = self._next_sweep if max_visited is not None else 0
        visited = 0
        stop = start
        while stop < N_EXP_LISTS:
            if max_visited is not None and visited > max_visited:
                break
            visited += sizes[stop]
            stop += 1
        swept = live & (lists >= start) & (lists < stop)
        expired = np.flatnonzero(swept & (expirations <= now))
        if ctx is None:
            self.remove_handles(expired, views, self._counters)
            removed = len(expired)
        else:
            removed = self._clean_all(expired, ctx)
        if max_visited is not None:
            self._next_sweep = stop if stop < N_EXP_LISTS else 0
        return SweepResult(visited, removed)

    # -- inspection ----------------------------------------------------------

    def dump(self, zone: int | None = None, now: int | None = None) -> list[ConnEntry]:
        """conntrack_dump(): forward nodes only; expired ones are skipped
        when ``now`` is given, as OVS's dump does."""
        cols = self.columns
        entries = []
        for key, value in self.table.items():
            if value < 0 or (zone is not None and cols.zone[value] != zone):
                continue
            expiration = cols.expiration[value]
            if now is not None and now >= expiration:
                continue
            proto = key_proto(key)
            nat = bool(cols.nat[value])
            entries.append(
                ConnEntry(
                    key=key,
                    rev_key=cols.rev_keys[value] if nat else reverse_key(key),
                    proto=proto,
                    state=STATE_NAMES[proto][cols.state[value]],
                    expiration=expiration,
                    nat=nat,
                )
            )
        return entries

    def zone_count(self, zone: int) -> int:
        """Connections counted against ``zone``'s limit (0 when unlimited)."""
        return self._zone_counts.get(zone, 0)

    def expiration_list_sizes(self) -> list[int]:
        lists = self.columns.views().exp_list[: self.columns.used]
        return np.bincount(lists[lists != FREE], minlength=N_EXP_LISTS).tolist()  # type: ignore[no-any-return]
