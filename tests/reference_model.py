"""A plain, slow conntrack used as the oracle of the backend contract test.

It keeps connections in a list and finds a packet's connection the way OVS's
``conn_key_lookup`` compares keys: a packet matches a connection when it equals
the forward key (original direction) or the reverse key (reply).  No hashing,
no table, no expiration lists: whatever the real model gets from its table,
this gets from a linear scan.  The per-protocol state machines are the
model's own (they are tested on their own in test_model.py); what this checks
is everything around the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ctbench.model import (
    _INVALID,
    _NEW,
    _TIMEOUTS_MS,
    _UPDATE_NEW,
    STATE_NAMES,
    Connection,
    Counters,
    Limits,
    NatAction,
    _update_icmp,
    _update_tcp,
    _valid_new,
)
from ctbench.packets import (
    IPPROTO_TCP,
    IPPROTO_UDP,
    ZONE,
    ConnKey,
    CtState,
    parse_frame,
    reverse_key,
)


@dataclass
class RefConn:
    key: ConnKey
    rev: ConnKey
    nat: bool
    state: int
    expiration: int


class ReferenceConntrack:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.conns: list[RefConn] = []
        self.counters = Counters()

    @property
    def n_conns(self) -> int:
        return len(self.conns)

    def _find(self, key: ConnKey) -> tuple[RefConn, bool] | None:
        # Exact key nodes first (forward keys, NAT reverse keys), then the
        # reply of a connection without NAT, as the model's table finds them.
        for conn in self.conns:
            if key == conn.key:
                return conn, False
            if conn.nat and key == conn.rev:
                return conn, True
        for conn in self.conns:
            if not conn.nat and key == conn.rev:
                return conn, True
        return None

    def _nodes(self) -> set[ConnKey]:
        nodes = {c.key for c in self.conns}
        nodes.update(c.rev for c in self.conns if c.nat)
        return nodes

    def execute(
        self,
        batch: Sequence[bytes],
        zone: int,
        commit: bool,
        now: int,
        nat: NatAction | None = None,
    ) -> list[int]:
        return [self._one(frame, zone, commit, now, nat) for frame in batch]

    def _one(
        self, frame: bytes, zone: int, commit: bool, now: int, nat: NatAction | None
    ) -> int:
        self.counters.packets += 1
        parsed = parse_frame(frame, zone)
        if parsed is None:
            self.counters.invalid += 1
            return int(CtState.INVALID | CtState.TRACKED)
        key, flags = parsed.key, parsed.tcp_flags
        proto = key[6]
        found = self._find(key)
        if found is not None:
            conn, reply = found
            if now >= conn.expiration:
                if commit:
                    self._remove(conn)
            else:
                result = self._update(conn, proto, reply, flags, now)
                if result != _UPDATE_NEW:
                    return result
                if commit:
                    self._remove(conn)
                else:
                    conn.expiration = 0  # force-expired; the sweeper removes it
        if not _valid_new(proto, key, flags):
            self.counters.invalid += 1
            return _INVALID
        if commit:
            self._create(key, zone, now, nat)
        return _NEW

    def _update(
        self, conn: RefConn, proto: int, reply: bool, flags: int, now: int
    ) -> int:
        # Borrow the model's state machines through a throw-away Connection.
        shadow = Connection(conn.key, None, conn.state, conn.expiration, 0)
        if proto == IPPROTO_UDP:
            # lib/conntrack-other.c other_conn_update(): a reply makes it BIDIR
            # (valid); a second packet the same way makes FIRST into MULTIPLE
            # and answers CT_UPDATE_VALID_NEW (the packet is +new, not +est).
            result = int(
                CtState.ESTABLISHED
                | CtState.TRACKED
                | (CtState.REPLY_DIR if reply else 0)
            )
            if reply:
                shadow.state = 2
            elif shadow.state == 0:
                shadow.state = 1
                result = _NEW
            shadow.expiration = now + _TIMEOUTS_MS[proto][shadow.state]
        elif proto == IPPROTO_TCP:
            result = _update_tcp(shadow, reply, flags, now)
        else:
            result = _update_icmp(shadow, reply, proto, now)
        conn.state, conn.expiration = shadow.state, shadow.expiration
        return result

    def _create(self, key: ConnKey, zone: int, now: int, nat: NatAction | None) -> None:
        zone_limit = self.limits.for_zone(zone)
        in_zone = sum(1 for c in self.conns if c.key[ZONE] == zone)
        if zone_limit is not None and in_zone >= zone_limit:
            self.counters.refused_zone += 1
            return
        if self.limits.conn_limit and self.n_conns >= self.limits.conn_limit:
            self.counters.refused_full += 1
            return
        rev = reverse_key(key)
        if nat is not None:
            rev = nat.reverse_key(key)
            # nat_get_unique_tuple(): taken if a live connection has it as
            # its forward or reverse key, or if any node holds it.
            live_reply = any(
                not c.nat and c.rev == rev and now < c.expiration for c in self.conns
            )
            if rev == key or rev in self._nodes() or live_reply:
                self.counters.refused_nat += 1
                return
        expiration = now + _TIMEOUTS_MS[key[6]][0]
        self.conns.append(RefConn(key, rev, nat is not None, 0, expiration))
        self.counters.created += 1

    def _remove(self, conn: RefConn) -> None:
        self.conns.remove(conn)
        self.counters.removed += 1

    def flush(self, zone: int | None) -> int:
        doomed = [c for c in self.conns if zone is None or c.key[ZONE] == zone]
        for conn in doomed:
            self._remove(conn)
        return len(doomed)

    def sweep(self, now: int) -> int:
        doomed = [c for c in self.conns if now >= c.expiration]
        for conn in doomed:
            self._remove(conn)
        return len(doomed)

    def dump(
        self, zone: int | None, now: int | None
    ) -> list[tuple[ConnKey, ConnKey, int, str, int, bool]]:
        return sorted(
            (c.key, c.rev, c.key[6], STATE_NAMES[c.key[6]][c.state])
            + (c.expiration, c.nat)
            for c in self.conns
            if (zone is None or c.key[ZONE] == zone)
            and (now is None or now < c.expiration)
        )
