"""Frames in, connection keys out: OVS's conn_key_extract(), per frame and in bulk.

Every execute parses every frame, with the checks ``conn_key_extract()``
makes on a packet whose checksums no NIC has verified (ovstest's case): IP
fragments, the L4 lengths and checksums (a zero UDP checksum over IPv4 means
"none"), and port 0, which is invalid.  The IPv4 header checksum is not
checked: lib/flow.c miniflow_extract() marks every IPv4 packet
DP_PACKET_OL_TX_IPV4, and conn_key_extract() then skips that check
(``!dp_packet_hwol_is_ipv4(pkt)``), at both OVS commits ctbench models;
ovstest tracks a frame whose header checksum is wrong.

Three entry points give the same key for the same frame:

- :func:`extract_key` parses any frame and says why an invalid one is
  invalid; :func:`parse_frame` is the same without the reason;
- :data:`UDP4_FAST` is the ``struct`` layout of the per-frame fast path for
  the common frame (Ethernet + IPv4 without options + UDP without checksum),
  whose key is a slice of the frame (:func:`udp4_fast_key`);
- :func:`udp4_bulk` checks many frames of one length with numpy and returns
  their keys as a matrix of bytes, one row per frame.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt

from ctbench.keys import IPV4_PORTS_LEN, ConnKey, make_key, zone_suffix
from ctbench.packets import (
    ETH_HEADER,
    ETH_TYPE_IP,
    ETH_TYPE_IPV6,
    ICMP6_REVERSE,
    ICMP_ECHO,
    ICMP_REVERSE,
    IPPROTO_ICMP,
    IPPROTO_ICMPV6,
    IPPROTO_TCP,
    IPPROTO_UDP,
    IPV4_HEADER,
    IPV6_HEADER,
    PORTS,
    TCP_HEADER,
    UDP_HEADER,
    checksum_ok,
    pseudo_header,
)

# lib/conntrack-tcp.c: the largest window scale, and the flag a peer's
# wscale carries once a SYN said it scales.
TCP_MAX_WSCALE: Final = 14
WSCALE_FLAG: Final = 0x80


class Segment(NamedTuple):
    """What lib/conntrack-tcp.c reads from a TCP packet."""

    flags: int
    seq: int
    ack: int
    win: int
    payload: int  # dp_packet_get_tcp_payload_length()
    wscale: int  # tcp_get_wscale(), read from a SYN's options only


class Parsed(NamedTuple):
    """What conntrack takes from a valid frame.  ``related``: an ICMP error,
    whose key is its embedded packet's, reversed (OVS's icmp_related);
    ``tcp``: a TCP packet's sequence fields."""

    key: ConnKey
    proto: int
    tcp_flags: int
    related: bool = False
    tcp: Segment | None = None


def get_wscale(options: bytes) -> int:
    """tcp_get_wscale() over the TCP options."""
    wscale = 0
    length = len(options)
    i = 0
    while length >= 3:
        kind = options[i]
        if kind == 0:  # TCPOPT_EOL
            return wscale
        if kind == 1:  # TCPOPT_NOP
            i += 1
            length -= 1
            continue
        if kind == 3:  # TCPOPT_WINDOW
            wscale = min(options[i + 2], TCP_MAX_WSCALE) | WSCALE_FLAG
        optlen = max(options[i + 1], 2)
        length -= optlen
        i += optlen
    return wscale


# Why a frame is invalid (conntrack only says +inv; ctbench keeps the reason).
TRUNCATED: Final = "truncated"
BAD_L3: Final = "bad IP header"
FRAGMENT: Final = "IP fragment"
BAD_IPV6_EXT: Final = "bad IPv6 extension header"
BAD_L4: Final = "bad L4 header or length"
BAD_L4_CHECKSUM: Final = "bad L4 checksum"
PORT_ZERO: Final = "port 0"
NOT_ECHO: Final = "ICMP type not tracked"
BAD_ICMP_ERROR: Final = "bad ICMP error"
UNSUPPORTED_L3: Final = "not IPv4 or IPv6"
INVALID_REASONS: Final = (
    TRUNCATED,
    BAD_L3,
    FRAGMENT,
    BAD_IPV6_EXT,
    BAD_L4,
    BAD_L4_CHECKSUM,
    PORT_ZERO,
    NOT_ECHO,
    BAD_ICMP_ERROR,
    UNSUPPORTED_L3,
)

# The per-frame fast path: dl_type, version/IHL, total length, fragment
# field, protocol, source port, destination port, UDP length, UDP checksum.
UDP4_FAST = struct.Struct("!12xHBxH2xH1xB10xHHHH")
# Ethernet 14 + IPv4 20 + UDP 8: the shortest frame the fast path accepts.
UDP4_MIN_LEN: Final = 42
# Bytes of the frame that are the key's endpoints: IPv4 source and
# destination (offsets 26-33) and UDP ports (34-37), in key order.
UDP4_KEY_START: Final = 26
UDP4_KEY_END: Final = 38


def udp4_fast_key(frame: bytes, suffix: bytes) -> ConnKey | None:
    """The key of a frame on the fast path, else None (then
    :func:`parse_frame` decides).  ``suffix`` is
    ``zone_suffix(zone, IPPROTO_UDP)``.  The execute loop inlines this."""
    flen = len(frame)
    if flen < UDP4_MIN_LEN:
        return None
    dl, vihl, total, frag, proto, sport, dport, ulen, ucsum = UDP4_FAST.unpack_from(
        frame
    )
    if (
        dl == ETH_TYPE_IP
        and vihl == 0x45
        and proto == IPPROTO_UDP
        and not frag & 0x3FFF
        and total <= flen - 14
        and not ucsum
        and 8 <= ulen <= total - 20
        and sport
        and dport
    ):
        return frame[UDP4_KEY_START:UDP4_KEY_END] + suffix
    return None


# lib/packets.h eth_type_vlan(): 802.1Q and 802.1ad tags; lib/flow.c
# flow_vlan_limit defaults to FLOW_MAX_VLAN_HEADERS (lib/flow.h).
_VLAN_TYPES: Final = (0x8100, 0x88A8)
FLOW_MAX_VLAN_HEADERS: Final = 2
# IEEE 802.3: a smaller EtherType field is a length (lib/packets.h).
ETH_TYPE_MIN: Final = 0x600
# lib/flow.h: the dl_type of an 802.2 frame without an EtherType.
FLOW_DL_TYPE_NONE: Final = 0x5FF
# LLC DSAP/SSAP 0xAA, control 0x03, SNAP organisation 00:00:00 (RFC 1042).
_LLC_SNAP_ETHERNET: Final = b"\xaa\xaa\x03\x00\x00\x00"
# IANA protocol numbers: IPv6 extension headers lib/flow.c walks, and SCTP.
IPPROTO_HOPOPTS: Final = 0
IPPROTO_ROUTING: Final = 43
IPPROTO_FRAGMENT: Final = 44
IPPROTO_AH: Final = 51
IPPROTO_DSTOPTS: Final = 60
IPPROTO_SCTP: Final = 132
_IPV6_EXT: Final = frozenset(
    (IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_FRAGMENT, IPPROTO_AH, IPPROTO_DSTOPTS)
)
_ICMP_OF: Final = {ETH_TYPE_IP: IPPROTO_ICMP, ETH_TYPE_IPV6: IPPROTO_ICMPV6}
_REVERSE_OF: Final = {ETH_TYPE_IP: ICMP_REVERSE, ETH_TYPE_IPV6: ICMP6_REVERSE}
# The ICMP errors whose embedded packet makes them related traffic:
# extract_l4_icmp() (destination unreachable, source quench, redirect, time
# exceeded, parameter problem) and extract_l4_icmp6() (destination
# unreachable, packet too big, time exceeded, parameter problem).
_ERRORS_OF: Final = {
    ETH_TYPE_IP: frozenset((3, 4, 5, 11, 12)),
    ETH_TYPE_IPV6: frozenset((1, 2, 3, 4)),
}
# extract_l4_tcp/udp/sctp()'s minimum lengths (TCP_HEADER_LEN,
# UDP_HEADER_LEN, SCTP_HEADER_LEN).
_L4_HEADER_LEN: Final = {IPPROTO_TCP: 20, IPPROTO_UDP: 8, IPPROTO_SCTP: 12}
SCTP_HEADER_LEN: Final = 12


def _sctp_chunks_ok(l4: bytes) -> bool:
    """sctp_check_len(): the chunks, each padded to 4 bytes, fill the
    packet exactly."""
    size = len(l4)
    if size < SCTP_HEADER_LEN:
        return False
    pos = SCTP_HEADER_LEN
    while pos < size:
        if pos + 4 > size:
            return False
        length = (l4[pos + 2] << 8) | l4[pos + 3]
        if length < 4:
            return False
        pos += (length + 3) & ~3
    return pos == size


def _crc32c_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)  # RFC 3720 B.4
        table.append(crc)
    return tuple(table)


_CRC32C: Final = _crc32c_table()


def sctp_checksum_ok(l4: bytes) -> bool:
    """RFC 4960 6.8: CRC32c over the packet with its checksum field zeroed,
    stored least significant byte first."""
    crc = 0xFFFFFFFF
    table = _CRC32C
    for byte in l4[:8] + b"\0\0\0\0" + l4[12:]:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return (crc ^ 0xFFFFFFFF) == int.from_bytes(l4[8:12], "little")


def _key(
    src: int, dst: int, sport: int, dport: int, dl_type: int, zone: int, proto: int
) -> ConnKey:
    return make_key(src, dst, sport, dport, dl_type, zone, proto)


def _inner(
    outer_dst: int,
    l3: bytes,
    dl_type: int,
    zone: int,
) -> Parsed | str:
    """extract_l4_icmp*()'s embedded packet of an ICMP error: its IP header
    (not checked beyond its lengths, as OVS calls extract_l3_*() with no
    checksum check), source equal to the error's destination, and the first
    bytes of its L4 header; the key is reversed, so that it is the reply
    direction of the connection the error is about."""
    if dl_type == ETH_TYPE_IP:
        if len(l3) < IPV4_HEADER.size:
            return BAD_ICMP_ERROR
        vihl, _, _, _, frag, _, proto, _, src, dst = IPV4_HEADER.unpack_from(l3)
        ihl = (vihl & 0x0F) * 4
        if ihl < IPV4_HEADER.size or len(l3) < ihl or frag & 0x3FFF:
            return BAD_ICMP_ERROR
        l4 = l3[ihl:]
        # ICMP_ERROR_DATA_L4_LEN: the error carries 8 bytes of L4 header.
        need = 8
    else:
        if len(l3) < IPV6_HEADER.size:
            return BAD_ICMP_ERROR
        _, _, nxt, _, src6, dst6 = IPV6_HEADER.unpack_from(l3)
        walked = _ipv6_ext(l3, IPV6_HEADER.size, len(l3), nxt)
        if isinstance(walked, str):
            return BAD_ICMP_ERROR
        start, proto = walked
        l4 = l3[start:]
        src = int.from_bytes(src6, "big")
        dst = int.from_bytes(dst6, "big")
        need = 0  # extract_l4_icmp6() passes no chk_len: full headers
    if src != outer_dst:
        return BAD_ICMP_ERROR
    if proto in _L4_HEADER_LEN:
        if len(l4) < (need or _L4_HEADER_LEN[proto]):
            return BAD_ICMP_ERROR
        sport, dport = PORTS.unpack_from(l4)
        if not sport or not dport:
            return BAD_ICMP_ERROR
    elif proto == _ICMP_OF[dl_type]:
        if len(l4) < ICMP_ECHO.size:
            return BAD_ICMP_ERROR
        icmp_type, code, _, ident, _ = ICMP_ECHO.unpack_from(l4)
        rev_type = _REVERSE_OF[dl_type].get(icmp_type)
        if rev_type is None or code:
            return BAD_ICMP_ERROR  # an error about an error, or a bad code
        sport = (icmp_type << 24) | ident
        dport = (rev_type << 24) | ident
    else:
        sport = dport = 0  # other protocols have no L4 key
    return Parsed(_key(dst, src, dport, sport, dl_type, zone, proto), proto, 0, True)


def _l4(
    proto: int,
    l4: bytes,
    pseudo: bytes,
    src: int,
    dst: int,
    dl_type: int,
    zone: int,
    verify: bool,
) -> Parsed | str:
    """OVS's extract_l4(): check_l4_*() (lengths, checksums), then
    extract_l4_*().  ``pseudo`` is the checksum pseudo-header; ``verify``
    False trusts the L4 checksum, as OVS does when the NIC has checked it."""
    if proto == IPPROTO_UDP:
        if len(l4) < UDP_HEADER.size:
            return TRUNCATED
        sport, dport, udp_len, csum = UDP_HEADER.unpack_from(l4)
        if udp_len < UDP_HEADER.size or udp_len > len(l4):
            return BAD_L4
        # check_l4_udp(): a zero checksum means "none", over IPv4 only.
        if verify and (csum or dl_type != ETH_TYPE_IP) and not checksum_ok(pseudo, l4):
            return BAD_L4_CHECKSUM
        if not sport or not dport:
            return PORT_ZERO  # extract_l4_udp(): port 0 is invalid
        return Parsed(_key(src, dst, sport, dport, dl_type, zone, proto), proto, 0)
    if proto == IPPROTO_TCP:
        if len(l4) < TCP_HEADER.size:
            return TRUNCATED
        sport, dport, seq, ack, offset, flags, win, *_ = TCP_HEADER.unpack_from(l4)
        header = (offset >> 4) * 4
        if header < TCP_HEADER.size or header > len(l4):
            return BAD_L4
        if verify and not checksum_ok(pseudo, l4):
            return BAD_L4_CHECKSUM  # check_l4_tcp()
        if not sport or not dport:
            return PORT_ZERO  # extract_l4_tcp()
        key = _key(src, dst, sport, dport, dl_type, zone, proto)
        # TCP_FLAGS(): the low 12 bits of the offset/flags field.
        flags |= (offset & 0x0F) << 8
        wscale = get_wscale(l4[TCP_HEADER.size : header]) if flags & 0x02 else 0
        segment = Segment(flags, seq, ack, win, len(l4) - header, wscale)
        return Parsed(key, proto, flags, tcp=segment)
    if proto == IPPROTO_SCTP:
        if not _sctp_chunks_ok(l4):
            return BAD_L4  # sctp_check_len()
        if verify and not sctp_checksum_ok(l4):
            return BAD_L4_CHECKSUM
        sport, dport = PORTS.unpack_from(l4)
        if not sport or not dport:
            return PORT_ZERO
        return Parsed(_key(src, dst, sport, dport, dl_type, zone, proto), proto, 0)
    if proto == _ICMP_OF[dl_type]:
        v4_icmp = dl_type == ETH_TYPE_IP
        # check_l4_icmp() sums the message alone, check_l4_icmp6() with the
        # pseudo-header.
        if verify and not checksum_ok(b"" if v4_icmp else pseudo, l4):
            return BAD_L4_CHECKSUM
        # extract_l4_icmp() needs the 8-byte header; extract_l4_icmp6() the
        # 4-byte one and 4 more bytes.
        if len(l4) < ICMP_ECHO.size:
            return TRUNCATED
        icmp_type, code, _, ident, _ = ICMP_ECHO.unpack_from(l4)
        if icmp_type in _ERRORS_OF[dl_type]:
            inner_start = 8
            return _inner(dst, l4[inner_start:], dl_type, zone)
        rev_type = _REVERSE_OF[dl_type].get(icmp_type)
        if rev_type is None or code:
            # Neither a query OVS tracks nor an error: invalid.  So is a
            # query with a nonzero code.
            return NOT_ECHO
        sport = (icmp_type << 24) | ident
        dport = (rev_type << 24) | ident
        return Parsed(_key(src, dst, sport, dport, dl_type, zone, proto), proto, 0)
    # extract_l4(): "For all other protocols we do not have L4 keys, so keep
    # them zero"; conntrack-other tracks them.
    return Parsed(_key(src, dst, 0, 0, dl_type, zone, proto), proto, 0)


def _ipv6_ext(data: bytes, start: int, end: int, nxt: int) -> tuple[int, int] | str:
    """lib/flow.c parse_ipv6_ext_hdrs__() over ``data[start:end]``: the
    offset of the upper-layer header and its protocol, FRAGMENT for any
    fragment but an atomic one (offset 0, no more fragments: conntrack's
    extract_l3_ipv6() refuses any ``nw_frag``), or BAD_IPV6_EXT."""
    while nxt in _IPV6_EXT:
        # Every extension header is at least 8 bytes.
        if end - start < 8:
            return BAD_IPV6_EXT
        if nxt == IPPROTO_FRAGMENT:
            offlg = int.from_bytes(data[start + 2 : start + 4], "big")
            nxt = data[start]
            start += 8
            if offlg:
                return FRAGMENT
            continue
        length = data[start + 1]
        # AH counts 4-byte words less 2, the others 8-byte words less 1.
        size = (length + 2) * 4 if nxt == IPPROTO_AH else (length + 1) * 8
        nxt = data[start]
        if end - start < size:
            return BAD_IPV6_EXT
        start += size
    return start, nxt


def l3_start(frame: bytes) -> tuple[int, int]:
    """The frame's L3 type (flow.dl_type) and where its L3 header starts,
    as miniflow_extract()'s parse_vlan() and parse_ethertype() find them:
    up to two VLAN tags, then an EtherType or LLC/SNAP.  A frame shorter
    than an Ethernet header has type 0; an 802.2 frame that is not SNAP,
    :data:`FLOW_DL_TYPE_NONE`."""
    flen = len(frame)
    if flen < ETH_HEADER.size:
        return 0, flen
    # parse_vlan(): tags while at least a tag and an EtherType remain.
    off = 12
    dl_type = (frame[12] << 8) | frame[13]
    tags = 0
    while dl_type in _VLAN_TYPES and tags < FLOW_MAX_VLAN_HEADERS:
        if flen - off < 6:
            break
        off += 4
        tags += 1
        dl_type = (frame[off] << 8) | frame[off + 1]
    off += 2
    if dl_type < ETH_TYPE_MIN:
        # parse_ethertype(): an 802.2 frame is IP only inside LLC/SNAP.
        if frame[off : off + 6] != _LLC_SNAP_ETHERNET or flen - off < 8:
            return FLOW_DL_TYPE_NONE, off
        dl_type = (frame[off + 6] << 8) | frame[off + 7]
        off += 8
        if dl_type < ETH_TYPE_MIN:
            return FLOW_DL_TYPE_NONE, off
    return dl_type, off


def extract_key(frame: bytes, zone: int, verify_l4: bool = True) -> Parsed | str:
    """The frame's key, or the reason conntrack would call it invalid.

    The frame is read as lib/flow.c miniflow_extract() reads it (up to two
    VLAN tags, LLC/SNAP, the IPv4 and IPv6 sanity checks, IPv6 extension
    headers, Ethernet padding), then as conn_key_extract() does.  Never
    raises on malformed input: truncated headers, bad lengths, fragments and
    unknown protocols all give a reason.
    """
    if len(frame) < ETH_HEADER.size:
        return TRUNCATED
    dl_type, off = l3_start(frame)
    if dl_type == ETH_TYPE_IP:
        l3 = frame[off:]
        # ipv4_sanity_check(), then conn_key_extract()'s extract_l3_ipv4().
        if len(l3) < IPV4_HEADER.size:
            return TRUNCATED
        vihl, _, total, _, frag, _, proto, _, src, dst = IPV4_HEADER.unpack_from(l3)
        ihl = (vihl & 0x0F) * 4
        if ihl < IPV4_HEADER.size or total < ihl:
            return BAD_L3
        if ihl > len(l3) or total > len(l3):
            return TRUNCATED
        if len(l3) - total > 0xFFFF:
            return BAD_L3  # ipv4_sanity_check(): padding over 64 KiB
        if frag & 0x3FFF:
            return FRAGMENT
        l3 = l3[:total]  # never the padding
        l4 = l3[ihl:]
        pseudo = pseudo_header(dl_type, l3[12:16], l3[16:20], proto, len(l4))
        return _l4(proto, l4, pseudo, src, dst, dl_type, zone, verify_l4)
    if dl_type == ETH_TYPE_IPV6:
        l3 = frame[off:]
        if len(l3) < IPV6_HEADER.size:
            return TRUNCATED
        _, payload_len, nxt, _, src6, dst6 = IPV6_HEADER.unpack_from(l3)
        # ipv6_sanity_check() does not look at the version either.
        if IPV6_HEADER.size + payload_len > len(l3):
            return TRUNCATED
        if len(l3) - IPV6_HEADER.size - payload_len > 0xFFFF:
            return BAD_L3  # ipv6_sanity_check(): padding over 64 KiB
        l3 = l3[: IPV6_HEADER.size + payload_len]
        walked = _ipv6_ext(l3, IPV6_HEADER.size, len(l3), nxt)
        if isinstance(walked, str):
            return walked
        start, proto = walked
        l4 = l3[start:]
        src = int.from_bytes(src6, "big")
        dst = int.from_bytes(dst6, "big")
        pseudo = pseudo_header(dl_type, src6, dst6, proto, len(l4))
        return _l4(proto, l4, pseudo, src, dst, dl_type, zone, verify_l4)
    return UNSUPPORTED_L3


def parse_frame(frame: bytes, zone: int) -> Parsed | None:
    """The frame's key, or None for a frame conntrack calls invalid."""
    parsed = extract_key(frame, zone)
    return parsed if isinstance(parsed, Parsed) else None


Bytes2D = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.bool_]


# Bytes of the fast path's fixed fields, read as one little-endian 64-bit
# word per frame: EtherType (12-13), version/IHL (14), fragment field
# (20-21; only the offset and MF bits, 0x3FFF, must be 0), protocol (23),
# UDP checksum (40-41).
_FIXED_OFFSETS: Final = np.array([12, 13, 14, 20, 21, 23, 40, 41])
_FIXED_MASK: Final = np.frombuffer(
    bytes([0xFF, 0xFF, 0xFF, 0x3F, 0xFF, 0xFF, 0xFF, 0xFF]), np.uint64
)[0]
_FIXED_VALUE: Final = np.frombuffer(
    bytes([0x08, 0x00, 0x45, 0, 0, IPPROTO_UDP, 0, 0]), np.uint64
)[0]
# Total length (16-17), source and destination port (34-37), UDP length
# (38-39), as big-endian 16-bit words.
_FIELD_OFFSETS: Final = np.array([16, 17, 34, 35, 36, 37, 38, 39])


def udp4_bulk(frames: Sequence[bytes], zone: int) -> tuple[Mask, Bytes2D]:
    """The frames of one length (at least :data:`UDP4_MIN_LEN`) that take
    the fast path, and every frame's key bytes: a matrix of one
    15-byte row per frame, meaningful where the mask is True.

    The checks are :func:`udp4_fast_key`'s, on numpy columns; the keys are
    the frame's endpoint bytes followed by the zone and the protocol.
    """
    n = len(frames)
    length = len(frames[0])
    raw = np.frombuffer(b"".join(frames), np.uint8).reshape(n, length)
    fixed = raw.take(_FIXED_OFFSETS, axis=1).view(np.uint64)[:, 0]
    fast = (fixed & _FIXED_MASK) == _FIXED_VALUE
    fields = raw.take(_FIELD_OFFSETS, axis=1).view(np.uint16).byteswap()
    total = fields[:, 0].astype(np.int32)
    udp_len = fields[:, 3].astype(np.int32)
    fast &= total <= length - 14
    fast &= udp_len >= 8
    fast &= udp_len + 20 <= total
    fast &= fields[:, 1] != 0
    fast &= fields[:, 2] != 0
    keys = np.empty((n, IPV4_PORTS_LEN), np.uint8)
    keys[:, : UDP4_KEY_END - UDP4_KEY_START] = raw[:, UDP4_KEY_START:UDP4_KEY_END]
    keys[:, UDP4_KEY_END - UDP4_KEY_START :] = np.frombuffer(
        zone_suffix(zone, IPPROTO_UDP), np.uint8
    )
    return fast, keys
