"""Frames in, connection keys out: OVS's conn_key_extract(), per frame and in bulk.

Every execute parses every frame, with the checks ``conn_key_extract()``
makes on a packet whose checksums no NIC has verified (ovstest's case): the
IPv4 header checksum, IPv4 fragments, the L4 lengths and checksums (a zero UDP
checksum over IPv4 means "none"), and port 0, which is invalid.

Three entry points give the same key for the same frame:

- :func:`explain_frame` parses any frame and says why an invalid one is
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
    TCP_HEADER,
    UDP_HEADER,
    checksum_ok,
    pseudo_header,
)


class Parsed(NamedTuple):
    """What conntrack takes from a valid frame."""

    key: ConnKey
    proto: int
    tcp_flags: int


# Why a frame is invalid (conntrack only says +inv; ctbench keeps the reason).
TRUNCATED: Final = "truncated"
BAD_L3: Final = "bad IP header"
BAD_IP_CHECKSUM: Final = "bad IPv4 header checksum"
FRAGMENT: Final = "IPv4 fragment"
BAD_L4: Final = "bad L4 header or length"
BAD_L4_CHECKSUM: Final = "bad L4 checksum"
PORT_ZERO: Final = "port 0"
NOT_ECHO: Final = "ICMP other than echo"
UNSUPPORTED_L3: Final = "not IPv4 or IPv6"
UNSUPPORTED_L4: Final = "protocol not tracked"
INVALID_REASONS: Final = (
    TRUNCATED,
    BAD_L3,
    BAD_IP_CHECKSUM,
    FRAGMENT,
    BAD_L4,
    BAD_L4_CHECKSUM,
    PORT_ZERO,
    NOT_ECHO,
    UNSUPPORTED_L3,
    UNSUPPORTED_L4,
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
        # The header's ten words sum to 0xFFFF: the header is 0 modulo
        # 0xFFFF (see ctbench.packets.ones_complement_residue).
        and not int.from_bytes(frame[14:34], "big") % 0xFFFF
    ):
        return frame[UDP4_KEY_START:UDP4_KEY_END] + suffix
    return None


def _l4(
    proto: int,
    l4: bytes,
    pseudo: bytes,
    src: int,
    dst: int,
    dl_type: int,
    zone: int,
) -> Parsed | str:
    """OVS's extract_l4(): check_l4_*() (lengths, checksums), then
    extract_l4_*().  ``pseudo`` is the checksum pseudo-header."""
    if proto == IPPROTO_UDP:
        if len(l4) < UDP_HEADER.size:
            return TRUNCATED
        sport, dport, udp_len, csum = UDP_HEADER.unpack_from(l4)
        if udp_len < UDP_HEADER.size or udp_len > len(l4):
            return BAD_L4
        # check_l4_udp(): a zero checksum means "none", over IPv4 only.
        if (csum or dl_type != ETH_TYPE_IP) and not checksum_ok(pseudo, l4):
            return BAD_L4_CHECKSUM
        if not sport or not dport:
            return PORT_ZERO  # extract_l4_udp(): port 0 is invalid
        return Parsed(make_key(src, dst, sport, dport, dl_type, zone, proto), proto, 0)
    if proto == IPPROTO_TCP:
        if len(l4) < TCP_HEADER.size:
            return TRUNCATED
        sport, dport, _, _, offset, flags, *_ = TCP_HEADER.unpack_from(l4)
        if (offset >> 4) * 4 < TCP_HEADER.size or (offset >> 4) * 4 > len(l4):
            return BAD_L4
        if not checksum_ok(pseudo, l4):
            return BAD_L4_CHECKSUM  # check_l4_tcp()
        if not sport or not dport:
            return PORT_ZERO  # extract_l4_tcp()
        key = make_key(src, dst, sport, dport, dl_type, zone, proto)
        return Parsed(key, proto, flags)
    v4_icmp = proto == IPPROTO_ICMP and dl_type == ETH_TYPE_IP
    if v4_icmp or (proto == IPPROTO_ICMPV6 and dl_type == ETH_TYPE_IPV6):
        # check_l4_icmp() sums the message alone, check_l4_icmp6() with the
        # pseudo-header; both need 8 bytes (extract_l4_icmp*()).
        if len(l4) < ICMP_ECHO.size:
            return TRUNCATED
        if not checksum_ok(b"" if v4_icmp else pseudo, l4):
            return BAD_L4_CHECKSUM
        icmp_type, code, _, ident, _ = ICMP_ECHO.unpack_from(l4)
        reverse = ICMP_REVERSE if v4_icmp else ICMP6_REVERSE
        rev_type = reverse.get(icmp_type)
        if rev_type is None or code:
            # Errors would be "related" traffic; ctbench models echo only.
            # An echo with a nonzero code is invalid in OVS.
            return NOT_ECHO
        sport = (icmp_type << 24) | (code << 16) | ident
        dport = (rev_type << 24) | (code << 16) | ident
        return Parsed(make_key(src, dst, sport, dport, dl_type, zone, proto), proto, 0)
    return UNSUPPORTED_L4


def explain_frame(frame: bytes, zone: int) -> Parsed | str:
    """The frame's key, or the reason conntrack would call it invalid.

    Never raises on malformed input: truncated headers, bad lengths,
    fragments and unknown protocols all give a reason.
    """
    if len(frame) < ETH_HEADER.size:
        return TRUNCATED
    dl_type = ETH_HEADER.unpack_from(frame)[2]
    l3 = frame[ETH_HEADER.size :]
    if dl_type == ETH_TYPE_IP:
        if len(l3) < IPV4_HEADER.size:
            return TRUNCATED
        vihl, _, total, _, frag, _, proto, _, src, dst = IPV4_HEADER.unpack_from(l3)
        ihl = (vihl & 0x0F) * 4
        if vihl >> 4 != 4 or ihl < IPV4_HEADER.size or total < ihl:
            return BAD_L3
        if total > len(l3):
            return TRUNCATED
        if not checksum_ok(l3[:ihl]):
            return BAD_IP_CHECKSUM
        if frag & 0x3FFF:
            return FRAGMENT
        l4 = l3[ihl:total]
        pseudo = pseudo_header(dl_type, l3[12:16], l3[16:20], proto, len(l4))
        return _l4(proto, l4, pseudo, src, dst, dl_type, zone)
    if dl_type == ETH_TYPE_IPV6:
        if len(l3) < IPV6_HEADER.size:
            return TRUNCATED
        vtc, payload_len, proto, _, src6, dst6 = IPV6_HEADER.unpack_from(l3)
        if vtc >> 28 != 6:
            return BAD_L3
        if IPV6_HEADER.size + payload_len > len(l3):
            return TRUNCATED
        l4 = l3[IPV6_HEADER.size : IPV6_HEADER.size + payload_len]
        src = int.from_bytes(src6, "big")
        dst = int.from_bytes(dst6, "big")
        pseudo = pseudo_header(dl_type, src6, dst6, proto, len(l4))
        return _l4(proto, l4, pseudo, src, dst, dl_type, zone)
    return UNSUPPORTED_L3


def parse_frame(frame: bytes, zone: int) -> Parsed | None:
    """The frame's key, or None for a frame conntrack calls invalid."""
    parsed = explain_frame(frame, zone)
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
    # The IPv4 header checksum: its ten words sum to 0xFFFF with end-around
    # carry.  Summed as little-endian 32-bit words and folded, the sum is the
    # byte-swapped one (RFC 1071, 2.(B)), and 0 or 0xFFFF either way.
    words = raw[:, 14:34].view(np.uint32)
    total_sum = words[:, 0].astype(np.uint64)
    for i in range(1, 5):
        total_sum += words[:, i]
    total_sum = (total_sum & 0xFFFFFFFF) + (total_sum >> 32)
    total_sum = (total_sum & 0xFFFF) + (total_sum >> 16)
    total_sum = (total_sum & 0xFFFF) + (total_sum >> 16)
    fast &= (total_sum == 0) | (total_sum == 0xFFFF)
    keys = np.empty((n, IPV4_PORTS_LEN), np.uint8)
    keys[:, : UDP4_KEY_END - UDP4_KEY_START] = raw[:, UDP4_KEY_START:UDP4_KEY_END]
    keys[:, UDP4_KEY_END - UDP4_KEY_START :] = np.frombuffer(
        zone_suffix(zone, IPPROTO_UDP), np.uint8
    )
    return fast, keys
