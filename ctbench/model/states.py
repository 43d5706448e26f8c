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
TIMEOUTS_MS: Final[Mapping[int, tuple[int, ...]]] = {
    IPPROTO_UDP: tuple(t * _MS for t in UDP_TIMEOUTS_S),
    IPPROTO_ICMP: tuple(t * _MS for t in ICMP_TIMEOUTS_S),
    IPPROTO_ICMPV6: tuple(t * _MS for t in ICMP_TIMEOUTS_S),
    IPPROTO_TCP: tuple(t * _MS for t in TCP_TIMEOUTS_S),
}
UDP_TIMEOUTS_MS: Final = TIMEOUTS_MS[IPPROTO_UDP]

# A packet's ct_state, as ints.
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
    if proto in (IPPROTO_ICMP, IPPROTO_ICMPV6):
        request = ICMP_ECHO_REQUEST if proto == IPPROTO_ICMP else ICMP6_ECHO_REQUEST
        # The type is the first byte of the key's 4-byte source "port",
        # followed by the destination "port", the zone and the protocol.
        return key[-11] == request
    return True


def udp_update(state: int, reply: bool) -> tuple[int, int]:
    """other_conn_update(): (ct_state, new state).  A reply makes the
    connection BIDIR; a second packet the same way makes FIRST into
    MULTIPLE and answers CT_UPDATE_VALID_NEW, so that packet stays +new."""
    if reply:
        return EST_REPLY, UDP_BIDIR
    if state == UDP_FIRST:
        return NEW, UDP_MULTIPLE
    return EST, state


def icmp_update(state: int, reply: bool) -> tuple[int, int]:
    """icmp_conn_update(): a reply moves the connection to REPLY."""
    if reply:
        return EST_REPLY, ICMP_REPLY
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
    if proto == IPPROTO_UDP:
        return udp_update(state, reply)
    if proto == IPPROTO_TCP:
        return tcp_update(state, reply, flags)
    return icmp_update(state, reply)
