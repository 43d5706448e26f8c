"""Per-protocol connection states, timeouts and the ct_state a packet gets.

The update rules follow OVS: lib/conntrack-other.c (UDP and every other
protocol but TCP and ICMP) and lib/conntrack-icmp.c here; TCP, with its
sequence windows, is :mod:`ctbench.model.tcp`.  Each function is pure: it
takes a connection's state and the packet, and returns the packet's
ct_state and the new state; the caller stores the state and its
expiration.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ctbench.model import tcp
from ctbench.packets import (
    ICMP6_ECHO_REQUEST,
    ICMP_REQUESTS,
    IPPROTO_ICMP,
    IPPROTO_ICMPV6,
    IPPROTO_TCP,
    IPPROTO_UDP,
    TCP_ACK,
    TCP_SYN,
    CtState,
)

_MS: Final = 1000

# Default timeouts in seconds, lib/conntrack-tp.c (ct_dpif_netdev_tp_def).
# OVS's "other" states FIRST / MULTIPLE / BIDIR use the policy attributes
# UDP_FIRST / UDP_SINGLE / UDP_MULTIPLE.
UDP_FIRST, UDP_MULTIPLE, UDP_BIDIR = 0, 1, 2
UDP_TIMEOUTS_S: Final = (60, 60, 30)
ICMP_FIRST, ICMP_REPLY = 0, 1
ICMP_TIMEOUTS_S: Final = (60, 30)

_OTHER_NAMES: Final = ("first", "multiple", "bidir")
_ICMP_NAMES: Final = ("first", "reply")


def _ms(seconds: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(t * _MS for t in seconds)


# Every IP protocol's states and timeouts, indexed by protocol number, as
# lib/conntrack.c's l4_protos[]: TCP, ICMP and ICMPv6 have their own, every
# other protocol (UDP among them) is conntrack-other's.
_OWN: Final[Mapping[int, tuple[tuple[str, ...], tuple[int, ...]]]] = {
    IPPROTO_TCP: (tcp.NAMES, tcp.TIMEOUTS_S),
    IPPROTO_ICMP: (_ICMP_NAMES, ICMP_TIMEOUTS_S),
    IPPROTO_ICMPV6: (_ICMP_NAMES, ICMP_TIMEOUTS_S),
}
_CLASSES: Final = [_OWN.get(p, (_OTHER_NAMES, UDP_TIMEOUTS_S)) for p in range(256)]
STATE_NAMES: Final[Mapping[int, tuple[str, ...]]] = {
    proto: names for proto, (names, _) in enumerate(_CLASSES)
}
TIMEOUTS_MS: Final[Mapping[int, tuple[int, ...]]] = {
    proto: _ms(seconds) for proto, (_, seconds) in enumerate(_CLASSES)
}
UDP_TIMEOUTS_MS: Final = TIMEOUTS_MS[IPPROTO_UDP]

# A packet's ct_state, as ints.
RELATED: Final = int(CtState.RELATED | CtState.TRACKED)
RELATED_REPLY: Final = int(CtState.RELATED | CtState.REPLY_DIR | CtState.TRACKED)
NEW: Final = int(CtState.NEW | CtState.TRACKED)
EST: Final = int(CtState.ESTABLISHED | CtState.TRACKED)
EST_REPLY: Final = int(CtState.ESTABLISHED | CtState.REPLY_DIR | CtState.TRACKED)
INVALID: Final = int(CtState.INVALID | CtState.TRACKED)
# conn_update() said CT_UPDATE_NEW: the connection is replaced.
UPDATE_NEW: Final = -1


def valid_new(proto: int, key: bytes, flags: int) -> bool:
    """May this packet create a connection (OVS's valid_new())?"""
    if proto == IPPROTO_TCP:
        # A SYN+ACK may not open a connection; totally new or mid-stream may.
        syn_ack = flags & TCP_SYN and flags & TCP_ACK
        return not tcp.invalid_flags(flags) and not syn_ack
    if proto == IPPROTO_ICMP:
        # The type is the first byte of the key's 4-byte source "port",
        # followed by the destination "port", the zone and the protocol.
        return key[-11] in ICMP_REQUESTS
    if proto == IPPROTO_ICMPV6:
        return key[-11] == ICMP6_ECHO_REQUEST
    return True


def udp_update(state: int, reply: bool) -> tuple[int, int]:
    """other_conn_update(): (ct_state, new state).  A reply makes the
    connection BIDIR; a second packet the same way makes FIRST into
    MULTIPLE.  Until a reply has been seen the answer is
    CT_UPDATE_VALID_NEW, so every packet of a one-way flow stays +new."""
    if reply:
        return EST_REPLY, UDP_BIDIR
    if state == UDP_BIDIR:
        return EST, state
    return NEW, UDP_MULTIPLE


def icmp_update(state: int, reply: bool) -> tuple[int, int]:
    """icmp_conn_update(): a reply moves the connection to REPLY; a request
    before any reply answers CT_UPDATE_VALID_NEW, +new."""
    if reply:
        return EST_REPLY, ICMP_REPLY
    if state == ICMP_FIRST:
        return NEW, state
    return EST, state


def update(proto: int, state: int, reply: bool) -> tuple[int, int]:
    """The update of a protocol other than TCP (:mod:`ctbench.model.tcp`):
    (ct_state, new state)."""
    if proto in (IPPROTO_ICMP, IPPROTO_ICMPV6):
        return icmp_update(state, reply)
    return udp_update(state, reply)
