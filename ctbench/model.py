"""Conntrack semantics over a pluggable table, shaped like OVS's lib/conntrack.c.

The model owns what OVS's ``struct conntrack`` owns: connections with a forward
and a reverse key, per-protocol state and expiration, the 100 expiration
lists, the table-wide and per-zone limits, flush, dump and sweep.  The table
(a backend) only stores key nodes.  Time is a logical clock in milliseconds
passed in by the caller; nothing here reads the wall clock.

Deliberate simplifications, each visible in behaviour the contract test pins:

- TCP follows the coarse states (SYN-sent, SYN-recv, established, FIN-wait,
  TIME-wait, closed) with OVS's flag checks, not pf's sequence windows.
- ICMP is echo only; errors ("related" traffic) are invalid.
- A NAT action only decides the reverse key; frames are never rewritten.
- An expired connection that a new commit collides with is cleaned at that
  moment.  OVS leaves it in the cmap until the sweeper comes, which a dict
  cannot do; the only visible difference is that ``n_conns`` drops by one a
  little earlier.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Final, NamedTuple

from ctbench.backends import ConnTable, Lookup
from ctbench.packets import (
    ICMP6_ECHO_REQUEST,
    ICMP_ECHO_REQUEST,
    IPPROTO_ICMP,
    IPPROTO_ICMPV6,
    IPPROTO_TCP,
    IPPROTO_UDP,
    TCP_ACK,
    TCP_FIN,
    TCP_PSH,
    TCP_RST,
    TCP_SYN,
    ZONE,
    ConnKey,
    CtState,
    parse_frame,
    reverse_key,
    udp4_keys_chunked,
)

# lib/conntrack-private.h: N_EXP_LISTS.
N_EXP_LISTS: Final = 100
# lib/conntrack.c: DEFAULT_N_CONN_LIMIT.
DEFAULT_CONN_LIMIT: Final = 3_000_000
# lib/conntrack.c conntrack_clean(): one pass cleans at most n_conn_limit / 64.
SWEEP_BATCH_DIVISOR: Final = 64
TCP_URG: Final = 0x20

_MS: Final = 1000

# Default timeouts in seconds, lib/conntrack-tp.c (ct_dpif_netdev_tp_def).
# OVS's "other" states FIRST / MULTIPLE / BIDIR use the policy attributes
# UDP_FIRST / UDP_SINGLE / UDP_MULTIPLE.
UDP_FIRST, UDP_MULTIPLE, UDP_BIDIR = 0, 1, 2
UDP_TIMEOUTS_S: Final = (60, 60, 30)
ICMP_FIRST, ICMP_REPLY = 0, 1
ICMP_TIMEOUTS_S: Final = (60, 30)
(
    TCP_SYN_SENT,
    TCP_SYN_RECV,
    TCP_ESTABLISHED,
    TCP_FIN_WAIT_ORIG,
    TCP_FIN_WAIT_REPLY,
    TCP_TIME_WAIT,
    TCP_CLOSED,
) = range(7)
TCP_TIMEOUTS_S: Final = (30, 30, 86400, 900, 900, 45, 30)

STATE_NAMES: Final[Mapping[int, tuple[str, ...]]] = {
    IPPROTO_UDP: ("first", "multiple", "bidir"),
    IPPROTO_ICMP: ("first", "reply"),
    IPPROTO_ICMPV6: ("first", "reply"),
    IPPROTO_TCP: (
        "syn-sent",
        "syn-recv",
        "established",
        "fin-wait",
        "fin-wait",
        "time-wait",
        "closed",
    ),
}
_TIMEOUTS_MS: Final[Mapping[int, tuple[int, ...]]] = {
    IPPROTO_UDP: tuple(t * _MS for t in UDP_TIMEOUTS_S),
    IPPROTO_ICMP: tuple(t * _MS for t in ICMP_TIMEOUTS_S),
    IPPROTO_ICMPV6: tuple(t * _MS for t in ICMP_TIMEOUTS_S),
    IPPROTO_TCP: tuple(t * _MS for t in TCP_TIMEOUTS_S),
}
_UDP_TIMEOUTS_MS: Final = _TIMEOUTS_MS[IPPROTO_UDP]

_NEW: Final = int(CtState.NEW | CtState.TRACKED)
_EST: Final = int(CtState.ESTABLISHED | CtState.TRACKED)
_EST_REPLY: Final = int(CtState.ESTABLISHED | CtState.REPLY_DIR | CtState.TRACKED)
_INVALID: Final = int(CtState.INVALID | CtState.TRACKED)
_UPDATE_NEW: Final = -1  # conn_update() said CT_UPDATE_NEW: replace the conn


class Connection:
    """One connection; ``rev_key`` is set only with NAT, as in OVS where the
    reverse key node is inserted only for NAT connections."""

    __slots__ = ("key", "rev_key", "state", "expiration", "exp_list")

    def __init__(
        self,
        key: ConnKey,
        rev_key: ConnKey | None,
        state: int,
        expiration: int,
        exp_list: int,
    ) -> None:
        self.key = key
        self.rev_key = rev_key
        self.state = state
        self.expiration = expiration
        self.exp_list = exp_list


@dataclass(frozen=True)
class NatAction:
    """Translate the source and/or destination; None keeps the original."""

    src_addr: int | None = None
    src_port: int | None = None
    dst_addr: int | None = None
    dst_port: int | None = None

    def reverse_key(self, key: ConnKey) -> ConnKey:
        src, dst, sport, dport, dl_type, zone, proto = key
        if self.src_addr is not None:
            src = self.src_addr
        if self.src_port is not None:
            sport = self.src_port
        if self.dst_addr is not None:
            dst = self.dst_addr
        if self.dst_port is not None:
            dport = self.dst_port
        return (dst, src, dport, sport, dl_type, zone, proto)


@dataclass(frozen=True)
class Limits:
    """``conn_limit`` 0 means unlimited (ctbench's convention; in OVS 0 would
    refuse everything).  Zone limits are counted from the model's creation."""

    conn_limit: int = DEFAULT_CONN_LIMIT
    default_zone_limit: int | None = None
    zone_limits: Mapping[int, int] = field(default_factory=dict)

    def for_zone(self, zone: int) -> int | None:
        return self.zone_limits.get(zone, self.default_zone_limit)


@dataclass
class Counters:
    """Cumulative work counters, updated once per call, never per entry."""

    packets: int = 0
    created: int = 0
    removed: int = 0
    refused_full: int = 0
    refused_zone: int = 0
    refused_nat: int = 0
    invalid: int = 0

    def snapshot(self) -> Counters:
        return Counters(**vars(self))

    def minus(self, before: Counters) -> dict[str, int]:
        return {k: v - getattr(before, k) for k, v in vars(self).items()}


@dataclass(frozen=True)
class ConnEntry:
    """A dumped connection, like ``struct ct_dpif_entry``."""

    key: ConnKey
    rev_key: ConnKey
    proto: int
    state: str
    expiration: int
    nat: bool

    @property
    def zone(self) -> int:
        return self.key[ZONE]


class FlushResult(NamedTuple):
    """Nodes the table visited, connections removed."""

    visited: int
    removed: int


_NOTHING_FLUSHED: Final = FlushResult(0, 0)


def _tcp_invalid_flags(flags: int) -> bool:
    """lib/conntrack-tcp.c tcp_invalid_flags()."""
    if flags & TCP_SYN:
        if flags & (TCP_RST | TCP_FIN):
            return True
    elif not flags & (TCP_ACK | TCP_RST):
        return True
    return not flags & TCP_ACK and bool(flags & (TCP_FIN | TCP_PSH | TCP_URG))


def _valid_new(proto: int, key: ConnKey, flags: int) -> bool:
    """May this packet create a connection (OVS's valid_new())?"""
    if proto == IPPROTO_TCP:
        # A SYN+ACK may not open a connection; totally new or mid-stream may.
        syn_ack = flags & TCP_SYN and flags & TCP_ACK
        return not _tcp_invalid_flags(flags) and not syn_ack
    if proto in (IPPROTO_ICMP, IPPROTO_ICMPV6):
        request = ICMP_ECHO_REQUEST if proto == IPPROTO_ICMP else ICMP6_ECHO_REQUEST
        return key[2] >> 24 == request
    return True


def _update_tcp(conn: Connection, reply: bool, flags: int, now: int) -> int:
    """Coarse TCP update; returns the packet's ct_state or _UPDATE_NEW."""
    if _tcp_invalid_flags(flags):
        return _INVALID
    state = conn.state
    valid_new = False
    if flags & TCP_RST:
        state = TCP_CLOSED
    elif flags & TCP_SYN and not flags & TCP_ACK:
        if state in (TCP_TIME_WAIT, TCP_CLOSED):
            return _UPDATE_NEW
        if state == TCP_SYN_SENT:
            valid_new = True
    elif flags & TCP_SYN:
        if reply and state == TCP_SYN_SENT:
            state = TCP_SYN_RECV
    elif flags & TCP_FIN:
        if state in (TCP_SYN_SENT, TCP_SYN_RECV, TCP_ESTABLISHED):
            state = TCP_FIN_WAIT_REPLY if reply else TCP_FIN_WAIT_ORIG
        elif state == (TCP_FIN_WAIT_ORIG if reply else TCP_FIN_WAIT_REPLY):
            state = TCP_TIME_WAIT
    elif state in (TCP_SYN_SENT, TCP_SYN_RECV):
        state = TCP_ESTABLISHED
    conn.state = state
    conn.expiration = now + _TIMEOUTS_MS[IPPROTO_TCP][state]
    if valid_new:
        return _NEW
    return _EST_REPLY if reply else _EST


def _update_icmp(conn: Connection, reply: bool, proto: int, now: int) -> int:
    if reply and conn.state != ICMP_REPLY:
        conn.state = ICMP_REPLY
    conn.expiration = now + _TIMEOUTS_MS[proto][conn.state]
    return _EST_REPLY if reply else _EST


class Conntrack:
    """The conntrack model.

    With ``thread_safe=True`` it may be shared between threads.  Lookups and
    state updates take no lock; creating or removing a connection takes
    :attr:`lock`, as OVS takes ``ct_lock`` only for that (looking the key up
    again under it), and so do flush and sweep.  Single-threaded scenarios
    leave it off: no other thread can contend, and an uncontended lock costs
    about 130 ns in CPython against about 20 ns in C, which would distort the
    per-connection cost.
    """

    def __init__(
        self,
        table: ConnTable,
        limits: Limits | None = None,
        *,
        thread_safe: bool = False,
    ) -> None:
        self.table = table
        self.thread_safe = thread_safe
        self.lock = threading.Lock()
        self.limits = limits or Limits()
        self._counters = Counters()
        # Thread-safe executes append their per-call counts here without the
        # lock (list.append is atomic); reading `counters` folds them in.
        self._counter_log: list[tuple[int, int, int, int, int, int, int]] = []
        self.n_conns = 0
        self._exp_lists: list[dict[Connection, None]] = [{} for _ in range(N_EXP_LISTS)]
        self._next_list = 0
        self._next_sweep = 0
        self._zone_counts: dict[int, int] = {}
        self._zone_limited = bool(
            self.limits.zone_limits or self.limits.default_zone_limit is not None
        )

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
        return self._execute(batch, zone, commit, now, nat)

    def execute_batches(
        self,
        batches: Iterable[Sequence[bytes]],
        zone: int,
        commit: bool,
        now: int,
        nat: NatAction | None = None,
    ) -> list[int]:
        """Track several batches in order, as that many ``execute`` calls.

        One call for many batches keeps the per-call set-up out of the
        per-packet cost, which is what ovstest's loop of
        ``conntrack_execute()`` calls costs in C.  The loop is written for
        CPython's speed (locals, no per-packet calls on the common path);
        every packet is still parsed (up to 4,096 at a time, with numpy when
        128 or more share a length, see :func:`ctbench.packets.udp4_keys`),
        looked up and updated, in order.
        """
        return self._execute(list(chain.from_iterable(batches)), zone, commit, now, nat)

    def _execute(
        self,
        frames: Sequence[bytes],
        zone: int,
        commit: bool,
        now: int,
        nat: NatAction | None,
    ) -> list[int]:
        """Every frame in order; batch boundaries change nothing in the model."""
        locked = self.thread_safe
        acquire, release = self.lock.acquire, self.lock.release
        if locked and getattr(self.table, "bind_creates", True):
            # A table may create a zone's maps in bind(): two threads must not
            # each make their own.
            with self.lock:
                get, put, _ = self.table.bind(zone)
        else:
            get, put, _ = self.table.bind(zone)
        keys = udp4_keys_chunked(frames, zone)
        out: list[int] = []
        append = out.append
        new = object.__new__
        udp_timeouts = _UDP_TIMEOUTS_MS
        exp_lists = self._exp_lists
        next_list = self._next_list
        conn_limit = self.limits.conn_limit
        zone_limit = self.limits.for_zone(zone)
        zone_count = self._zone_counts.get(zone, 0)
        n_conns = self.n_conns
        created = removed = refused_full = refused_zone = refused_nat = 0
        invalid = 0
        flags = 0
        try:
            for frame, key in zip(frames, keys, strict=True):
                if key is None:
                    parsed = parse_frame(frame, zone)
                    if parsed is None:
                        invalid += 1
                        append(_INVALID)
                        continue
                    key = parsed.key
                    flags = parsed.tcp_flags
                    proto = key[6]
                else:
                    proto = 17
                conn = get(key)
                if conn is not None and conn.rev_key is None:
                    # The common case first: a forward hit without NAT.
                    if proto == 17 and now < conn.expiration:
                        state = conn.state
                        if state == 0:
                            # other_conn_update(): FIRST -> MULTIPLE is
                            # CT_UPDATE_VALID_NEW, so the packet stays +new.
                            conn.state = 1
                            conn.expiration = now + udp_timeouts[1]
                            append(_NEW)
                        else:
                            conn.expiration = now + udp_timeouts[state]
                            append(_EST)
                        continue
                    reply = False
                elif conn is None:
                    reply = False
                    src, dst, sp, dp, dl, _, _ = key
                    conn = get((dst, src, dp, sp, dl, zone, proto))
                    # Without NAT only the forward node is in the table, so
                    # a hit on the swapped key is this connection's reply.
                    if conn is not None:
                        if conn.rev_key is None:
                            reply = True
                        else:
                            conn = None
                else:
                    reply = key != conn.key
                if conn is not None:
                    if now >= conn.expiration:
                        # Expired: lookups skip it, as conn_key_lookup does.
                        if commit and locked:
                            self._clean_shared(conn)
                        elif commit:
                            self._unlink(conn)
                            removed += 1
                            n_conns -= 1
                            if zone_limit is not None:
                                zone_count -= 1
                        conn = None
                    elif proto == 17:
                        state = conn.state
                        result = _EST_REPLY if reply else _EST
                        if reply:
                            if state != 2:
                                conn.state = state = 2
                        elif state == 0:
                            conn.state = state = 1
                            result = _NEW  # CT_UPDATE_VALID_NEW, as above
                        conn.expiration = now + udp_timeouts[state]
                        append(result)
                        continue
                    else:
                        if proto == IPPROTO_TCP:
                            result = _update_tcp(conn, reply, flags, now)
                        else:
                            result = _update_icmp(conn, reply, proto, now)
                        if result != _UPDATE_NEW:
                            append(result)
                            continue
                        if not commit:
                            # conn_force_expire(): the sweeper removes it.
                            conn.expiration = 0
                        elif locked:
                            self._clean_shared(conn)
                        else:
                            # A dict holds one node per key, so the old
                            # connection leaves before its successor comes.
                            self._unlink(conn)
                            removed += 1
                            n_conns -= 1
                            if zone_limit is not None:
                                zone_count -= 1
                # Not found: conn_not_found().
                if proto != 17 and not _valid_new(proto, key, flags):
                    invalid += 1
                    append(_INVALID)
                    continue
                append(_NEW)
                if not commit:
                    continue
                if locked:
                    # OVS takes ct_lock here, only to create: look again
                    # under it (another thread may have created the
                    # connection) and work on the shared counts.
                    acquire()
                    n_conns = self.n_conns
                    next_list = self._next_list
                    zone_count = self._zone_counts.get(zone, 0)
                try:
                    if locked and self._exists(get, key):
                        continue
                    if zone_limit is not None and zone_count >= zone_limit:
                        refused_zone += 1
                        continue
                    if conn_limit and n_conns >= conn_limit:
                        refused_full += 1
                        continue
                    rev_key = None
                    if nat is not None:
                        rev_key = nat.reverse_key(key)
                        if rev_key == key or self._nat_taken(get, rev_key, now):
                            refused_nat += 1
                            continue
                    # Connection(...) without the Python-level __init__
                    # call, which costs more than the five stores.
                    conn = new(Connection)
                    conn.key = key
                    conn.rev_key = rev_key
                    conn.state = 0
                    conn.expiration = now + _TIMEOUTS_MS[proto][0]
                    conn.exp_list = next_list
                    put(key, conn)
                    if rev_key is not None:
                        put(rev_key, conn)
                    # conn_expire_push_front(): lists are filled round-robin.
                    exp_lists[next_list][conn] = None
                    next_list += 1
                    if next_list == N_EXP_LISTS:
                        next_list = 0
                    n_conns += 1
                    if zone_limit is not None:
                        zone_count += 1
                    created += 1
                finally:
                    if locked:
                        self.n_conns = n_conns
                        self._next_list = next_list
                        if zone_limit is not None:
                            self._zone_counts[zone] = zone_count
                        release()
        finally:
            if locked:
                counts = (len(out), created, removed, refused_full, refused_zone)
                self._counter_log.append((*counts, refused_nat, invalid))
            else:
                if commit:  # without commit nothing is created or removed
                    self._next_list = next_list
                    self.n_conns = n_conns
                    if zone_limit is not None:
                        self._zone_counts[zone] = zone_count
                self._add_counts(
                    len(out),
                    created,
                    removed,
                    refused_full,
                    refused_zone,
                    refused_nat,
                    invalid,
                )
        return out

    @property
    def counters(self) -> Counters:
        """Cumulative work counters (the same object each time)."""
        if self._counter_log:
            with self.lock:
                log = self._counter_log
                while log:
                    self._add_counts(*log.pop())
        return self._counters

    def _add_counts(
        self,
        packets: int,
        created: int,
        removed: int,
        refused_full: int,
        refused_zone: int,
        refused_nat: int,
        invalid: int,
    ) -> None:
        c = self._counters
        c.packets += packets  # one state per packet, so no per-packet count
        c.created += created
        c.removed += removed
        c.refused_full += refused_full
        c.refused_zone += refused_zone
        c.refused_nat += refused_nat
        c.invalid += invalid

    def _exists(self, get: Lookup, key: ConnKey) -> bool:
        """conn_lookup() again, under the lock: forward or reply match."""
        if get(key) is not None:
            return True
        conn = get(reverse_key(key))
        return conn is not None and conn.rev_key is None

    def _nat_taken(self, get: Lookup, rev_key: ConnKey, now: int) -> bool:
        """May a new NAT connection not use ``rev_key``?

        OVS's nat_get_unique_tuple() refuses a reverse key that conn_lookup()
        finds: a live connection's forward or reverse key.  A dict also holds
        one node per key, so a node of an expired connection, which the
        sweeper has not removed yet, blocks the key too.
        """
        if get(rev_key) is not None:
            return True
        conn = get(reverse_key(rev_key))
        return conn is not None and conn.rev_key is None and now < conn.expiration

    def _clean_shared(self, conn: Connection) -> None:
        """conn_clean() from a thread-safe execute: under the lock, and only
        once, however many threads saw the connection expire (OVS's
        ``reclaimed`` flag)."""
        with self.lock:
            if conn in self._exp_lists[conn.exp_list]:
                self._clean(conn)

    # -- removal -------------------------------------------------------------

    def _unlink(self, conn: Connection) -> None:
        key = conn.key
        _, _, delete = self.table.bind(key[ZONE])
        delete(key)
        if conn.rev_key is not None:
            delete(conn.rev_key)
        del self._exp_lists[conn.exp_list][conn]

    def _clean(self, conn: Connection) -> None:
        """conn_clean(): unlink, then fix the counts."""
        self._unlink(conn)
        self.n_conns -= 1
        self._counters.removed += 1
        if self._zone_limited:
            zone = conn.key[ZONE]
            if self.limits.for_zone(zone) is not None:
                self._zone_counts[zone] = self._zone_counts.get(zone, 0) - 1

    def flush(self, zone: int | None = None) -> FlushResult:
        """conntrack_flush(): every connection of ``zone``, or all of them.

        The table decides what is visited: a zone of the single map is a scan
        of every node, a zone of the per-zone maps only that zone's nodes.
        """
        if self.thread_safe:
            with self.lock:
                return self._flush(zone)
        return self._flush(zone)

    def _flush(self, zone: int | None) -> FlushResult:
        if zone is None:
            visited = len(self.table)
            before = self.n_conns
            for key, conn in list(self.table.items()):
                if conn.rev_key is None or key == conn.key:
                    self._clean(conn)
            return FlushResult(visited, before - self.n_conns)
        visited = self.table.zone_scan_size(zone)
        items = self.table.zone_items(zone)
        if not items:
            return FlushResult(visited, 0) if visited else _NOTHING_FLUSHED
        _, _, delete = self.table.bind(zone)
        exp_lists = self._exp_lists
        removed = 0
        for key, conn in items:
            rev_key = conn.rev_key
            if rev_key is None:
                delete(key)
            elif key == conn.key:
                delete(key)
                delete(rev_key)
            else:
                continue  # the reverse node: cleaned with its forward node
            del exp_lists[conn.exp_list][conn]
            removed += 1
        self.n_conns -= removed
        self._counters.removed += removed
        if self._zone_limited and self.limits.for_zone(zone) is not None:
            self._zone_counts[zone] = self._zone_counts.get(zone, 0) - removed
        return FlushResult(visited, removed)

    def sweep(self, now: int, max_clean: int | None = None) -> int:
        """Remove expired connections, walking the expiration lists.

        With ``max_clean`` it behaves like one pass of OVS's clean thread
        (conntrack_clean): it stops after the list where more than
        ``max_clean`` were cleaned and resumes from the next list next time.
        Without, it cleans every expired connection.
        """
        if self.thread_safe:
            with self.lock:
                return self._sweep(now, max_clean)
        return self._sweep(now, max_clean)

    def _sweep(self, now: int, max_clean: int | None) -> int:
        cleaned = 0
        start = self._next_sweep if max_clean is not None else 0
        i = start
        while i < N_EXP_LISTS:
            expired = [c for c in self._exp_lists[i] if now >= c.expiration]
            for conn in expired:
                self._clean(conn)
            cleaned += len(expired)
            i += 1
            if max_clean is not None and cleaned > max_clean:
                break
        if max_clean is not None:
            self._next_sweep = i if i < N_EXP_LISTS else 0
        return cleaned

    # -- inspection ----------------------------------------------------------

    def dump(self, zone: int | None = None, now: int | None = None) -> list[ConnEntry]:
        """conntrack_dump(): forward nodes only; expired ones are skipped
        when ``now`` is given, as OVS's dump does."""
        items = self.table.items() if zone is None else self.table.zone_items(zone)
        entries = []
        for key, conn in items:
            if conn.rev_key is not None and key != conn.key:
                continue
            if now is not None and now >= conn.expiration:
                continue
            proto = key[6]
            entries.append(
                ConnEntry(
                    key=key,
                    rev_key=conn.rev_key or reverse_key(key),
                    proto=proto,
                    state=STATE_NAMES[proto][conn.state],
                    expiration=conn.expiration,
                    nat=conn.rev_key is not None,
                )
            )
        return entries

    def zone_count(self, zone: int) -> int:
        """Connections counted against ``zone``'s limit (0 when unlimited)."""
        return self._zone_counts.get(zone, 0)

    def expiration_list_sizes(self) -> list[int]:
        return [len(lst) for lst in self._exp_lists]
