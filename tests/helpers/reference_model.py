"""A plain, slow conntrack used as the oracle of the backend contract test.

It keeps connections in a list and finds a packet's connection the way OVS's
``conn_key_lookup`` compares keys: a packet matches a connection when it equals
the forward key (original direction) or the reverse key (reply).  No hashing,
no table, no columns, no expiration lists: whatever the real model gets from
its table, this gets from a linear scan.  The per-protocol state machines are
the model's own (``ctbench.model.states``, tested on their own in
tests/model/test_states.py); what this checks is everything around the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ctbench.keys import ConnKey, key_proto, key_zone, reverse_key
from ctbench.model import STATE_NAMES, Counters, Limits, NatAction, tcp
from ctbench.model.states import (
    EST,
    INVALID,
    NEW,
    RELATED,
    RELATED_REPLY,
    TIMEOUTS_MS,
    UPDATE_NEW,
    update,
    valid_new,
)
from ctbench.model.states import (
    EST_REPLY as REPLY,
)
from ctbench.packets import IPPROTO_TCP
from ctbench.parse import parse_frame


@dataclass
class RefConn:
    key: ConnKey
    rev: ConnKey
    nat: bool
    state: int
    expiration: int
    tcp: list[int] | None = None  # ctbench.model.tcp's peers


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

    def nodes(self) -> set[ConnKey]:
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
            return INVALID
        key, proto, flags, related, segment = parsed
        found = self._find(key)
        if related:
            if found is None or now >= found[0].expiration:
                self.counters.invalid += 1
                return INVALID
            return RELATED_REPLY if found[1] else RELATED
        if found is not None:
            conn, reply = found
            if now >= conn.expiration:
                if commit:
                    self._remove(conn)
            elif proto == IPPROTO_TCP:
                assert conn.tcp is not None and segment is not None
                outcome, timeout = tcp.update(conn.tcp, reply, segment)
                if outcome == tcp.INVALID:
                    return INVALID
                if outcome != tcp.NEW:
                    if timeout is not None:
                        conn.state = timeout
                        conn.expiration = now + TIMEOUTS_MS[proto][timeout]
                    if outcome == tcp.VALID_NEW:
                        return NEW
                    return REPLY if reply else EST
                if commit:
                    self._remove(conn)
                else:
                    conn.expiration = 0
            else:
                result, state = update(proto, conn.state, reply)
                if result != UPDATE_NEW:
                    conn.state = state
                    conn.expiration = now + TIMEOUTS_MS[proto][state]
                    return result
                if commit:
                    self._remove(conn)
                else:
                    conn.expiration = 0  # force-expired; the sweeper removes it
        if not valid_new(proto, key, flags):
            self.counters.invalid += 1
            return INVALID
        if commit:
            self._create(key, zone, now, nat)
            if proto == IPPROTO_TCP and self.conns and self.conns[-1].key == key:
                assert segment is not None
                self.conns[-1].tcp = tcp.new_peers(segment)
        return NEW

    def _create(self, key: ConnKey, zone: int, now: int, nat: NatAction | None) -> None:
        zone_limit = self.limits.for_zone(zone)
        in_zone = sum(1 for c in self.conns if key_zone(c.key) == zone)
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
            if rev == key or rev in self.nodes() or live_reply:
                self.counters.refused_nat += 1
                return
        expiration = now + TIMEOUTS_MS[key_proto(key)][0]
        self.conns.append(RefConn(key, rev, nat is not None, 0, expiration))
        self.counters.created += 1

    def _remove(self, conn: RefConn) -> None:
        self.conns.remove(conn)
        self.counters.removed += 1

    def flush(self, zone: int | None) -> int:
        doomed = [c for c in self.conns if zone is None or key_zone(c.key) == zone]
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
            (c.key, c.rev, key_proto(c.key), STATE_NAMES[key_proto(c.key)][c.state])
            + (c.expiration, c.nat)
            for c in self.conns
            if (zone is None or key_zone(c.key) == zone)
            and (now is None or now < c.expiration)
        )
