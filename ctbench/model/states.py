"""Per-protocol connection states, timeouts and the ct_state a packet gets.

The update rules follow OVS: lib/conntrack-other.c (UDP and other
protocols), lib/conntrack-icmp.c and lib/conntrack-tcp.c, the last one
coarsened: ctbench follows TCP's states and OVS's flag checks, not pf's
sequence windows.  Each function is pure: it takes a connection's state
and the packet, and returns the packet's ct_state and the new state; the
caller stores the state and its expiration.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ctbench.packets import (
    ICMP6_ECHO_REQUEST,
    ICMP_REQUESTS,
    IPPROTO_ICMP,
    IPPROTO_ICMPV6,
    IPPROTO_TCP,
    IPPROTO_UDP,
    TCP_ACK,
    TCP_FIN,
    TCP_PSH,
    TCP_RST,
    TCP_SYN,
    CtState,
)

# RFC 9293: the URG flag, which tcp_invalid_flags() looks at.
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

_TCP_NAMES: Final = (
    "syn-sent",
    "syn-recv",
    "established",
    "fin-wait",
    "fin-wait",
    "time-wait",
    "closed",
)
_OTHER_NAMES: Final = ("first", "multiple", "bidir")
_ICMP_NAMES: Final = ("first", "reply")


def _ms(seconds: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(t * _MS for t in seconds)


# Every IP protocol's states and timeouts, indexed by protocol number, as
# lib/conntrack.c's l4_protos[]: TCP, ICMP and ICMPv6 have their own, every
# other protocol (UDP among them) is conntrack-other's.
STATE_NAMES: Final[Mapping[int, tuple[str, ...]]] = {
    proto: (
        _TCP_NAMES
        if proto == IPPROTO_TCP
        else _ICMP_NAMES
        if proto in (IPPROTO_ICMP, IPPROTO_ICMPV6)
        else _OTHER_NAMES
    )
    for proto in range(256)
}
TIMEOUTS_MS: Final[Mapping[int, tuple[int, ...]]] = {
    proto: _ms(
        TCP_TIMEOUTS_S
        if proto == IPPROTO_TCP
        else ICMP_TIMEOUTS_S
        if proto in (IPPROTO_ICMP, IPPROTO_ICMPV6)
        else UDP_TIMEOUTS_S
    )
    for proto in range(256)
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


def tcp_invalid_flags(flags: int) -> bool:
    """lib/conntrack-tcp.c tcp_invalid_flags()."""
    if flags & TCP_SYN:
        if flags & (TCP_RST | TCP_FIN):
            return True
    elif not flags & (TCP_ACK | TCP_RST):
        return True
    return not flags & TCP_ACK and bool(flags & (TCP_FIN | TCP_PSH | TCP_URG))


def valid_new(proto: int, key: bytes, flags: int) -> bool:
    """May this packet create a connection (OVS's valid_new())?"""
    if proto == IPPROTO_TCP:
        # A SYN+ACK may not open a connection; totally new or mid-stream may.
        syn_ack = flags & TCP_SYN and flags & TCP_ACK
        return not tcp_invalid_flags(flags) and not syn_ack
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


def tcp_update(state: int, reply: bool, flags: int) -> tuple[int, int]:
    """Coarse TCP update: (ct_state or UPDATE_NEW, new state).  An invalid
    packet leaves the state (and the expiration) as they were."""
    if tcp_invalid_flags(flags):
        return INVALID, state
    valid = False
    if flags & TCP_RST:
        state = TCP_CLOSED
    elif flags & TCP_SYN and not flags & TCP_ACK:
        if state in (TCP_TIME_WAIT, TCP_CLOSED):
            return UPDATE_NEW, state
        if state == TCP_SYN_SENT:
            valid = True
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
    if valid:
        return NEW, state
    return (EST_REPLY if reply else EST), state


def update(proto: int, state: int, reply: bool, flags: int) -> tuple[int, int]:
    """The protocol's update: (ct_state or UPDATE_NEW, new state)."""
    if proto == IPPROTO_TCP:
        return tcp_update(state, reply, flags)
    if proto in (IPPROTO_ICMP, IPPROTO_ICMPV6):
        return icmp_update(state, reply)
    return udp_update(state, reply)
