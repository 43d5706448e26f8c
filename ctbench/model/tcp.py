"""TCP connection tracking as OVS does it: lib/conntrack-tcp.c, pf's
sequence-window algorithm (Guido van Rooij's), ported line for line.

A connection's TCP state is its two peers' (the original direction's and
the reply's): the highest sequence number each has sent (``seqlo``), the
highest the other end may send (``seqhi``), the largest window seen, the
window scale and pf's state, kept in one list of ten ints per connection
(:data:`PEER_FIELDS` for each peer).  Sequence numbers are 32-bit and
compared modulo 2^32 (SEQ_GEQ and friends).  OVS checks sequence windows
unless ``tcp_seq_chk`` is off (it is on by default, and in ovstest).
"""

from __future__ import annotations

from typing import Final

from ctbench.packets import TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN
from ctbench.parse import TCP_MAX_WSCALE, WSCALE_FLAG, Segment

# RFC 9293: the URG flag, which tcp_invalid_flags() looks at.
TCP_URG: Final = 0x20

# lib/ct-dpif.h CT_DPIF_TCP_STATES, in order.
(
    CLOSED,
    LISTEN,
    SYN_SENT,
    SYN_RECV,
    ESTABLISHED,
    CLOSE_WAIT,
    FIN_WAIT_1,
    CLOSING,
    LAST_ACK,
    FIN_WAIT_2,
    TIME_WAIT,
) = range(11)

# lib/conntrack-tcp.c window-scale bits.
WSCALE_UNKNOWN: Final = 0x40
WSCALE_MASK: Final = 0xF
# MAXACKWINDOW: "1500 is an arbitrary fudge factor".
MAX_ACK_WINDOW: Final = 0xFFFF + 1500
_U32: Final = 0xFFFFFFFF

# A peer's fields in the ten-int list; the reply peer's start at 5.
SEQLO, SEQHI, MAX_WIN, WSCALE, STATE = range(5)
PEER_FIELDS: Final = 5

# The timeouts conn_update_expiration() sets (lib/conntrack-tp.h
# CT_TM_TCP_*), as the connection's state index, and their default lengths
# in seconds (lib/conntrack-tp.c ct_dpif_netdev_tp_def: SYN_SENT, SYN_RECV,
# ESTABLISHED, FIN_WAIT, TIME_WAIT, CLOSE).
(
    TM_FIRST_PACKET,
    TM_OPENING,
    TM_ESTABLISHED,
    TM_CLOSING,
    TM_FIN_WAIT,
    TM_CLOSED,
) = range(6)
TIMEOUTS_S: Final = (30, 30, 86400, 900, 45, 30)
NAMES: Final = (
    "syn-sent",
    "syn-recv",
    "established",
    "fin-wait",
    "time-wait",
    "closed",
)

# enum ct_update_res.
VALID, INVALID, NEW, VALID_NEW = range(4)


def invalid_flags(flags: int) -> bool:
    """tcp_invalid_flags()."""
    if flags & TCP_SYN:
        if flags & (TCP_RST | TCP_FIN):
            return True
    elif not flags & (TCP_ACK | TCP_RST):
        return True
    return not flags & TCP_ACK and bool(flags & (TCP_FIN | TCP_PSH | TCP_URG))


def _geq(a: int, b: int) -> bool:
    return ((a - b) & _U32) < 0x80000000


def _gt(a: int, b: int) -> bool:
    return 0 < ((a - b) & _U32) < 0x80000000


def _s32(value: int) -> int:
    value &= _U32
    return value - 0x100000000 if value & 0x80000000 else value


def new_peers(seg: Segment) -> list[int]:
    """tcp_new_conn(): the peers of a connection this packet creates."""
    src_wscale = seg.wscale if seg.flags & TCP_SYN else WSCALE_UNKNOWN
    dst_wscale = 0 if seg.flags & TCP_SYN else WSCALE_UNKNOWN
    seqhi = seg.seq + seg.payload + 1
    if seg.flags & TCP_SYN:
        seqhi += 1
    if seg.flags & TCP_FIN:
        seqhi += 1
    max_win = max(seg.win, 1)
    if src_wscale & WSCALE_MASK:
        scale = 1 << (src_wscale & WSCALE_MASK)
        max_win = -(-max_win // scale)  # DIV_ROUND_UP
    return [
        seg.seq,
        seqhi & _U32,
        max_win,
        src_wscale,
        SYN_SENT,
        0,
        1,
        1,
        dst_wscale,
        CLOSED,
    ]


def update(p: list[int], reply: bool, seg: Segment) -> tuple[int, int | None]:
    """tcp_conn_update(): the result (VALID, INVALID, NEW or VALID_NEW) and
    the timeout to set (None: leave the expiration).  ``p`` is updated."""
    s = PEER_FIELDS if reply else 0  # the peer that sent the packet
    d = 0 if reply else PEER_FIELDS  # the peer it goes to
    flags = seg.flags
    if invalid_flags(flags):
        return INVALID, None
    if flags & (TCP_SYN | TCP_ACK) == TCP_SYN:
        if p[d + STATE] >= FIN_WAIT_2 and p[s + STATE] >= FIN_WAIT_2:
            p[s + STATE] = p[d + STATE] = CLOSED
            return NEW, None
        if p[s + STATE] <= SYN_SENT:
            p[s + STATE] = SYN_SENT
            return VALID_NEW, TM_FIRST_PACKET
    sws = dws = 0
    src_ws, dst_ws = p[s + WSCALE], p[d + WSCALE]
    if src_ws & WSCALE_FLAG and dst_ws & WSCALE_FLAG and not flags & TCP_SYN:
        sws = src_ws & WSCALE_MASK
        dws = dst_ws & WSCALE_MASK
    elif src_ws & WSCALE_UNKNOWN and dst_ws & WSCALE_UNKNOWN and not flags & TCP_SYN:
        sws = dws = TCP_MAX_WSCALE
    win = seg.win
    orig_seq = seq = seg.seq
    ack = seg.ack
    end = (seq + seg.payload) & _U32
    if flags & TCP_SYN:
        end = (end + 1) & _U32
    if flags & TCP_FIN:
        end = (end + 1) & _U32
    check_ackskew = True
    if p[s + STATE] < SYN_SENT:
        # The first packet from this end.
        if flags & TCP_SYN and p[d + WSCALE] & WSCALE_FLAG:
            p[s + WSCALE] = seg.wscale
            if p[s + WSCALE] & WSCALE_FLAG:
                sws = p[s + WSCALE] & WSCALE_MASK
                win = -(-win // (1 << sws))
                dws = p[d + WSCALE] & WSCALE_MASK
            else:
                # Fix up the other window (uint16_t max_win).
                p[d + MAX_WIN] = (
                    p[d + MAX_WIN] << (p[d + WSCALE] & WSCALE_MASK)
                ) & 0xFFFF
                p[d + WSCALE] = 0
        p[s + SEQLO] = seq
        p[s + STATE] = SYN_SENT
        reach = (end + max(1, p[d + MAX_WIN] << dws)) & _U32
        if p[s + SEQHI] == 1 or _geq(reach, p[s + SEQHI]):
            p[s + SEQHI] = reach
            check_ackskew = False
        if win > p[s + MAX_WIN]:
            p[s + MAX_WIN] = win
    if not flags & TCP_ACK:
        ack = p[d + SEQLO]
    elif ack == 0 and flags & (TCP_ACK | TCP_RST) == (TCP_ACK | TCP_RST):
        ack = p[d + SEQLO]
    if seq == end:
        seq = end = p[s + SEQLO]
    ackskew = _s32(p[d + SEQLO] - ack) if check_ackskew else 0
    seqlo = p[s + SEQLO]
    if (
        _geq(p[s + SEQHI], end)
        and _geq(seq, (seqlo - (p[d + MAX_WIN] << dws)) & _U32)
        and ackskew >= -MAX_ACK_WINDOW
        and ackskew <= MAX_ACK_WINDOW << sws
        and (
            not flags & TCP_RST
            or orig_seq == seqlo
            or orig_seq == (seqlo + 1) & _U32
            or (orig_seq + 1) & _U32 == seqlo
        )
    ):
        _advance(p, s, d, win, end, ack, sws)
        if flags & TCP_SYN and p[s + STATE] < SYN_SENT:
            p[s + STATE] = SYN_SENT
        if flags & TCP_FIN and p[s + STATE] < CLOSING:
            p[s + STATE] = CLOSING
        if flags & TCP_ACK:
            if p[d + STATE] == SYN_SENT:
                p[d + STATE] = ESTABLISHED
            elif p[d + STATE] == CLOSING:
                p[d + STATE] = FIN_WAIT_2
        if flags & TCP_RST:
            p[s + STATE] = p[d + STATE] = TIME_WAIT
        src, dst = p[s + STATE], p[d + STATE]
        if src >= FIN_WAIT_2 and dst >= FIN_WAIT_2:
            return VALID, TM_CLOSED
        if src >= CLOSING and dst >= CLOSING:
            return VALID, TM_FIN_WAIT
        if src < ESTABLISHED or dst < ESTABLISHED:
            return VALID, TM_OPENING
        if src >= CLOSING or dst >= CLOSING:
            return VALID, TM_CLOSING
        return VALID, TM_ESTABLISHED
    if (
        (
            p[d + STATE] < SYN_SENT
            or p[d + STATE] >= FIN_WAIT_2
            or p[s + STATE] >= FIN_WAIT_2
        )
        and _geq((p[s + SEQHI] + MAX_ACK_WINDOW) & _U32, end)
        and _geq(seq, (seqlo - MAX_ACK_WINDOW) & _U32)
    ):
        # Shotgunned SYNs, a stream picked up after establishment, or odd
        # packets right after a close: accepted, the timeout left alone.
        _advance(p, s, d, win, end, ack, sws)
        if flags & TCP_FIN and p[s + STATE] < CLOSING:
            p[s + STATE] = CLOSING
        if flags & TCP_RST:
            p[s + STATE] = p[d + STATE] = TIME_WAIT
        return VALID, None
    return INVALID, None


def _advance(
    p: list[int], s: int, d: int, win: int, end: int, ack: int, sws: int
) -> None:
    """Both branches' window updates: the largest window, the sequence
    sent, and how far the other end may send."""
    if p[s + MAX_WIN] < win:
        p[s + MAX_WIN] = win
    if _gt(end, p[s + SEQLO]):
        p[s + SEQLO] = end
    if _geq((ack + (win << sws)) & _U32, p[d + SEQHI]):
        p[d + SEQHI] = (ack + max(win << sws, 1)) & _U32
